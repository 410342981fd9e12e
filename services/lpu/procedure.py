"""Unpaid community work (lavoro di pubblica utilità) as a procedure: what the shared code runs
of it. Enabled by its line in `misure.toml`. So far: the legal forms as dated data and the
conversion of penalties into days and hours (`misure lpu convert`, `misure lpu forms`), the
host entities' conventions (kind `lpu_convention`: at most five years, a renewal notice 60 days
before the end, expired at its last day) and the placements (kind `lpu_placement`) with their
attendance register and the seats of their convention. Its own CLI commands per actor, the
court's orders through the API and the notices of breach and revocation follow."""

from __future__ import annotations

from pathlib import Path

from machines.lpu.convention import MACHINE as CONVENTION
from machines.lpu.placement import MACHINE as PLACEMENT
from services.lpu import actors, effects, facts, notices
from services.procedure import Procedure

PROCEDURE = Procedure(
    name="lpu",
    machines=(CONVENTION, PLACEMENT),
    effects={
        CONVENTION.kind: effects.CONVENTION_EFFECTS,
        PLACEMENT.kind: effects.PLACEMENT_EFFECTS,
    },
    facts={PLACEMENT.kind: facts.placement_facts},
    summaries={
        CONVENTION.kind: facts.convention_summary,
        PLACEMENT.kind: facts.placement_summary,
    },
    notice_context={
        CONVENTION.kind: notices.convention_context,
        PLACEMENT.kind: notices.placement_context,
    },
    templates=notices.TEMPLATES,
    announces=(effects.COMMUNITY_WORK_DAY,),
    reactions=effects.REACTIONS,
    tables=("storage.lpu.models",),
    migrations=Path(__file__).resolve().parents[2] / "storage" / "lpu" / "migrations",
    cli="cli.lpu.commands:register",
    deployments=Path(__file__).resolve().parents[2] / "flows" / "lpu" / "prefect.yaml",
    api="api.lpu.routes:router",
    token_roles=actors.TOKEN_ROLES,
)

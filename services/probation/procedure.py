"""Probation with suspension of the trial (messa alla prova) as a procedure: what the shared
code runs of it. Enabled by its line in `misure.toml`. So far: the rules as dated data
(`machines/probation/law.py`), the machine (kind `probation`), the person's earlier probations
by a pseudonymous key, the programme's versions, the LPU part's days from community work's
attendance register (topic `community_work_day`), its end on revocation (topic
`probation_ended`), the judge's orders through the API (`services/orders.py`), the notices
(`services/probation/notices.py`, `documents/templates/probation/`). The dashboard per UEPE
follows."""

from __future__ import annotations

from pathlib import Path

from machines.probation.machine import MACHINE
from services.probation import effects, facts, notices
from services.procedure import Procedure

PROCEDURE = Procedure(
    name="probation",
    machines=(MACHINE,),
    effects={MACHINE.kind: effects.EFFECTS},
    facts={MACHINE.kind: facts.probation_facts},
    summaries={MACHINE.kind: facts.probation_summary},
    notice_context={MACHINE.kind: notices.probation_context},
    templates=notices.TEMPLATES,
    announces=(effects.PROBATION_ENDED,),
    reactions=effects.REACTIONS,
    tables=("storage.probation.models",),
    migrations=Path(__file__).resolve().parents[2] / "storage" / "probation" / "migrations",
    api="api.probation.routes:router",
    cli="cli.probation.commands:register",
    deployments=Path(__file__).resolve().parents[2] / "flows" / "probation" / "prefect.yaml",
)

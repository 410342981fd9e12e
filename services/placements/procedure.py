"""Funded residential placements (D.M. 128/2025 arts. 11-14) as a procedure: what the shared
code runs of it. Enabled by its line in `misure.toml`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from machines.placements import MACHINE
from services.context import Context
from services.placements import effects, facts, notices, reallocation, register
from services.procedure import Procedure, SignalHandler

# The configuration that runs this procedure alone (the simulation, the benchmarks, tests).
MODULES = (__name__,)


def _reallocate(ctx: Context) -> list[dict[str, Any]]:
    return [reallocation.attested_row(a) for a in reallocation.reallocate_signalled(ctx).attested]


PROCEDURE = Procedure(
    name="placements",
    machines=(MACHINE,),
    effects={MACHINE.kind: effects.EFFECTS},
    facts={MACHINE.kind: facts.facts},
    summaries={MACHINE.kind: facts.summary},
    notice_context={MACHINE.kind: notices.placement_context},
    templates=notices.TEMPLATES,
    signals={
        reallocation.TOPIC: SignalHandler(
            "reallocate-freed-places/reallocate-freed-places",
            _reallocate,
            "posti liberati riassegnati in ordine di protocollo",
        )
    },
    reactions=register.REACTIONS,
    tables=("storage.placements.models",),
    cli="cli.placements.commands:register",
    api="api.placements.routes:router",
    deployments=Path(__file__).resolve().parents[2] / "flows" / "placements" / "prefect.yaml",
    demo="services.placements.simulation:demo",
)

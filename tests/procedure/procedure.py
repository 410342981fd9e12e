"""The test procedure's one declaration: enabled by adding this module to MISURE_PROCEDURES."""

from __future__ import annotations

from pathlib import Path

from services.procedure import Procedure
from tests.procedure import services
from tests.procedure.machine import MACHINE

HERE = Path(__file__).resolve().parent

PROCEDURE = Procedure(
    name="permits",
    machines=(MACHINE,),
    effects={MACHINE.kind: {"open": services.opened, "grant": services.granted}},
    notice_context={MACHINE.kind: services.notice_context},
    templates=HERE / "templates",
    tables=("tests.procedure.tables",),
    migrations=HERE / "migrations",
    cli="tests.procedure.entry:register",
    api="tests.procedure.entry:router",
)

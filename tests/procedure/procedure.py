"""The test procedure's one declaration: enabled by adding this module to MISURE_PROCEDURES."""

from __future__ import annotations

from pathlib import Path

from services.procedure import NoticeType, Procedure
from tests.procedure import services
from tests.procedure.machine import MACHINE

HERE = Path(__file__).resolve().parent

PROCEDURE = Procedure(
    name="permits",
    machines=(MACHINE,),
    effects={MACHINE.kind: {"open": services.opened, "grant": services.granted}},
    notice_context={MACHINE.kind: services.notice_context},
    templates=HERE / "templates",
    notices={"permesso": NoticeType("Concessione del permesso di prova", ("office",))},
    tables=("tests.procedure.tables",),
    migrations=HERE / "migrations",
    cli="tests.procedure.entry:register",
    api="tests.procedure.entry:router",
)

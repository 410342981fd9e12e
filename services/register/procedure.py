"""The register of residential facilities (D.M. 128/2025 arts. 3-10) as a procedure: what the
shared code runs of it. Enabled by its line in `misure.toml`. It announces each facility's
standing on `facility_standing` and each visit's presence checks on `presence_checked`: the
procedures that place people in facilities react to them in the same transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from machines.register import CANCELLATION, FACILITY, FACILITY_STANDING
from services.context import Context
from services.procedure import Procedure, SignalHandler
from services.register import demo, effects, facts, notices, publication


def _republish(ctx: Context) -> list[dict[str, Any]]:
    record = publication.republish_signalled(ctx, "variazione dell'elenco (art. 3 co. 6)")
    return [] if record is None else [{"publication": record.id, "entries": record.entries}]


PROCEDURE = Procedure(
    name="register",
    machines=(FACILITY, CANCELLATION),
    effects={
        FACILITY.kind: effects.FACILITY_EFFECTS,
        CANCELLATION.kind: effects.CANCELLATION_EFFECTS,
    },
    facts={FACILITY.kind: facts.facility_facts, CANCELLATION.kind: facts.cancellation_facts},
    summaries={
        FACILITY.kind: facts.facility_summary,
        CANCELLATION.kind: facts.cancellation_summary,
    },
    notice_context={
        FACILITY.kind: notices.register_context,
        CANCELLATION.kind: notices.register_context,
    },
    templates=notices.TEMPLATES,
    announces=(FACILITY_STANDING, effects.PRESENCE_CHECKED),
    signals={
        publication.REPUBLISH_TOPIC: SignalHandler(
            "publish-register/publish-register-on-change", _republish, "elenco ripubblicato"
        )
    },
    provides={demo.ENROL_DEMO_FACILITIES: demo.enrol_demo_facilities},
    tables=("storage.register.models",),
    migrations=Path(__file__).resolve().parents[2] / "storage" / "register" / "migrations",
    cli="cli.register.commands:register",
    demo="services.register.demo:demo",
    deployments=Path(__file__).resolve().parents[2] / "flows" / "register" / "prefect.yaml",
)

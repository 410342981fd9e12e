"""The register of residential facilities (D.M. 128/2025 arts. 3-10) as a procedure: what the
shared code runs of it. Enabled by its line in `misure.toml`. It announces each facility's
standing on `facility_standing` and each visit's presence checks on `presence_checked`: the
procedures that place people in facilities react to them in the same transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from machines.register import CANCELLATION, FACILITY, FACILITY_STANDING
from services.context import Context
from services.procedure import NoticeType, Procedure, SignalHandler
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
    # Every act of the register goes to the operator, at its facility (D.M. 128/2025 arts. 3-5,
    # art. 10-bis L. 241/1990).
    notices={
        "preavviso_rigetto": NoticeType(
            "Comunicazione dei motivi ostativi all'accoglimento della manifestazione di "
            "interesse all'iscrizione nell'elenco delle strutture residenziali "
            "(art. 10-bis L. 241/1990)",
            ("facility",),
        ),
        "iscrizione": NoticeType(
            "Iscrizione nell'elenco delle strutture residenziali (art. 3 co. 4 D.M. 128/2025)",
            ("facility",),
        ),
        "rigetto": NoticeType(
            "Rigetto della manifestazione di interesse all'iscrizione nell'elenco delle "
            "strutture residenziali (art. 3 co. 4 D.M. 128/2025; art. 10-bis L. 241/1990)",
            ("facility",),
        ),
        "prescrizione": NoticeType(
            "Prescrizione per il corretto svolgimento dei servizi della struttura residenziale "
            "(artt. 5 co. 1 lett. d, 7 e 10 D.M. 128/2025)",
            ("facility",),
        ),
        "invito_chiarimenti": NoticeType(
            "Avvio del procedimento di cancellazione dall'elenco delle strutture residenziali "
            "e invito a fornire chiarimenti (art. 5 co. 2 D.M. 128/2025)",
            ("facility",),
        ),
        "archiviazione": NoticeType(
            "Archiviazione del procedimento di cancellazione dall'elenco delle strutture "
            "residenziali (art. 5 co. 3 D.M. 128/2025)",
            ("facility",),
        ),
        "contestazione": NoticeType(
            "Contestazione formale nel procedimento di cancellazione dall'elenco delle "
            "strutture residenziali (art. 5 co. 3 D.M. 128/2025)",
            ("facility",),
        ),
        "cancellazione": NoticeType(
            "Cancellazione dall'elenco delle strutture residenziali (art. 5 co. 4-5 D.M. 128/2025)",
            ("facility",),
        ),
        "sospensione": NoticeType(
            "Sospensione dall'elenco delle strutture residenziali (art. 5 co. 6 D.M. 128/2025)",
            ("facility",),
        ),
        "revoca_sospensione": NoticeType(
            "Revoca della sospensione dall'elenco delle strutture residenziali (art. 5 co. 6 "
            "D.M. 128/2025)",
            ("facility",),
        ),
    },
    announces=(FACILITY_STANDING, effects.PRESENCE_CHECKED),
    signals={
        publication.REPUBLISH_TOPIC: SignalHandler(
            "publish-register/publish-register-on-change", _republish, "elenco ripubblicato"
        )
    },
    provides={demo.ENROL_DEMO_FACILITIES: demo.enrol_demo_facilities},
    tables=("storage.register.models",),
    migrations=Path(__file__).resolve().parents[2] / "storage" / "register" / "migrations",
    cli="cli.register:mount",
    demo="services.register.demo:demo",
    deployments=Path(__file__).resolve().parents[2] / "flows" / "register" / "prefect.yaml",
)

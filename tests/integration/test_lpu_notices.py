"""The notices of an LPU placement rendered through the real notice path (outbox -> document),
on SQLite and PostgreSQL with an injected clock: the host entity's availability declaration to
the court named in it (art. 54 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001; seed 003, point 2),
and the coordinator's final report, in time and late (seed 003, point 4). The report's note is
private: in the notice to the court, never in an event's payload nor in an outbox message."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from machines.calendar import ROME
from services import engine, notices, timers
from services.clock import FixedClock
from services.context import Context
from services.errors import GuardFailed
from services.records import DocumentRecord
from storage.models import CaseEvent, OutboxMessage
from tests.integration.test_lpu_conventions import LPU
from tests.integration.test_lpu_placements import (
    ENTITY,
    JUDGE,
    MONDAY,
    RECEPTION,
    convention,
    session,
    state,
)
from tests.support.official import Addressee

COURT = "Giudice di pace di Torino"
TO_COURT = Addressee("court", COURT).printed()
TO_ENTITY = Addressee("host_entity", "Comune di Torino").printed()
OFFICE = notices.Office("Tribunale di Torino – Ufficio per il lavoro di pubblica utilità", "Torino")
DECLARATION: dict[str, Any] = {
    "form": "D",
    "offence": "art. 582 c.p.",
    "activities": ["manutenzione del verde pubblico", "biblioteca civica"],
    "slots": [
        {"weekday": 5, "start": "09:00", "end": "12:00"},
        {"weekday": 2, "start": "15:00", "end": "18:00"},
    ],
    "signed_by_representative": True,
    "interview_held": True,
    "declared_on": "2026-02-02",
    "court": COURT,
}
NOTE = "Nota riservata del coordinatore: puntuale, nessun richiamo."


@pytest.fixture
def lctx(db: Engine) -> Context:
    return Context.build(db, FixedClock(MONDAY), LPU)


def opened(ctx: Context, agreement: str, **changes: Any) -> str:
    """A declaration opened and transmitted to the court. The transmission is the opening's
    follow-up (`transmit`, fired by the system under the key `Applied.then` gives it): fired
    here the same way, it is one change whether or not the opening already fired it."""
    done = engine.open_case(
        ctx, "lpu_placement", ENTITY, {**DECLARATION, "convention": agreement, **changes}
    )
    key = f"transmit:{done.reference}:after:{done.event_id}"
    engine.fire(ctx, done.reference, "transmit", "sistema", {}, key)
    return done.reference


def completed(ctx: Context, agreement: str) -> str:
    """A placement of form S (2 hours owed) whose register reached them on Monday 2 March."""
    reference = opened(ctx, agreement, form="S")
    engine.fire(
        ctx, reference, "sentenced", JUDGE,
        {"owed_days": 1, "owed_hours": 2, "decided_on": "2026-02-10", "file_number": "123/2026"},
    )  # fmt: skip
    engine.fire(ctx, reference, "final", JUDGE, {"final_on": "2026-02-25"})
    engine.fire(ctx, reference, "receive", ENTITY, {**RECEPTION, "coordinator": "responsabile"})
    engine.fire(ctx, reference, "attend", ENTITY, session("2026-03-02", "09:00", "11:00"))
    assert state(ctx, reference) == "completed"
    return reference


def pdf_text(document: DocumentRecord) -> str:
    pages = PdfReader(BytesIO(document.pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def rendered(ctx: Context, reference: str, template: str) -> tuple[DocumentRecord, str]:
    """The case's document of `template` (after rendering what is pending) and its PDF text on
    one line."""
    report = notices.render_pending_notices(ctx, OFFICE)
    assert report.failed == 0, report.errors
    (document,) = [d for d in notices.document_for(ctx, reference) if d.template == template]
    return document, pdf_text(document)


def trail(ctx: Context, reference: str) -> str:
    """Every event payload and outbox message of the case, as stored, in one text."""
    with ctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        assert case is not None
        case_id = case.id
    with ctx.db.connect() as connection:
        events = connection.execute(
            select(CaseEvent.payload).where(CaseEvent.case_id == case_id)
        ).scalars()
        messages = connection.execute(
            select(OutboxMessage.payload).where(OutboxMessage.case_id == case_id)
        ).scalars()
        return json.dumps([*events, *messages], ensure_ascii=False)


def test_the_declaration_goes_to_the_court_named_in_it_once(lctx: Context) -> None:
    agreement = convention(lctx)
    placement = opened(lctx, agreement)
    assert state(lctx, placement) == "declared"  # the transmission keeps the case where it is
    # sent again, as the opening's follow-up: the same change, not a second notice
    key = f"transmit:{placement}:after:{engine.describe(lctx, placement).history[0].id}"
    assert engine.fire(lctx, placement, "transmit", "sistema", {}, key).replayed
    with pytest.raises(GuardFailed) as again:
        engine.fire(lctx, placement, "transmit", ENTITY)
    assert f"già stata trasmessa a {COURT}" in str(again.value)

    document, text = rendered(lctx, placement, "dichiarazione_disponibilita")
    assert "Dichiarazione di disponibilità" in text
    assert placement in text and agreement in text and "Comune di Torino" in text
    # the court named in it, then the entity that declared it; issued by the UEPE of the
    # province where the work is done, dated the day it was transmitted
    assert f"Destinatari {TO_COURT} {TO_ENTITY} Oggetto:" in text
    assert "UEPE DI TORINO" in text and "Prot. n. UEPE-TORINO/2026/0000001 del 02/03/2026" in text
    assert "Torino, 2 marzo 2026" in text
    assert "forma D" in text and "art. 54 d.lgs. 274/2000" in text  # the form's law
    assert "art. 582 c.p." in text
    assert "manutenzione del verde pubblico" in text and "biblioteca civica" in text
    # the slots, Monday first, with Italian weekday names
    assert text.index("mercoledì, dalle 15:00 alle 18:00") < text.index(
        "sabato, dalle 09:00 alle 12:00"
    )
    assert "2 febbraio 2026" in text
    assert "firmata dal legale rappresentante" in text and "svolto prima della" in text
    assert "art. 2 D.M. 26 marzo 2001" in text and "seme 003" in text
    assert "Il funzionario incaricato" in text  # a clerk signs it
    assert [d.template for d in notices.document_for(lctx, placement)] == [
        "dichiarazione_disponibilita"
    ]
    assert document.sha256


def test_a_declaration_without_slots_says_they_are_to_be_agreed(lctx: Context) -> None:
    placement = opened(lctx, convention(lctx), slots=[], interview_held=False, form="H")
    _, text = rendered(lctx, placement, "dichiarazione_disponibilita")
    assert "non indicate: da concordare all’accoglienza" in text
    assert "non svolto (consigliato, non obbligatorio)" in text
    assert "art. 186 co. 9-bis C.d.S." in text


def test_the_final_report_in_time_goes_to_the_court_with_its_note(lctx: Context) -> None:
    placement = completed(lctx, convention(lctx))
    report = {"reported_on": "2026-03-02", "regular": True, "note": NOTE}
    assert engine.fire(lctx, placement, "report", "coordinatore", report).to_state == "closed"

    _, text = rendered(lctx, placement, "relazione_conclusiva")
    assert "Relazione conclusiva sul lavoro di pubblica utilità" in text
    assert placement in text and f"Destinatari {TO_COURT} Oggetto:" in text
    assert "forma S" in text and "art. 56-bis L. 689/1981" in text
    assert "LAVORO SVOLTO REGOLARMENTE" in text
    assert "Ore dovute 2" in text and "Ore riconosciute dal registro presenze 2" in text
    assert "Ore residue 0" in text and "Sessioni annotate nel registro 1" in text
    assert "123/2026" in text and "10 febbraio 2026" in text and "2 marzo 2026" in text
    assert "entro il termine di 30 giorni" in text and "oltre il termine" not in text
    assert NOTE in text  # the note may reach the authority
    # ... but never the trail: the event keeps its digest, the messages only the template
    stored = trail(lctx, placement)
    assert NOTE not in stored and "puntuale" not in stored
    (event,) = [e for e in engine.describe(lctx, placement).history if e.trigger == "report"]
    assert event.payload["private"]["fields"] == ["note"]
    assert "note" not in {k for k in event.payload if k != "private"}


def test_a_late_final_report_is_taken_and_says_so(lctx: Context) -> None:
    clock = lctx.clock
    assert isinstance(clock, FixedClock)
    placement = completed(lctx, convention(lctx))
    clock.instant = datetime(2026, 4, 2, tzinfo=ROME)  # 00:00 after the 30th day (1 April)
    timers.sweep(lctx, clock.instant)
    assert state(lctx, placement) == "report_overdue"
    clock.instant += timedelta(days=3)
    report = {"reported_on": "2026-04-04", "regular": False, "note": NOTE}
    assert engine.fire(lctx, placement, "report", "coordinatore", report).to_state == "closed"

    _, text = rendered(lctx, placement, "relazione_conclusiva")
    assert "LAVORO SVOLTO NON REGOLARMENTE" in text and "non si è svolto regolarmente" in text
    assert "oltre il termine di 30 giorni" in text and "comunque acquisita" in text
    assert "non perentorio" in text  # the late variant's legal basis, on the notice
    assert "4 aprile 2026" in text and NOTE in text
    templates = sorted(d.template for d in notices.document_for(lctx, placement))
    assert templates == [
        "dichiarazione_disponibilita",
        "promemoria_relazione_conclusiva",
        "relazione_conclusiva",
        "sollecito_relazione_conclusiva",
    ]
    # the solicitation and the reminder carry nothing of the note; neither does the trail
    for document in notices.document_for(lctx, placement):
        if document.template != "relazione_conclusiva":
            assert "puntuale" not in pdf_text(document)
    assert NOTE not in trail(lctx, placement)


def test_a_report_without_a_note_has_no_observations(lctx: Context) -> None:
    placement = completed(lctx, convention(lctx))
    report = {"reported_on": "2026-03-02", "regular": True}
    engine.fire(lctx, placement, "report", "coordinatore", report)
    _, text = rendered(lctx, placement, "relazione_conclusiva")
    assert "Osservazioni del coordinatore" not in text
    assert "LAVORO SVOLTO REGOLARMENTE" in text

"""The notices of a probation rendered through the real notice path (outbox -> document), on
SQLite and PostgreSQL with an injected clock: the programme and the inquiry sent to the judge
(art. 464-bis co. 4 c.p.p.; art. 141-ter disp. att. c.p.p.), the periodic report's reminder,
solicitation and covering letter (with the next due date), the revocation hearing's notice to
the parties and the victim (art. 464-octies co. 2 c.p.p.), the revocation with the days served
and their worth (art. 657-bis c.p.p.), the final report with the LPU days planned and done, and
the outcome, positive (art. 168-ter c.p.) or negative (art. 464-septies co. 2 c.p.p.). The
person is only the case's reference; the programme's details reach the judge's notice, never
the trail nor another notice."""

from __future__ import annotations

import json
import re
from datetime import datetime
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from machines.calendar import ROME
from machines.probation.machine import MACHINE
from services import engine, notices, timers
from services.clock import FixedClock
from services.context import Context
from services.probation.notices import TEMPLATES
from services.records import DocumentRecord
from storage.models import CaseEvent, OutboxMessage
from tests.integration.test_probation import (
    BOTH,
    JUDGE,
    PROBATION,
    PROGRAMME,
    REQUEST,
    START,
    UEPE,
    at,
    lpu_part,
    running,
    state,
)
from tests.support.official import Addressee

OFFICE = notices.Office("Ufficio di esecuzione penale esterna di Torino", "Torino")
PERSON = REQUEST["person_key"]
DETAILS = "Riservato: risarcimento alla persona offesa Mario Bianchi, via Roma 1."
FIRST_DETAILS = "Riservato: prima stesura, superata."
TO_COURT = Addressee("court", JUDGE).printed()


@pytest.fixture
def pctx(db: Engine) -> Context:
    return Context.build(db, FixedClock(START), PROBATION)


@pytest.fixture
def bctx(db: Engine) -> Context:
    """Probation with community work: its LPU part's days come from a placement's register."""
    return Context.build(db, FixedClock(START), BOTH)


def pdf_text(document: DocumentRecord) -> str:
    """The PDF's text on one line; a line broken after a hyphen ("464-" / "octies") joined."""
    pages = PdfReader(BytesIO(document.pdf)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


def render(ctx: Context) -> None:
    report = notices.render_pending_notices(ctx, OFFICE)
    assert report.failed == 0, report.errors


def texts(ctx: Context, reference: str, template: str) -> list[str]:
    """The PDF text of each of the case's documents of `template`, oldest first (after
    rendering what is pending)."""
    render(ctx)
    found = [d for d in notices.document_for(ctx, reference) if d.template == template]
    assert found, f"no {template} for {reference}"
    return [pdf_text(document) for document in found]


def all_texts(ctx: Context, reference: str) -> str:
    render(ctx)
    return " ".join(pdf_text(d) for d in notices.document_for(ctx, reference))


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


def ended_after(ctx: Context, reference: str, positive: bool, **report: Any) -> str:
    """`reference` (one month from 2 March 2026) to its final report on 20 April, the final
    hearing on 5 May."""
    at(ctx, datetime(2026, 4, 3, tzinfo=ROME))
    timers.sweep(ctx, ctx.clock.now())
    assert state(ctx, reference) == "period_ended"
    engine.fire(
        ctx, reference, "set_hearing", JUDGE, {"hearing_on": "2026-05-05", "set_on": "2026-04-03"}
    )
    at(ctx, datetime(2026, 4, 20, 12, 0, tzinfo=ROME))
    engine.fire(
        ctx, reference, "file_final_report", UEPE,
        {"reported_on": "2026-04-20", "positive": positive, **report},
    )  # fmt: skip
    at(ctx, datetime(2026, 5, 5, 12, 0, tzinfo=ROME))
    return reference


def test_every_notice_the_machine_names_has_its_template() -> None:
    named = {notice for t in MACHINE.transitions for notice in t.notices}
    named |= {reminder.notice for reminder in MACHINE.reminders}
    assert named == {
        "programma_al_giudice", "relazione_periodica", "sollecito_relazione_periodica",
        "promemoria_relazione_periodica", "relazione_finale", "avviso_udienza_revoca",
        "revoca_messa_alla_prova", "esito_messa_alla_prova",
    }  # fmt: skip
    for notice in named:
        assert (TEMPLATES / f"{notice}.html").is_file(), notice


def test_the_programme_goes_to_the_judge_with_its_details_and_no_person(pctx: Context) -> None:
    opened = {**REQUEST, "file_number": "1234/2026 R.G.N.R."}
    reference = engine.open_case(pctx, "probation", UEPE, opened).reference
    engine.fire(pctx, reference, "inquire", UEPE, {"started_on": "2026-02-10"})
    engine.fire(pctx, reference, "draft", UEPE, {**PROGRAMME, "details": FIRST_DETAILS})
    second = {
        **PROGRAMME, "components": ["lpu", "compensation", "prescriptions"], "lpu_days": 15,
        "lpu_hours_per_day": "2.5", "lpu_entity": "Comune di Torino", "details": DETAILS,
    }  # fmt: skip
    engine.fire(pctx, reference, "draft", UEPE, second)
    sending = {"sent_on": "2026-03-02", "consent": True, "entity_adherence": True}
    engine.fire(pctx, reference, "send", UEPE, sending)

    (text,) = texts(pctx, reference, "programma_al_giudice")
    assert "Trasmissione del programma di trattamento" in text
    assert f"pratica n. {reference} (procedimento n. 1234/2026 R.G.N.R.), il programma" in text
    # to the judge alone, from the UEPE the request names, dated the day it was sent
    assert f"Destinatari {TO_COURT} Oggetto:" in text
    assert "UEPE DI TORINO" in text and "Torino, 2 marzo 2026" in text
    assert "art. 464-bis co. 4 c.p.p." in text and "art. 141-ter" in text
    assert "art. 624 c.p." in text and "pena detentiva massima di 36 mesi" in text
    assert "1 febbraio 2026" in text and "10 febbraio 2026" in text and "2 marzo 2026" in text
    # the second version, its components in Italian, its LPU part
    assert "versione 2, redatta dall’UEPE il 2 marzo 2026" in text
    assert "lavoro di pubblica utilità" in text
    assert "risarcimento del danno alla persona offesa" in text
    assert "prescrizioni su dimora, libertà di movimento" in text
    assert "condotte riparatorie" not in text  # only in the first version
    assert "15 giorni, 2,50 ore al giorno, presso Comune di Torino" in text
    assert "Consenso dell’imputato al programma prestato" in text
    assert "Adesione dell’ente ospitante acquisita" in text
    assert "almeno 10 giorni" in text and "art. 168-bis co. 3 c.p." in text
    # the details of the version sent reach the judge; the superseded ones do not
    assert DETAILS in text and FIRST_DETAILS not in text
    # the person only as the reference
    assert PERSON not in text
    stored = trail(pctx, reference)
    assert DETAILS not in stored and "Mario Bianchi" not in stored
    assert FIRST_DETAILS not in stored


def test_the_periodic_report_reminder_solicitation_and_covering_letters(pctx: Context) -> None:
    reference = running(pctx)  # signed on 2 March 2026, 12 months, reports every 3 months
    at(pctx, datetime(2026, 5, 24, tzinfo=ROME))
    timers.sweep(pctx, pctx.clock.now())
    (reminder,) = texts(pctx, reference, "promemoria_relazione_periodica")
    assert "Promemoria: relazione periodica" in reminder and reference in reminder
    assert "è attesa entro il 2 giugno 2026" in reminder and "art. 141-ter co. 5" in reminder
    assert "dalla sottoscrizione del verbale del 2 marzo 2026" in reminder
    assert "Cadenza delle relazioni 3 mesi" in reminder

    at(pctx, datetime(2026, 6, 3, tzinfo=ROME))
    timers.sweep(pctx, pctx.clock.now())
    (solicitation,) = texts(pctx, reference, "sollecito_relazione_periodica")
    assert "Sollecito: relazione periodica" in solicitation
    assert "è scaduto il 2 giugno 2026" in solicitation and "comunque acquisita" in solicitation
    assert "2 marzo 2027" in solicitation  # the period's last day

    at(pctx, datetime(2026, 6, 5, 12, 0, tzinfo=ROME))
    engine.fire(pctx, reference, "report", UEPE, {"reported_on": "2026-06-05"})
    at(pctx, datetime(2026, 8, 1, 12, 0, tzinfo=ROME))
    engine.fire(pctx, reference, "report", UEPE, {"reported_on": "2026-08-01"})
    late, in_time = texts(pctx, reference, "relazione_periodica")
    for text in (late, in_time):
        assert "Trasmissione della relazione periodica" in text and reference in text
        assert f"Destinatari {TO_COURT} Oggetto:" in text
        assert f"pratica n. {reference}, con la cadenza di 3 mesi" in text
        assert "art. 141-ter co. 5 disp. att. c.p.p." in text
        assert "Durata della prova 12 mesi" in text
        assert "Ultimo giorno del periodo di prova 2 marzo 2027" in text
        assert "Giorni di lavoro di pubblica utilità svolti 0 su 12" in text
        assert PERSON not in text
    assert "relazione periodica del 5 giugno 2026" in late
    assert "Prossima relazione entro il 5 settembre 2026" in late
    assert "dopo la scadenza del termine" in late
    assert "relazione periodica del 1 agosto 2026" in in_time
    assert "Prossima relazione entro il 1 novembre 2026" in in_time
    assert "dopo la scadenza" not in in_time


def test_the_last_report_of_the_period_announces_the_final_one(pctx: Context) -> None:
    reference = running(pctx, months=4)  # 2 March to 2 July 2026
    at(pctx, datetime(2026, 5, 20, 12, 0, tzinfo=ROME))
    engine.fire(pctx, reference, "report", UEPE, {"reported_on": "2026-05-20"})
    (text,) = texts(pctx, reference, "relazione_periodica")
    assert "il periodo di prova termina il 2 luglio 2026: seguirà la relazione finale" in text


def test_the_revocation_hearing_is_notified_then_the_revocation_shows_the_days_served(
    pctx: Context,
) -> None:
    reference = running(pctx)
    hearing = {
        "cause": "breach",
        "revocation_hearing_on": "2026-03-21",
        "notified_on": "2026-03-11",
    }
    at(pctx, datetime(2026, 3, 11, 12, 0, tzinfo=ROME))
    engine.fire(pctx, reference, "set_revocation_hearing", JUDGE, hearing)
    (notice,) = texts(pctx, reference, "avviso_udienza_revoca")
    assert "Avviso dell’udienza per la revoca" in notice and reference in notice
    # to the court (the judge notifies the parties and the victim, art. 464-octies co. 2); no
    # host entity: the programme names none
    assert f"Destinatari {TO_COURT} Oggetto:" in notice
    assert "grave o reiterata trasgressione al programma di trattamento" in notice
    assert "art. 168-quater n. 1 c.p." in notice
    assert "udienza del 21 marzo 2026" in notice and "Data dell’avviso 11 marzo 2026" in notice
    assert "10 giorni prima dell’udienza (almeno 10, art. 464-octies co. 2 c.p.p.)" in notice
    assert PERSON not in notice

    # a periodic report while the hearing is pending says so
    at(pctx, datetime(2026, 3, 15, 12, 0, tzinfo=ROME))
    engine.fire(pctx, reference, "report", UEPE, {"reported_on": "2026-03-15"})
    (report,) = texts(pctx, reference, "relazione_periodica")
    assert "È fissata l’udienza del 21 marzo 2026" in report
    assert "Prossima relazione entro il 15 giugno 2026" in report

    at(pctx, datetime(2026, 3, 21, 12, 0, tzinfo=ROME))
    engine.fire(
        pctx, reference, "revoke", JUDGE, {"decided_on": "2026-03-21", "file_number": "77/2026"}
    )
    (revoked,) = texts(pctx, reference, "revoca_messa_alla_prova")
    assert "Revoca della sospensione del procedimento con messa alla prova" in revoked
    assert "ordinanza del 21 marzo 2026" in revoked and "(procedimento n. 77/2026)" in revoked
    assert "grave o reiterata trasgressione" in revoked and "art. 464-octies co. 4" in revoked
    assert "Giorni di prova eseguiti 20" in revoked  # 2 to 21 March
    assert (
        "20 giorni di prova = 6 giorni di reclusione o arresto, ovvero EUR 1500.00 di multa o "
        "ammenda (3 giorni di prova = 1 giorno o EUR 250, art. 657-bis c.p.p.); 2 giorni "
        "residui, meno di 3, non sono computati"
    ) in revoked
    assert "Equivalenza in pena pecuniaria € 1.500,00" in revoked
    assert "Equivalenza in giorni di reclusione o arresto 6" in revoked
    assert PERSON not in all_texts(pctx, reference)


def test_a_positive_final_report_with_the_lpu_days_and_the_offence_extinguished(
    bctx: Context,
) -> None:
    reference = running(bctx, months=1, cadence=1)
    placement = lpu_part(bctx, reference)
    for day in (2, 3, 4):
        at(bctx, datetime(2026, 3, day, 18, 0, tzinfo=ROME))
        engine.fire(
            bctx, placement, "attend", "ente",
            {"day": f"2026-03-0{day}", "start": "09:00", "end": "10:00", "activity": "biblioteca",
             "signed_by_person": True, "signed_by_coordinator": True},
        )  # fmt: skip
    reason = "Ente chiuso per lavori; attività riparatorie svolte."
    reference = ended_after(bctx, reference, positive=True, lpu_shortfall_reason=reason)
    (text,) = texts(bctx, reference, "relazione_finale")
    assert "Trasmissione della relazione finale" in text and reference in text
    assert f"Destinatari {TO_COURT} Oggetto:" in text
    assert "relazione finale del 20 aprile 2026" in text
    assert "in vista dell’udienza del 5 maggio 2026" in text
    assert "VALUTAZIONE POSITIVA" in text and "valuta positivamente" in text
    assert "Giorni di lavoro di pubblica utilità previsti 12" in text
    assert "Giorni di lavoro di pubblica utilità svolti 3 (almeno 10, art. 168-bis co. 3 c.p.)" in (
        text
    )
    assert f"Motivo del minor numero di giorni {reason}" in text
    assert "Termine per il deposito 24 aprile 2026" in text  # 25 April is a holiday
    assert "entro il termine di dieci giorni" in text
    assert "dal 2 marzo 2026 al 2 aprile 2026 (1 mese)" in text

    engine.fire(bctx, reference, "extinguish", JUDGE, {"decided_on": "2026-05-05"})
    (outcome,) = texts(bctx, reference, "esito_messa_alla_prova")
    assert "Esito positivo della messa alla prova: estinzione del reato" in outcome
    assert "sentenza del 5 maggio 2026" in outcome and "dichiarato estinto il reato" in outcome
    assert "art. 168-ter co. 2 c.p." in outcome and "art. 464-septies co. 1 c.p.p." in outcome
    assert "ESITO POSITIVO – REATO ESTINTO" in outcome
    assert "Relazione finale dell’UEPE valutazione positiva" in outcome
    assert "657-bis" not in outcome  # nothing to deduct
    assert PERSON not in all_texts(bctx, reference)


def test_a_negative_outcome_resumes_the_trial_with_the_days_served(pctx: Context) -> None:
    reference = ended_after(pctx, running(pctx, months=1, cadence=1), positive=False)
    (report,) = texts(pctx, reference, "relazione_finale")
    assert "VALUTAZIONE NEGATIVA" in report and "Motivo del minor numero" not in report
    assert "Giorni di lavoro di pubblica utilità svolti 0" in report

    engine.fire(
        pctx, reference, "resume", JUDGE, {"decided_on": "2026-05-05", "file_number": "12/2026"}
    )
    (outcome,) = texts(pctx, reference, "esito_messa_alla_prova")
    assert "Esito negativo della messa alla prova: ripresa del processo" in outcome
    assert "ordinanza del 5 maggio 2026" in outcome and "Procedimento 12/2026" in outcome
    assert "il processo riprenda il suo corso (art. 464-septies co. 2 c.p.p.)" in outcome
    assert f"Destinatari {TO_COURT} Oggetto:" in outcome
    assert "Giorni di prova eseguiti 32" in outcome  # 2 March to 2 April, the period's end
    assert "32 giorni di prova = 10 giorni di reclusione o arresto, ovvero EUR 2500.00" in outcome
    assert "Equivalenza in pena pecuniaria € 2.500,00" in outcome
    assert "Relazione finale dell’UEPE valutazione negativa" in outcome
    assert PERSON not in all_texts(pctx, reference)

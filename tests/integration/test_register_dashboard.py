"""The register's dashboard (D.M. 128/2025 arts. 3-10) on SQLite and PostgreSQL with an injected
clock: facilities by section, a cancellation procedure with its running term, the applications
to decide, and the incidents: a register never published (art. 3 co. 6), a prescription past its
deadline with no outcome (art. 5 co. 1 d), a facility not visited as often as the guidelines ask
(art. 10 co. 2)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from machines.calendar import rome_date
from services import engine
from services.clock import FixedClock
from services.context import Context
from services.errors import InvalidInput
from services.register import actors, dashboard, publication
from tests.conftest import START

REGISTER = ("services.register.procedure",)
UNIT = "Nucleo di polizia penitenziaria dell'UIEPE di Roma"

# A public body's facility meeting every requirement of arts. 6-7 (no art. 8 co. 2 people).
SUITABLE: dict[str, Any] = {
    "operator_type": "a",
    "structure_type": "community",
    "housing_suitable": True,
    "hygiene_suitable": True,
    "residence_registration": True,
    "accommodation": True,
    "personal_assistance": True,
    "reintegration": True,
    "filed_on": "2026-02-20",
}


@pytest.fixture
def rctx(db: Engine) -> Context:
    """The register alone, on a database migrated with every branch (tests/conftest.py)."""
    return Context.build(db, FixedClock(START), REGISTER)


def clock(ctx: Context) -> FixedClock:
    assert isinstance(ctx.clock, FixedClock)
    return ctx.clock


def today(ctx: Context) -> date:
    return rome_date(ctx.clock.now())


def facility(code: str, section: str) -> dict[str, Any]:
    return {
        **SUITABLE,
        "code": code,
        "name": f"Comunità {code}",
        "operator": f"Comune gestore di {code}",
        "address": f"Via {code} 1",
        "section": section,
        "places": 4,
    }


def the_register(ctx: Context) -> dict[str, str]:
    """On 2 March 2026: A (Lazio) registered and never visited; B (Lazio) registered and
    visited on 30 April; C (Piemonte) registered, prescribed to comply by 20 March and no
    outcome recorded; D (Piemonte) registered, its cancellation procedure invited and received
    on 1 May (the 30 days for clarifications running); F (Lazio) cancelled (its operator gave
    up); E (Campania) only filed. The dashboard looks on 1 May 2026."""
    cases = {name: actors.enrol(ctx, facility(f"FAC-{name}", section)) for name, section in
             (("A", "Lazio"), ("B", "Lazio"), ("C", "Piemonte"), ("D", "Piemonte"),
              ("F", "Lazio"))}  # fmt: skip
    cases["E"] = actors.file_interest(ctx, facility("FAC-E", "Campania")).reference
    actors.prescribe(ctx, cases["C"], "a", "Garantire l'accoglienza notturna.", date(2026, 3, 20))
    gone = actors.open_cancellation(ctx, cases["F"], ["b"], "Requisito venuto meno.").reference
    actors.give_up(ctx, gone)
    clock(ctx).advance(timedelta(days=60))  # 1 May 2026
    actors.record_visit(ctx, cases["B"], date(2026, 4, 30), UNIT)
    cases["CANC"] = actors.open_cancellation(
        ctx, cases["D"], ["b"], "Idoneità alloggiativa venuta meno."
    ).reference
    actors.invite(ctx, cases["CANC"])
    actors.record_receipt(ctx, cases["CANC"], today(ctx))
    assert today(ctx) == date(2026, 5, 1)
    return cases


def test_the_dashboard_shows_sections_procedures_applications_and_incidents(
    rctx: Context,
) -> None:
    cases = the_register(rctx)
    board = dashboard.register_dashboard(rctx, visit_every_days=45)
    assert board.today == date(2026, 5, 1) and board.visit_every_days == 45

    figures = {
        s.section: (s.registered, s.suspended, s.cancelled, s.pending) for s in board.sections
    }
    assert figures == {"Campania": (0, 0, 0, 1), "Lazio": (2, 0, 1, 0), "Piemonte": (2, 0, 0, 0)}

    (running,) = board.procedures
    (term,) = engine.describe(rctx, cases["CANC"]).pending_timers
    assert (running.reference, running.facility, running.code) == (
        cases["CANC"],
        cases["D"],
        "FAC-D",
    )
    assert (running.state, running.state_label) == (
        "clarifying",
        "termine per i chiarimenti in corso",
    )
    assert running.term == "termine perentorio per i chiarimenti"
    assert running.lapses_at == term.due_at
    assert running.last_day == rome_date(term.due_at - timedelta(microseconds=1))
    assert running.causes == ("b",)

    (application,) = board.applications
    assert (application.reference, application.state) == (cases["E"], "filed")

    (overdue,) = board.overdue_prescriptions
    assert (overdue.facility, overdue.number, overdue.due_on) == (cases["C"], 1, date(2026, 3, 20))
    assert overdue.days_late == 42

    unvisited = {v.facility: v for v in board.overdue_visits}
    assert set(unvisited) == {cases["A"], cases["C"], cases["D"]}  # B visited, F cancelled
    a = unvisited[cases["A"]]
    assert (a.last_visit, a.since, a.days) == (None, date(2026, 3, 2), 60)
    assert a.due_by == date(2026, 4, 16)

    assert board.last_published_at is None and board.publication_stale
    assert "Elenco mai pubblicato (art. 3 co. 6 D.M. 128/2025)" in board.incidents
    assert any(cases["C"] in i and "prescrizione n. 1" in i for i in board.incidents)
    assert any(cases["A"] in i and "mai visitata" in i for i in board.incidents)
    assert len(board.incidents) == 1 + 1 + 3

    markdown = dashboard.dashboard_markdown(board, board.today)
    assert "# Elenco delle strutture residenziali: situazione al 1 maggio 2026" in markdown
    assert "## Anomalie (5)" in markdown and "- Elenco mai pubblicato" in markdown
    assert "L'elenco non è mai stato pubblicato." in markdown
    assert "| Lazio | 2 | 0 | 1 | 0 |" in markdown and "| **totale** | 4 | 0 | 1 | 1 |" in markdown
    procedures = markdown.split("## Procedimenti di cancellazione in corso (1)")[1]
    assert (
        f"| {cases['CANC']} | {cases['D']} (FAC-D) | b | termine per i chiarimenti in corso |"
        in (procedures)
    )
    assert "termine perentorio per i chiarimenti" in procedures
    applications = markdown.split("## Manifestazioni di interesse in attesa di decisione (1)")[1]
    assert f"| {cases['E']} | FAC-E Comunità FAC-E | Campania | 20 febbraio 2026 |" in applications
    prescriptions = markdown.split("## Prescrizioni scadute senza esito (1;")[1]
    assert f"| {cases['C']} (FAC-C) | Piemonte | 1 | a | 20 marzo 2026 | 42 |" in prescriptions
    visits = markdown.split("## Visite di vigilanza scadute (3; una ogni 45 giorni")[1]
    assert f"| {cases['A']} (FAC-A Comunità FAC-A) | Lazio | mai | 16 aprile 2026 | 60 |" in visits
    assert cases["B"] not in visits and cases["F"] not in visits
    assert "Comune gestore" not in markdown  # facilities and references, not who runs them


def test_publishing_visiting_and_an_outcome_clear_the_incidents(
    rctx: Context, tmp_path: Path
) -> None:
    cases = the_register(rctx)
    publication.publish(rctx, "prima pubblicazione", tmp_path)
    actors.prescription_outcome(rctx, cases["C"], 1, "complied", today(rctx))
    for name in ("A", "C", "D"):
        actors.record_visit(rctx, cases[name], today(rctx), UNIT)
    board = dashboard.register_dashboard(rctx, visit_every_days=45)
    assert board.incidents == ()
    assert board.last_published_at == START + timedelta(days=60)
    assert board.publication_due_by == date(2026, 11, 1) and not board.publication_stale
    assert not board.overdue_prescriptions and not board.overdue_visits
    markdown = dashboard.dashboard_markdown(board, board.today)
    assert "## Anomalie (0)" in markdown and "Nessuna anomalia." in markdown
    assert "da ripubblicare comunque entro il 1 novembre 2026." in markdown


def test_a_term_already_passed_counts_before_any_sweep(rctx: Context) -> None:
    """The clarification term lapsed and no sweep ran: the procedure is in examination in law,
    with no term running; the register unpublished for six months is still an incident."""
    cases = the_register(rctx)
    (term,) = engine.describe(rctx, cases["CANC"]).pending_timers
    clock(rctx).instant = term.due_at
    board = dashboard.register_dashboard(rctx, visit_every_days=45)
    (running,) = board.procedures
    assert (running.state, running.state_label) == ("examining", "esame dei chiarimenti")
    assert (running.term, running.last_day, running.lapses_at) == (None, None, None)
    assert engine.describe(rctx, cases["CANC"]).case.state == "clarifying"  # as stored


def test_the_visit_frequency_comes_from_the_settings(
    rctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Head of Department's guidelines (art. 10 co. 2): MISURE_VISIT_EVERY_DAYS."""
    cases = the_register(rctx)
    monkeypatch.setenv("MISURE_VISIT_EVERY_DAYS", "61")
    board = dashboard.register_dashboard(rctx)
    assert board.visit_every_days == 61 and not board.overdue_visits
    monkeypatch.setenv("MISURE_VISIT_EVERY_DAYS", "59")
    overdue = dashboard.register_dashboard(rctx).overdue_visits
    assert {v.facility for v in overdue} == {cases["A"], cases["C"], cases["D"]}
    with pytest.raises(InvalidInput, match="visite di vigilanza"):
        dashboard.register_dashboard(rctx, visit_every_days=0)


def test_an_empty_register_has_only_the_publication_incident(rctx: Context) -> None:
    board = dashboard.register_dashboard(rctx)
    assert asdict(board)["sections"] == () and board.incidents == (
        "Elenco mai pubblicato (art. 3 co. 6 D.M. 128/2025)",
    )
    markdown = dashboard.dashboard_markdown(board, board.today)
    assert "Nessuna struttura nell'elenco." in markdown
    assert "Nessun procedimento in corso." in markdown
    assert "Nessuna manifestazione in attesa." in markdown

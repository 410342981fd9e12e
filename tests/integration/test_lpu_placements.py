"""Unpaid community work at a host entity through the engine, on SQLite and PostgreSQL with an
injected clock: the convention's capacity in the database (also two receptions at once on
PostgreSQL), the hour limits of the form refused naming them and lifted by the judge's
authorisation, the hours credited never beyond those owed and the work completed when they are
reached, the final-report term, the register closed by a revocation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from machines.calendar import ROME
from services import engine, notices, timers
from services.clock import FixedClock
from services.context import Context
from services.errors import DomainError, GuardFailed, TransitionNotAllowed
from services.lpu import attendance
from storage.database import make_engine
from storage.lpu.models import Attendance, Seat
from tests.integration.test_lpu_conventions import LPU
from tests.integration.test_lpu_conventions import OPENING as CONVENTION
from tests.support.race import race

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Rome
ENTITY, JUDGE = "ente", "giudice"


@pytest.fixture
def lctx(db: Engine) -> Context:
    return Context.build(db, FixedClock(MONDAY), LPU)


def convention(ctx: Context, capacity: int = 2) -> str:
    reference = engine.open_case(
        ctx, "lpu_convention", ENTITY, {**CONVENTION, "capacity": capacity}
    ).reference
    engine.fire(ctx, reference, "sign", "ministero")
    return reference


def declared(ctx: Context, agreement: str, form: str = "D", days: int = 5, hours: int = 10) -> str:
    """A placement up to the sentence becoming final (not yet received)."""
    opening = {
        "convention": agreement, "form": form, "offence": "art. 582 c.p.",
        "activities": ["manutenzione del verde"], "signed_by_representative": True,
        "declared_on": "2026-02-02", "court": "Giudice di pace di Torino",
    }  # fmt: skip
    reference = engine.open_case(ctx, "lpu_placement", ENTITY, opening).reference
    sentence = {"owed_days": days, "owed_hours": hours, "decided_on": "2026-02-10"}
    if form == "D" and days < 10:
        sentence["owed_days"], sentence["owed_hours"] = 10, 20
    engine.fire(ctx, reference, "sentenced", JUDGE, sentence)
    engine.fire(ctx, reference, "final", JUDGE, {"final_on": "2026-02-25"})
    return reference


BREACH = {"occurred_on": "2026-03-02", "description": "Assente senza giustificazione."}
RECEPTION = {"insurance_opened": True, "calendar_agreed": True, "received_on": "2026-03-02"}


def session(day: str, start: str, end: str) -> dict[str, Any]:
    return {
        "day": day, "start": start, "end": end, "activity": "manutenzione del verde",
        "signed_by_person": True, "signed_by_coordinator": True,
    }  # fmt: skip


def state(ctx: Context, reference: str) -> str:
    return engine.describe(ctx, reference).case.state


def test_a_convention_at_capacity_refuses_the_next_reception(lctx: Context) -> None:
    agreement = convention(lctx, capacity=1)
    first, second = declared(lctx, agreement), declared(lctx, agreement)
    engine.fire(lctx, first, "receive", ENTITY, RECEPTION)
    with pytest.raises(GuardFailed) as refused:
        engine.fire(lctx, second, "receive", ENTITY, RECEPTION)
    assert "numero massimo di persone" in str(refused.value)
    assert state(lctx, second) == "to_receive"
    # the first one's work revoked: its seat is free again
    engine.fire(lctx, first, "breach", ENTITY, BREACH)
    engine.fire(lctx, first, "revoke", JUDGE, {"ruled_on": "2026-03-02"})
    assert engine.fire(lctx, second, "receive", ENTITY, RECEPTION).to_state == "in_progress"


def test_the_form_s_weekly_limit_is_refused_naming_it_and_lifted_by_the_judge(
    lctx: Context,
) -> None:
    """Form D (art. 54 d.lgs. 274/2000): at most 6 hours a week unless the judge authorises
    more on the person's request; never over 8 hours a day."""
    clock = lctx.clock
    assert isinstance(clock, FixedClock)
    placement = declared(lctx, convention(lctx), days=10, hours=20)
    engine.fire(lctx, placement, "receive", ENTITY, RECEPTION)
    clock.instant = MONDAY + timedelta(days=4)  # Friday
    engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-02", "09:00", "13:00"))
    with pytest.raises(GuardFailed) as weekly:
        engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-04", "09:00", "12:00"))
    assert "oltre 6 ore settimanali" in str(weekly.value) and "art. 54 co. 3" in str(weekly.value)
    assert weekly.value.field == "end"
    with pytest.raises(GuardFailed) as daily:
        engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-03", "08:00", "17:00"))
    assert "oltre 8 ore giornaliere" in str(daily.value)
    engine.fire(lctx, placement, "authorise_hours", JUDGE, {"authorised_on": "2026-03-03"})
    engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-04", "09:00", "12:00"))
    with lctx.db.connect() as connection:
        assert connection.execute(select(Attendance.hours)).scalars().all() == [4, 3]


def test_the_work_completes_at_the_owed_hours_and_never_credits_more(lctx: Context) -> None:
    clock = lctx.clock
    assert isinstance(clock, FixedClock)
    placement = declared(lctx, convention(lctx), form="S", days=3, hours=6)
    engine.fire(lctx, placement, "receive", ENTITY, RECEPTION)
    clock.instant = MONDAY + timedelta(days=2)
    engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-02", "09:00", "13:00"))
    last = engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-03", "09:00", "13:00"))
    assert (last.to_state, state(lctx, placement)) == ("in_progress", "completed")
    with lctx.db.connect() as connection:
        rows = connection.execute(select(Attendance.hours, Attendance.credited)).all()
        seats = connection.execute(select(Seat.released_at)).scalars().all()
    assert [(float(h), float(c)) for h, c in rows] == [(4, 4), (4, 2)]  # 6 owed, 2 credited
    assert seats[0] is not None  # the seat is free for the next person
    summary = engine.describe(lctx, placement).facts
    assert (summary["credited_hours"], summary["hours_left"]) == ("6.00", "0.00")
    with pytest.raises(TransitionNotAllowed):
        engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-04", "09:00", "10:00"))


def test_the_final_report_term_fires_on_its_day(lctx: Context) -> None:
    clock = lctx.clock
    assert isinstance(clock, FixedClock)
    placement = declared(lctx, convention(lctx), form="S", days=1, hours=2)
    engine.fire(lctx, placement, "receive", ENTITY, RECEPTION)
    engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-02", "09:00", "11:00"))
    assert state(lctx, placement) == "completed"
    due = {t.name: t.due_at for t in engine.describe(lctx, placement).pending_timers}
    assert due["final_report"] == datetime(2026, 4, 2, tzinfo=ROME)  # 30 days from 2 March
    clock.instant = datetime(2026, 4, 1, 23, 59, tzinfo=ROME)
    timers.sweep(lctx, clock.instant)  # the reminder only
    assert state(lctx, placement) == "completed"
    clock.instant = datetime(2026, 4, 2, tzinfo=ROME)
    timers.sweep(lctx, clock.instant)
    assert state(lctx, placement) == "report_overdue"
    report = {"reported_on": "2026-04-02", "regular": True}
    assert engine.fire(lctx, placement, "report", "coordinatore", report).to_state == "closed"


def test_a_revoked_placement_s_register_refuses_new_entries(lctx: Context) -> None:
    placement = declared(lctx, convention(lctx))
    engine.fire(lctx, placement, "receive", ENTITY, RECEPTION)
    engine.fire(lctx, placement, "breach", ENTITY, BREACH)
    engine.fire(lctx, placement, "revoke", JUDGE, {"ruled_on": "2026-03-02"})
    with pytest.raises(TransitionNotAllowed) as refused:
        engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-02", "09:00", "10:00"))
    assert "revoked" in str(refused.value)
    rendered = notices.render_pending_notices(lctx, notices.Office("Ministero", "Roma"))
    assert rendered.failed == 0
    assert sorted(d.template for d in notices.document_for(lctx, placement)) == [
        "dichiarazione_disponibilita",
        "revoca",
        "segnalazione_violazione",
    ]
    found = notices.document_for(lctx, placement)
    breach = next(d for d in found if d.template == "segnalazione_violazione")
    text = " ".join(PdfReader(BytesIO(breach.pdf)).pages[0].extract_text().split())
    assert "Giudice di pace di Torino" in text and "Assente senza giustificazione" in text


@pytest.mark.postgres
def test_two_receptions_at_once_never_exceed_the_capacity(postgres_url: str) -> None:
    db = make_engine(postgres_url)
    try:
        ctx = Context.build(db, FixedClock(MONDAY), LPU)
        for _ in range(8):
            agreement = convention(ctx, capacity=1)
            cases = [declared(ctx, agreement), declared(ctx, agreement)]
            results = race(
                *(lambda c=c: engine.fire(ctx, c, "receive", ENTITY, RECEPTION) for c in cases)
            )
            refused = [r for r in results if isinstance(r, DomainError)]
            assert len(refused) == 1, results
            with db.connect() as connection:
                held = connection.execute(
                    select(Seat.placement_case_id).where(Seat.released_at.is_(None))
                ).all()
            assert len(held) == len({h for h in held})
            states = sorted(state(ctx, c) for c in cases)
            assert states == ["in_progress", "to_receive"]
    finally:
        db.dispose()


def test_the_day_counts_in_rome(lctx: Context) -> None:
    """A session of today (Italian date) is taken; one of tomorrow is refused naming the day."""
    placement = declared(lctx, convention(lctx))
    engine.fire(lctx, placement, "receive", ENTITY, RECEPTION)
    with pytest.raises(GuardFailed) as refused:
        engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-03", "09:00", "10:00"))
    assert refused.value.field == "day" and "successiva a oggi" in str(refused.value)
    assert date(2026, 3, 2) == MONDAY.astimezone(ROME).date()


def test_the_bulk_attendance_file_with_one_bad_row(lctx: Context) -> None:
    """A host entity's day for several people in one CSV file: each row its own result; the bad
    row (over the daily limit) refuses only itself; the file sent again records nothing twice."""
    clock = lctx.clock
    assert isinstance(clock, FixedClock)
    agreement = convention(lctx)
    first, second = declared(lctx, agreement), declared(lctx, agreement)
    for placement in (first, second):
        engine.fire(lctx, placement, "receive", ENTITY, RECEPTION)
    text = (
        "reference;day;start;end;activity;signed_by_person;signed_by_coordinator\n"
        f"{first};2026-03-02;09:00;11:00;verde pubblico;sì;sì\n"
        f"{second};2026-03-02;08:00;17:30;verde pubblico;sì;sì\n"
        f"LPU-2026-000999;2026-03-02;09:00;10:00;verde pubblico;sì;sì\n"
        f"{second};2026-03-02;14:00;16:00;biblioteca;sì;forse\n"
        f"{second};2026-03-02;09:00;12:00;verde pubblico;sì;sì\n"
    )
    results = attendance.record(lctx, attendance.parse(text), "ente")
    assert [(r.row, r.ok) for r in results] == [
        (1, True), (2, False), (3, False), (4, False), (5, True),
    ]  # fmt: skip
    assert "oltre 8 ore giornaliere" in str(results[1].message)
    assert results[2].error == "unknown_case"
    assert results[3].field == "signed_by_coordinator"
    again = attendance.record(lctx, attendance.parse(text), "ente")
    assert [r.ok for r in again] == [r.ok for r in results]
    with lctx.db.connect() as connection:
        assert len(connection.execute(select(Attendance.id)).all()) == 2


def test_a_session_sent_again_or_overlapping_is_not_counted_twice(lctx: Context) -> None:
    """An hour is attended once: the same session fired again without its key, or one that
    overlaps it, is refused naming the session already in the register."""
    placement = declared(lctx, convention(lctx), form="S", days=10, hours=20)
    engine.fire(lctx, placement, "receive", ENTITY, RECEPTION)
    engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-02", "08:00", "10:00"))
    for start, end in (("08:00", "10:00"), ("09:30", "11:00")):
        with pytest.raises(GuardFailed) as refused:
            engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-02", start, end))
        assert "sovrapposta a quella 08:00-10:00" in str(refused.value)
    engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-02", "10:00", "11:00"))
    summary = engine.describe(lctx, placement).facts
    assert (summary["credited_hours"], summary["sessions"]) == ("3.00", 2)

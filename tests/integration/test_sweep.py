"""Durable timers on a real database: due timers fire once, failures end as incidents."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, func, select, update

from machines.calendar import lapse_instant
from services import engine, timers
from services.clock import FixedClock
from services.context import Context
from services.notices import Office, document_for, render_pending_notices
from services.timers import MAX_ATTEMPTS, SweepMode, backoff
from storage.models import Case, CaseEvent, OutboxMessage, Timer, TimerStatus
from tests.support.seed import seed_due_cases

DUE = datetime(2026, 4, 1, 22, 0, tzinfo=UTC)  # 00:00 Rome after 30 days from 2 March 2026


def under_review(ctx: Context, **data: object) -> str:
    reference = engine.open_case(ctx, "demo", "clerk", {"eligible": True, **data}).reference
    engine.fire(ctx, reference, "file", "clerk", {"protocol": "P-1"})
    engine.fire(ctx, reference, "review", "clerk")
    return reference


def timer_rows(db: Engine) -> list[Timer]:
    from storage.unit_of_work import UnitOfWork

    with UnitOfWork(db) as uow:
        return list(uow.session.scalars(select(Timer).order_by(Timer.id)))


@pytest.mark.parametrize("mode", list(SweepMode))
def test_a_timer_fires_at_its_due_instant_not_before(ctx: Context, mode: SweepMode) -> None:
    reference = under_review(ctx)
    early = timers.sweep(ctx, DUE - timedelta(seconds=1), mode=mode)
    assert early.handled == 0
    assert engine.describe(ctx, reference).case.state == "under_review"
    report = timers.sweep(ctx, DUE, mode=mode)
    assert (report.fired, report.handled) == (1, 1)
    detail = engine.describe(ctx, reference)
    assert detail.case.state == "lapsed"
    lapse = detail.history[-1]
    assert (lapse.trigger, lapse.actor, lapse.legal_basis) == ("lapse", "timer", "art. 5 demo")
    assert lapse.payload["timer"] == "review_deadline"
    assert lapse.payload["due_at"] == DUE.isoformat()
    again = timers.sweep(ctx, DUE + timedelta(days=365), mode=mode)
    assert again.handled == 0  # fired once, never again


def test_a_fired_timer_is_marked_by_the_event_that_moved_the_case(ctx: Context, db: Engine) -> None:
    reference = under_review(ctx)
    timers.sweep(ctx, DUE)
    (timer,) = timer_rows(db)
    lapse = engine.describe(ctx, reference).history[-1]
    assert timer.status == TimerStatus.FIRED
    assert timer.resolved_by_event_id == lapse.id
    assert lapse.idempotency_key == f"timer:{timer.id}"


def test_a_timer_whose_case_left_the_state_is_cancelled_not_fired(ctx: Context, db: Engine) -> None:
    reference = under_review(ctx)
    # A case moved outside the engine (e.g. repaired by hand) leaves a stale pending timer.
    with db.begin() as connection:
        connection.execute(update(Case).where(Case.reference == reference).values(state="granted"))
    report = timers.sweep(ctx, DUE)
    assert (report.fired, report.cancelled) == (0, 1)
    (timer,) = timer_rows(db)
    assert timer.status == TimerStatus.CANCELLED
    assert "left state under_review" in (timer.last_error or "")
    assert [e.trigger for e in engine.describe(ctx, reference).history][-1] == "review"


@pytest.mark.parametrize("mode", list(SweepMode))
def test_a_failing_timer_is_retried_with_backoff_then_becomes_an_incident(
    ctx: Context, db: Engine, mode: SweepMode
) -> None:
    reference = under_review(ctx, explode=True)
    healthy = under_review(ctx)
    now = DUE
    first = timers.sweep(ctx, now, mode=mode)
    assert (first.fired, first.retried) == (1, 1)  # the healthy case is not held back
    assert engine.describe(ctx, healthy).case.state == "lapsed"
    for attempt in range(1, MAX_ATTEMPTS):
        (timer,) = [t for t in timer_rows(db) if t.status == TimerStatus.PENDING]
        assert timer.attempts == attempt
        assert timer.run_at == now + backoff(attempt)
        assert timer.due_at == DUE  # the legal due instant never moves
        assert "the lapse check crashed" in (timer.last_error or "")
        assert timers.sweep(ctx, timer.run_at - timedelta(seconds=1), mode=mode).handled == 0
        now = timer.run_at
        report = timers.sweep(ctx, now, mode=mode)
    assert (report.failed, report.retried) == (1, 0)
    assert report.incidents == [
        f"{reference} review_deadline: RuntimeError: the lapse check crashed"
    ]
    [(incident, incident_reference)] = timers.incidents(ctx)
    assert incident_reference == reference
    assert (incident.status, incident.attempts) == (TimerStatus.FAILED, MAX_ATTEMPTS)
    assert engine.describe(ctx, reference).case.state == "under_review"  # nothing half-done
    assert timers.sweep(ctx, now + timedelta(days=30), mode=mode).handled == 0


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert backoff(20) == timedelta(hours=1)


@pytest.mark.parametrize("mode", list(SweepMode))
def test_sweep_works_through_many_timers_in_bounded_batches(
    ctx: Context, db: Engine, mode: SweepMode
) -> None:
    references = seed_due_cases(db, 230, DUE - timedelta(days=30), DUE)
    seen: list[int] = []
    report = timers.sweep(ctx, DUE, batch=50, mode=mode, progress=seen.append)
    assert report.fired == 230
    assert seen == [50, 50, 50, 50, 30]
    with db.connect() as connection:
        lapses = connection.scalar(
            select(func.count(func.distinct(CaseEvent.case_id))).where(CaseEvent.trigger == "lapse")
        )
    assert lapses == len(references)


def test_a_sweep_limit_bounds_the_work(ctx: Context, db: Engine) -> None:
    seed_due_cases(db, 20, DUE - timedelta(days=30), DUE)
    assert timers.sweep(ctx, DUE, batch=7, limit=10).fired == 10
    assert timers.count_due(ctx, DUE) == 10


def test_batched_mode_takes_one_timer_per_case_per_batch(
    ctx: Context, db: Engine, clock: FixedClock
) -> None:
    reference = under_review(ctx)
    # A second due timer on the same case: the first firing cancels it, the batch must not fire it.
    (timer,) = timer_rows(db)
    with db.begin() as connection:
        connection.execute(
            Timer.__table__.insert().values(
                case_id=timer.case_id,
                name="second",
                state="under_review",
                fires="lapse",
                legal_basis="x",
                due_at=DUE,
                run_at=DUE,
                status="pending",
                attempts=0,
                created_by_event_id=timer.created_by_event_id,
            )
        )
    report = timers.sweep(ctx, DUE, mode=SweepMode.BATCHED)
    assert report.fired == 1
    assert {t.name: t.status for t in timer_rows(db)} == {
        "review_deadline": TimerStatus.FIRED,
        "second": TimerStatus.CANCELLED,
    }
    assert [e.trigger for e in engine.describe(ctx, reference).history].count("lapse") == 1


@pytest.mark.parametrize("mode", list(SweepMode))
def test_a_write_that_fails_in_the_database_rolls_back_only_itself(
    ctx: Context, db: Engine, mode: SweepMode
) -> None:
    references = [under_review(ctx) for _ in range(3)]
    poisoned = timer_rows(db)[1]
    # An event already holding the timer's idempotency key: writing its firing must fail.
    with db.begin() as connection:
        connection.execute(
            CaseEvent.__table__.insert().values(
                case_id=poisoned.case_id,
                sequence=99,
                trigger="x",
                from_state=None,
                to_state="under_review",
                actor="test",
                payload={},
                legal_basis="x",
                idempotency_key=f"timer:{poisoned.id}",
                occurred_at=DUE,
                effective_at=DUE,
                prev_hash="0" * 64,  # out of any chain: only its key matters here
                hash="0" * 64,
            )
        )
    report = timers.sweep(ctx, DUE, mode=mode)
    assert (report.fired, report.retried) == (2, 1)
    states = [engine.describe(ctx, reference).case.state for reference in references]
    assert states == ["lapsed", "under_review", "lapsed"]
    failed = next(t for t in timer_rows(db) if t.id == poisoned.id)
    assert (failed.status, failed.attempts) == (TimerStatus.PENDING, 1)
    assert "IntegrityError" in (failed.last_error or "")


@pytest.mark.parametrize("mode", list(SweepMode))
def test_a_term_keeps_running_through_its_states_and_fires_there(
    ctx: Context, db: Engine, mode: SweepMode
) -> None:
    reference = under_review(ctx)
    (started,) = timer_rows(db)
    engine.fire(ctx, reference, "suspend", "clerk")
    engine.fire(ctx, reference, "resume", "clerk")
    engine.fire(ctx, reference, "suspend", "clerk")
    (still,) = timer_rows(db)  # the same timer, neither cancelled nor started again
    assert (still.id, still.status, still.due_at) == (started.id, TimerStatus.PENDING, DUE)
    assert timers.sweep(ctx, DUE, mode=mode).fired == 1
    detail = engine.describe(ctx, reference)
    assert (detail.case.state, detail.history[-1].from_state) == ("lapsed", "on_hold")


def test_leaving_the_span_of_a_term_cancels_it(ctx: Context, db: Engine) -> None:
    reference = under_review(ctx)
    engine.fire(ctx, reference, "suspend", "clerk")
    engine.fire(ctx, reference, "resume", "clerk")
    engine.fire(ctx, reference, "grant", "judge")
    statuses = {t.name: t.status for t in timer_rows(db)}
    assert statuses == {
        "review_deadline": TimerStatus.CANCELLED,
        "validity_end": "pending",
        "validity_warning": "pending",
    }


def granted(ctx: Context) -> str:
    reference = under_review(ctx)
    engine.fire(ctx, reference, "grant", "judge")
    return reference


def test_a_reminder_issues_its_notice_before_the_term_without_moving_the_case(
    ctx: Context, db: Engine
) -> None:
    reference = granted(ctx)  # on 2 March 2026: validity ends on 2 May, warned 10 days before
    grant = engine.describe(ctx, reference).history[-1]
    pending = {t.name: t for t in timer_rows(db)}
    assert pending["validity_end"].due_at == lapse_instant(date(2026, 5, 2))
    assert pending["validity_warning"].due_at == lapse_instant(date(2026, 4, 22))
    assert (pending["validity_warning"].fires, pending["validity_warning"].notice) == (
        None,
        "avviso_scadenza",
    )
    report = timers.sweep(ctx, lapse_instant(date(2026, 4, 22)))
    assert report.fired == 1
    detail = engine.describe(ctx, reference)
    assert (detail.case.state, detail.history[-1].id) == ("granted", grant.id)  # no move
    assert [t.name for t in detail.pending_timers] == ["validity_end"]
    with db.connect() as connection:
        notices = connection.execute(
            select(OutboxMessage.event_id, OutboxMessage.payload)
            .where(OutboxMessage.topic == "notice")
            .order_by(OutboxMessage.id)
        ).all()
    assert notices[-1] == (
        grant.id,
        {
            "template": "avviso_scadenza",
            "reference": reference,
            "term": "validità dell'accoglimento",
            "last_day": "2026-05-02",
            "days": 10,
            "legal_basis": "10 giorni prima della scadenza: 2 mesi (art. 2963 c.c.)",
            # the act is dated when the reminder is due, not when its term started
            "dated": lapse_instant(date(2026, 4, 22)).isoformat(),
        },
    )
    office = Office("Ufficio di prova", "Roma")
    assert render_pending_notices(ctx, office).rendered == 2  # the grant's and the warning
    [*_, warning] = document_for(ctx, reference)
    text = PdfReader(io.BytesIO(warning.pdf)).pages[0].extract_text()
    assert "Avviso di prossima scadenza" in text and "2 maggio 2026" in text
    assert "Roma, 23 aprile 2026" in text  # 00:00 of 23 April: 10 days to 2 May included


def test_a_reminder_is_cancelled_with_its_term(ctx: Context, db: Engine) -> None:
    reference = granted(ctx)
    engine.fire(ctx, reference, "close", "clerk")
    assert {t.name: t.status for t in timer_rows(db)}["validity_warning"] == "cancelled"
    assert timers.sweep(ctx, lapse_instant(date(2026, 4, 22))).handled == 0

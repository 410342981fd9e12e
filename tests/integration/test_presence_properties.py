"""Property: whatever the facility reports day by day (present, absent, or nothing), a funded
stay pays exactly the days reported as present times the rate (art. 13 co. 5 D.M. 128/2025),
never an absent or unreported day and never a day past the eight funded months, the day of
entry being the first (art. 11 co. 4). Through the real services on a real SQLite database (a
fresh one per example), with monthly returns and period returns, ending by an exit or by the
funded period's timer."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from machines.calendar import ROME, lapse_instant
from machines.placements import FUNDED_STAY
from services import engine, timers
from services.clock import FixedClock
from services.context import Context
from services.placements import actors as placements
from services.placements import budget, reallocation
from services.placements.actors import Outcome
from services.placements.effects import max_cost
from services.placements.notices import placement_context
from storage.database import make_engine
from storage.models import Base
from storage.placements.models import Reservation
from tests.support.placements import COURT_TO, PLACEMENTS, load_reference, queued

RATE = Decimal("50.00")  # CONV-TO-1
PRESENT, ABSENT, UNREPORTED = "present", "absent", "unreported"
# Mostly present, as registers are; absences and gaps often enough to matter.
LABELS = st.sampled_from([PRESENT] * 5 + [ABSENT, UNREPORTED, UNREPORTED])


def _at(day: date) -> datetime:
    """10:00 in Rome on `day`."""
    return datetime.combine(day, time(10), tzinfo=ROME).astimezone(UTC)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(delay=st.integers(min_value=0, max_value=40), by_timer=st.booleans(), data=st.data())
def test_only_days_reported_present_are_paid(
    delay: int, by_timer: bool, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = make_engine(f"sqlite:///{Path(folder) / 'misure.db'}")
        Base.metadata.create_all(db)  # the models equal the migrations (test_schema.py)
        clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        ctx = Context.build(db, clock, PLACEMENTS)
        load_reference(ctx)
        reference = queued(ctx)
        reallocation.reallocate(ctx)
        placements.record_decision(
            ctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
        )
        entry = date(2026, 3, 2) + timedelta(days=delay)
        clock.instant = _at(entry)
        placements.record_entry(ctx, reference, True, "struttura")
        funded_until = FUNDED_STAY.last_day(entry)
        if by_timer:
            last_paid = funded_until
        else:
            stay = data.draw(st.integers(0, (funded_until - entry).days), label="days before exit")
            last_paid = entry + timedelta(days=stay) - timedelta(days=1)  # left the next day
        days = [entry + timedelta(days=n) for n in range((last_paid - entry).days + 1)]
        labels = dict(
            zip(
                days,
                data.draw(
                    st.lists(LABELS, min_size=len(days), max_size=len(days)), label="register"
                ),
                strict=True,
            )
        )
        reported: set[date] = set()
        event("by timer" if by_timer else "by exit")
        event(
            "stay of " + ("0 days" if not days else "< 60 days" if len(days) < 60 else ">= 60 days")
        )
        for _, in_month in groupby(days, key=lambda day: (day.year, day.month)):
            month = list(in_month)
            today = month[-1]  # the facility reports at the end of the month (or of the stay)
            clock.instant = _at(today)
            absences = {day for day in month if labels[day] == ABSENT}
            complete = all(labels[day] != UNREPORTED for day in month)
            if complete and data.draw(st.booleans(), label="monthly return"):
                summary = placements.record_month_presence(
                    ctx, reference, today.year, today.month, absences
                )
                assert (summary.start, summary.end) == (month[0], month[-1])
            else:
                summary = None
                runs = groupby(month, key=lambda day: labels[day] != UNREPORTED)
                for is_reported, run in runs:
                    if is_reported:
                        period = list(run)
                        summary = placements.record_presence(
                            ctx, reference, period[0], period[-1], absences & set(period)
                        )
            reported |= {day for day in month if labels[day] != UNREPORTED}
            if summary is not None:  # the stay so far, as the register shows it
                present = sum(labels[day] == PRESENT for day in reported)
                assert summary.present == present
                assert summary.payable == str(RATE * present)
                assert summary.unreported == [
                    day for day in days if day < today and labels[day] == UNREPORTED
                ]
        if by_timer:
            clock.instant = lapse_instant(funded_until)
            timers.sweep(ctx, clock.instant)
        else:
            left_on = last_paid + timedelta(days=1)
            clock.instant = _at(left_on)
            placements.record_exit(ctx, reference, left_on, "struttura")
        assert engine.describe(ctx, reference).case.state == "ended"

        present_days = [day for day in days if labels[day] == PRESENT]
        with ctx.uow() as uow:
            case = uow.repo.case_by_reference(reference)
            assert case is not None
            reservation = uow.session.scalars(select(Reservation)).one()
            assert reservation.left_on == last_paid + timedelta(days=1)
            paid = reservation.committed
            last = uow.repo.history(case.id)[-1]  # the stay's end: what a notice tells of it
            context = placement_context(uow, case, last, clock.instant)
        assert paid == RATE * len(present_days)
        assert paid <= RATE * ((funded_until - entry).days + 1) <= max_cost(RATE)
        assert all(entry <= day <= funded_until for day in present_days)
        assert budget.figures(ctx, 2026)[1].spent == paid
        presenze = context["presenze"]
        assert (presenze["giorni"], presenze["importo"]) == (len(present_days), paid)
        assert presenze["giorni_assenza"] == [d for d in days if labels[d] == ABSENT]
        assert presenze["giorni_non_rilevati"] == [d for d in days if labels[d] == UNREPORTED]
        assert presenze["non_rilevati"] == len(presenze["giorni_non_rilevati"])
        db.dispose()

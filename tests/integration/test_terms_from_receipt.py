"""Terms that count from a recorded receipt and last what an officer chose within bounds
(the shape of art. 5 D.M. 128/2025's terms), through the engine on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from machines.calendar import lapse_instant, next_working_day
from services import engine, timers
from services.clock import FixedClock
from services.context import Context
from services.errors import InvalidInput
from tests.conftest import START


@pytest.fixture
def rctx(db: Engine) -> Context:
    return Context.build(db, FixedClock(START), machine_modules=["tests.support.receipt"])


def due(ctx: Context, reference: str) -> datetime:
    (timer,) = engine.describe(ctx, reference).pending_timers
    return timer.due_at


def test_a_term_counts_from_the_receipt_and_a_holiday_moves_its_end(rctx: Context) -> None:
    reference = engine.open_case(rctx, "receipt", "dg").reference
    # Received on 4 September 2026: 30 days end on Sunday 4 October, a holiday twice over
    # (L. 151/2025); the term ends on Monday 5 October, its timer at 00:00 of the 6th.
    engine.fire(rctx, reference, "receipt", "dg", {"received_on": "2026-09-04"})
    assert due(rctx, reference) == lapse_instant(datetime(2026, 10, 5).date())
    assert due(rctx, reference) == datetime(2026, 10, 5, 22, 0, tzinfo=UTC)
    clock = rctx.clock
    assert isinstance(clock, FixedClock)
    clock.instant = due(rctx, reference) - timedelta(seconds=1)
    assert timers.sweep(rctx, clock.instant).fired == 0
    clock.instant += timedelta(seconds=1)
    assert timers.sweep(rctx, clock.instant).fired == 1
    assert engine.describe(rctx, reference).case.state == "examining"


@pytest.mark.parametrize(("days", "accepted"), [(14, False), (15, True), (45, True), (46, False)])
def test_a_term_lasts_what_the_officer_chose_within_its_bounds(
    rctx: Context, days: int, accepted: bool
) -> None:
    reference = engine.open_case(rctx, "receipt", "dg").reference
    engine.fire(rctx, reference, "receipt", "dg", {"received_on": "2026-03-02"})
    clock = rctx.clock
    assert isinstance(clock, FixedClock)
    clock.instant = due(rctx, reference)
    timers.sweep(rctx, clock.instant)
    contested_on = datetime(2026, 4, 2).date()
    if not accepted:
        with pytest.raises(InvalidInput) as refused:
            engine.fire(rctx, reference, "contest", "dg", {"defence_days": days})
        assert refused.value.field == "defence_days"
        assert engine.describe(rctx, reference).case.state == "examining"
        return
    engine.fire(rctx, reference, "contest", "dg", {"defence_days": days})
    (term,) = engine.describe(rctx, reference).pending_timers
    # from the day it took effect; 45 days end on Sunday 17 May, moved to the 18th
    assert term.due_at == lapse_instant(next_working_day(contested_on + timedelta(days=days)))
    assert (days != 45) or term.due_at == datetime(2026, 5, 18, 22, 0, tzinfo=UTC)
    assert f"{days} giorni" in term.legal_basis

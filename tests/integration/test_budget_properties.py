"""Property: whatever the rates, places, allocation and court outcomes, the money a UIEPE holds
never exceeds its allocation (art. 13 co. 6 D.M. 128/2025), through the real services on a real
SQLite database (a fresh one per example)."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import engine
from services.clock import FixedClock
from services.context import Context
from services.placements import actors as placements
from services.placements import budget, reallocation, reference
from services.placements.actors import Outcome
from services.placements.effects import max_cost
from storage.database import make_engine
from storage.models import Base
from storage.placements.repository import PlacementRepository
from tests.support.placements import COURT_TO, PLACEMENTS, REFERENCE, queued

conventions = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("20.00"), max_value=Decimal("120.00"), places=2),
        st.integers(min_value=1, max_value=4),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    conventions=conventions,
    appropriation=st.integers(min_value=0, max_value=200_000).map(Decimal),
    outcomes=st.lists(st.sampled_from(["grant", "reject", "wait"]), min_size=1, max_size=9),
)
def test_commitments_never_exceed_the_allocation(
    conventions: list[tuple[Decimal, int]], appropriation: Decimal, outcomes: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = make_engine(f"sqlite:///{Path(folder) / 'misure.db'}")
        Base.metadata.create_all(db)  # the models equal the migrations (test_schema.py)
        clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        ctx = Context.build(db, clock, PLACEMENTS)
        reference.load(
            ctx,
            {
                **{k: REFERENCE[k] for k in ("offices", "prisons", "facilities")},
                "conventions": [
                    {
                        "code": f"CONV-{n}",
                        "office": "UIEPE-TO",
                        "facility": "FAC-TO-1",
                        "daily_rate": str(rate),
                        "places": places,
                        "valid_from": "2026-01-01",
                        "valid_until": "2026-12-31",
                    }
                    for n, (rate, places) in enumerate(conventions)
                ],
            },
        )
        shares = {
            share.office: share.amount for share in budget.split(ctx, 2026, appropriation).shares
        }
        allocation = shares["UIEPE-TO"]
        cases = [queued(ctx) for _ in outcomes]
        for case, outcome in zip(cases, outcomes, strict=True):
            for attested in reallocation.reallocate(ctx).attested:
                assert attested.office == "UIEPE-TO"
            _check(ctx, allocation)
            if engine.describe(ctx, case).case.state != "at_court":
                continue
            if outcome == "grant":
                placements.record_decision(
                    ctx, case, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
                )
                placements.record_entry(ctx, case, True, "struttura")
            elif outcome == "reject":
                placements.record_decision(
                    ctx, case, Outcome.REJECTED, date(2026, 3, 2), COURT_TO, "cancelleria"
                )
            clock.advance(timedelta(minutes=5))
        reallocation.reallocate(ctx)
        _check(ctx, allocation)
        db.dispose()


def _check(ctx: Context, allocation: Decimal) -> None:
    """Safety: commitments within the allocation. Liveness: right after a reallocation, an
    application still waits only if no free place is covered."""
    with ctx.uow() as uow:
        office = PlacementRepository.of(uow).office("UIEPE-TO")
        assert office is not None
        usage = PlacementRepository.of(uow).usage(2026, office.id)
        free = PlacementRepository.of(uow).free_places(office.id, date(2026, 3, 2))
        waiting = PlacementRepository.of(uow).queue(office.id)
    assert Decimal("0.00") <= usage.committed <= allocation
    if waiting:
        left = allocation - usage.committed
        assert all(max_cost(place.convention.daily_rate) > left for place in free)

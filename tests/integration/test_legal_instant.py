"""A term takes effect at its legal instant, not when a sweep runs (art. 12 co. 9 D.M.
128/2025; ARCHITECTURE.md rule 2): a decision that arrives one second after an attestation's
validity ended, with no sweep run since, is late; the lapse is recorded effective at its due
instant; the place goes to the next application in protocol order. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from machines.calendar import lapse_instant, rome_date
from services import engine, timers
from services.context import Context
from services.errors import GuardFailed, LateDecision
from services.placements import actors as placements
from services.placements import reallocation
from services.placements.actors import Outcome
from tests.support.placements import (
    COURT_TO,
    MONDAY,
    clock_of,
    placements_context,
    queued,
)

DUE = lapse_instant(date(2026, 5, 2))  # issued on 2 March: valid through 2 May


@pytest.fixture
def lctx(db: Engine) -> Context:
    return placements_context(db)


def two_for_one_place(ctx: Context) -> tuple[str, str]:
    """Two applications at UIEPE-TO, which has one place: the first attested, the second
    waiting."""
    first, second = queued(ctx), queued(ctx)
    clock_of(ctx).instant = MONDAY
    (attested,) = reallocation.reallocate(ctx).attested
    assert attested.reference == first
    return first, second


def test_a_decision_one_second_after_the_validity_is_late_and_the_place_is_handed_on(
    lctx: Context,
) -> None:
    first, second = two_for_one_place(lctx)
    (timer,) = engine.describe(lctx, first).pending_timers
    assert timer.due_at == DUE
    clock_of(lctx).instant = DUE + timedelta(seconds=1)  # no sweep has run since
    # Before anything is recorded, reads already present the case as the law has it.
    shown = engine.describe(lctx, first)
    assert (shown.case.state, shown.state) == ("at_court", "lapsed")
    assert [(p.timer, p.due_at) for p in shown.passed_terms] == [("attestation_validity", DUE)]

    with pytest.raises(LateDecision) as late:
        placements.record_decision(
            lctx, first, Outcome.GRANTED, date(2026, 3, 20), COURT_TO, "cancelleria", None, "d-1"
        )
    assert (late.value.state, late.value.since, late.value.since_at) == (
        "lapsed",
        "2026-05-03",
        DUE.isoformat(),
    )
    assert late.value.signals == ("reallocate",)  # the lapse freed the place

    history = engine.describe(lctx, first).history
    assert [e.trigger for e in history][-2:] == ["lapse", "late_decision"]
    lapse = history[-2]
    assert (lapse.effective_at, lapse.occurred_at, lapse.actor) == (
        DUE,
        DUE + timedelta(seconds=1),
        "timer",
    )
    # The entry point acts on the signal as after any change: the next in protocol order.
    (handed_on,) = reallocation.reallocate_signalled(lctx).attested
    assert (handed_on.reference, handed_on.reassigned_from) == (second, first)
    assert engine.describe(lctx, second).case.state == "at_court"
    # The sweep that comes afterwards finds nothing left to do for that term.
    assert timers.sweep(lctx, clock_of(lctx).now()).fired == 0
    # The same message again is answered the same way, and changes nothing.
    with pytest.raises(
        LateDecision,
        match=rf"^decisione su {first} non applicata: la pratica è nello stato 'lapsed' "
        r"dal 03/05/2026 \(con effetto dalle 00:00 del 03/05/2026, ora italiana\); "
        "registrata come messaggio tardivo$",
    ):
        placements.record_decision(
            lctx, first, Outcome.GRANTED, date(2026, 3, 20), COURT_TO, "cancelleria", None, "d-1"
        )
    assert len(engine.describe(lctx, first).history) == len(history)


def test_a_decision_at_the_last_second_of_the_validity_is_applied(lctx: Context) -> None:
    first, _ = two_for_one_place(lctx)
    clock_of(lctx).instant = DUE - timedelta(seconds=1)
    result = placements.record_decision(
        lctx, first, Outcome.GRANTED, date(2026, 5, 2), COURT_TO, "cancelleria"
    )
    assert (result.to_state, result.caught_up, result.effective_at) == (
        "granted",
        (),
        DUE - timedelta(seconds=1),
    )


def test_a_refused_message_still_leaves_the_lapse_that_preceded_it(lctx: Context) -> None:
    first, _ = two_for_one_place(lctx)
    clock_of(lctx).instant = DUE + timedelta(hours=3)
    # Another court's decision is refused, but the term had already lapsed: that stands.
    with pytest.raises(GuardFailed, match="non è pendente davanti a Tribunale X"):
        placements.record_decision(
            lctx, first, Outcome.REJECTED, date(2026, 3, 20), "Tribunale X", "cancelleria"
        )
    detail = engine.describe(lctx, first)
    assert (detail.case.state, detail.history[-1].trigger) == ("lapsed", "lapse")
    assert detail.history[-1].effective_at == DUE


def test_a_generic_fire_after_the_term_fires_the_term_first(lctx: Context) -> None:
    first, _ = two_for_one_place(lctx)
    clock_of(lctx).instant = DUE + timedelta(days=1)
    result = engine.fire(lctx, first, "close", "uiepe")
    assert (result.caught_up, result.from_state, result.to_state) == (
        ("lapse",),
        "lapsed",
        "closed",
    )
    assert result.signals == ("reallocate",)
    triggers = [
        (e.trigger, rome_date(e.effective_at)) for e in engine.describe(lctx, first).history
    ]
    assert triggers[-2:] == [("lapse", date(2026, 5, 3)), ("close", date(2026, 5, 4))]


def test_nobody_but_its_timer_fires_a_lapse(lctx: Context) -> None:
    first, _ = two_for_one_place(lctx)
    with pytest.raises(
        Exception,
        match=r"^trigger 'lapse' applicato solo dal timer, alla scadenza del termine "
        r"'attestation_validity'$",
    ):
        engine.fire(lctx, first, "lapse", "uiepe")
    assert engine.describe(lctx, first).case.state == "at_court"

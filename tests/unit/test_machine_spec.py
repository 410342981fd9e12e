"""The machine as data: every state x every trigger of the demo machine, allowed or refused."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest

from machines.spec import (
    CaseMachine,
    CaseView,
    GuardInput,
    GuardRefused,
    Term,
    Transition,
    TriggerNotAllowed,
)
from tests.support.demo import MACHINE, REVIEW_TERM, Demo

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = Demo
# Where each trigger leads from each state when every guard allows it; None: not allowed there.
EXPECTED: dict[Demo, dict[str, Demo | None]] = {
    S.DRAFT: {
        "file": S.FILED,
        "review": None,
        "grant": None,
        "reject": None,
        "lapse": None,
        "close": None,
    },
    S.FILED: {
        "file": None,
        "review": S.UNDER_REVIEW,
        "grant": None,
        "reject": None,
        "lapse": None,
        "close": None,
    },
    S.UNDER_REVIEW: {
        "file": None,
        "review": None,
        "grant": S.GRANTED,
        "reject": S.REJECTED,
        "lapse": S.LAPSED,
        "close": None,
    },
    S.GRANTED: {
        "file": None,
        "review": None,
        "grant": None,
        "reject": None,
        "lapse": None,
        "close": S.CLOSED,
    },
    S.REJECTED: {
        "file": None,
        "review": None,
        "grant": None,
        "reject": None,
        "lapse": None,
        "close": S.CLOSED,
    },
    S.LAPSED: {
        "file": None,
        "review": None,
        "grant": None,
        "reject": None,
        "lapse": None,
        "close": S.CLOSED,
    },
    S.CLOSED: {
        "file": None,
        "review": None,
        "grant": None,
        "reject": None,
        "lapse": None,
        "close": None,
    },
}
TABLE = [(state, trigger, dest) for state, row in EXPECTED.items() for trigger, dest in row.items()]


def given(state: Demo, data: dict[str, Any] | None = None, **payload: Any) -> GuardInput:
    return GuardInput(CaseView("DEM-2026-000001", state.value, data or {}), payload, NOW)


def test_the_table_covers_every_state_and_trigger() -> None:
    assert set(EXPECTED) == set(Demo)
    assert all(set(row) == set(MACHINE.triggers) for row in EXPECTED.values())


@pytest.mark.parametrize(("state", "trigger", "dest"), TABLE)
def test_each_state_and_trigger(state: Demo, trigger: str, dest: Demo | None) -> None:
    passing = given(state, {"eligible": True}, protocol="P-1")
    verdict = {v.trigger: v for v in MACHINE.verdicts(passing)}[trigger]
    if dest is None:
        with pytest.raises(TriggerNotAllowed, match=f"'{trigger}' not allowed from state"):
            MACHINE.fire(trigger, passing)
        assert not verdict.allowed
        assert verdict.reasons == (f"not allowed from state '{state.value}'",)
    else:
        fired = MACHINE.fire(trigger, passing)
        assert (fired.source, fired.dest) == (state, dest)
        assert fired.transition.article
        assert verdict.allowed and verdict.dest == dest.value and verdict.reasons == ()


@pytest.mark.parametrize(
    ("state", "trigger", "data", "payload", "reason"),
    [
        (S.DRAFT, "file", {}, {}, "a protocol number is required (art. 1 co. 2 demo)"),
        (S.UNDER_REVIEW, "grant", {"eligible": False}, {}, "the applicant is not eligible"),
    ],
)
def test_guards_refuse_with_their_reason_and_article(
    state: Demo, trigger: str, data: dict[str, Any], payload: dict[str, Any], reason: str
) -> None:
    refused = given(state, data, **payload)
    with pytest.raises(GuardRefused) as caught:
        MACHINE.fire(trigger, refused)
    assert any(reason in r for r in caught.value.reasons)
    verdict = {v.trigger: v for v in MACHINE.verdicts(refused)}[trigger]
    assert not verdict.allowed
    assert any(reason in r for r in verdict.reasons)


def test_an_unknown_trigger_is_named_as_such() -> None:
    with pytest.raises(TriggerNotAllowed, match="is not a trigger of this machine"):
        MACHINE.fire("approve", given(S.FILED))


def test_firing_does_not_touch_the_view() -> None:
    view = given(S.FILED)
    MACHINE.fire("review", view)
    assert view.case.state == S.FILED.value


def test_terms_are_declared_per_state() -> None:
    (term,) = MACHINE.terms_of(S.UNDER_REVIEW)
    assert (term.name, term.fires, term.rule) == ("review_deadline", "lapse", REVIEW_TERM)
    assert MACHINE.terms_of(S.DRAFT) == ()


class Tiny(StrEnum):
    A = "a"
    B = "b"


def test_declarations_are_checked() -> None:
    go = Transition("go", (Tiny.A,), Tiny.B, "art. 1")
    with pytest.raises(ValueError, match="declared twice"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (go, go))
    with pytest.raises(ValueError, match="has no article"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (Transition("go", (Tiny.A,), Tiny.B, ""),))
    with pytest.raises(ValueError, match="fires unknown"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (go,), (Term(Tiny.B, "t", REVIEW_TERM, "stop"),))


def test_a_crashing_guard_refuses_in_what_can_happen_now_and_raises_on_fire() -> None:
    sabotaged = given(S.UNDER_REVIEW, {"explode": True})
    verdict = {v.trigger: v for v in MACHINE.verdicts(sabotaged)}["lapse"]
    assert not verdict.allowed
    assert verdict.reasons == (
        "guard not_sabotaged could not be checked: RuntimeError: the lapse check crashed",
    )
    with pytest.raises(RuntimeError):
        MACHINE.fire("lapse", sabotaged)

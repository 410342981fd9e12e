"""The machine as data: every state x every trigger of the demo machine, allowed or refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import pytest

from machines.spec import (
    CaseMachine,
    CaseView,
    GuardInput,
    GuardRefused,
    Reminder,
    Term,
    Transition,
    TriggerNotAllowed,
)
from tests.support.demo import MACHINE, REVIEW_TERM, VALIDITY, Demo, Opening

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = Demo
# Where each trigger leads from each state when every guard allows it; None: not allowed there.
EXPECTED: dict[Demo, dict[str, Demo | None]] = {
    S.DRAFT: {"file": S.FILED},
    S.FILED: {"review": S.UNDER_REVIEW},
    S.UNDER_REVIEW: {
        "suspend": S.ON_HOLD,
        "grant": S.GRANTED,
        "reject": S.REJECTED,
        "lapse": S.LAPSED,
    },
    S.ON_HOLD: {"resume": S.UNDER_REVIEW, "lapse": S.LAPSED},
    S.GRANTED: {"close": S.CLOSED},
    S.REJECTED: {"close": S.CLOSED},
    S.LAPSED: {"close": S.CLOSED},
    S.CLOSED: {},
}
TRIGGERS = ("file", "review", "suspend", "resume", "grant", "reject", "lapse", "close")
# Every state x every trigger: what is not listed above is not allowed.
TABLE = [(state, trigger, EXPECTED[state].get(trigger)) for state in Demo for trigger in TRIGGERS]


def given(state: Demo, data: dict[str, Any] | None = None, **payload: Any) -> GuardInput:
    return GuardInput(CaseView("DEM-2026-000001", state.value, data or {}), payload, NOW)


def test_the_table_covers_every_state_and_trigger() -> None:
    assert set(EXPECTED) == set(Demo)
    assert set(TRIGGERS) == set(MACHINE.triggers)
    assert len(TABLE) == len(Demo) * len(TRIGGERS)


@pytest.mark.parametrize(("state", "trigger", "dest"), TABLE)
def test_each_state_and_trigger(state: Demo, trigger: str, dest: Demo | None) -> None:
    passing = given(state, {"eligible": True}, protocol="P-1")
    verdict = {v.trigger: v for v in MACHINE.verdicts(passing)}[trigger]
    if dest is None:
        with pytest.raises(
            TriggerNotAllowed,
            match=f"^trigger '{trigger}' non consentito dallo stato '{state.value}'$",
        ):
            MACHINE.fire(trigger, passing)
        assert not verdict.allowed
        assert verdict.reasons == (f"non consentito dallo stato '{state.value}'",)
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
    with pytest.raises(TriggerNotAllowed) as refused:
        MACHINE.fire("approve", given(S.FILED))
    assert str(refused.value) == (
        "trigger 'approve' non previsto per questo tipo di pratica (stato 'filed')"
    )


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
    C = "c"


def test_a_term_runs_through_its_states_and_starts_only_once() -> None:
    assert MACHINE.kept_terms(S.UNDER_REVIEW, S.ON_HOLD) == ("review_deadline",)
    assert MACHINE.kept_terms(S.ON_HOLD, S.UNDER_REVIEW) == ("review_deadline",)
    assert MACHINE.kept_terms(S.UNDER_REVIEW, S.GRANTED) == ()
    assert MACHINE.starting_terms(S.ON_HOLD, S.UNDER_REVIEW) == ()  # resumed: still running
    assert [t.name for t in MACHINE.starting_terms(S.FILED, S.UNDER_REVIEW)] == ["review_deadline"]
    assert MACHINE.runs_in("review_deadline", "on_hold")
    assert not MACHINE.runs_in("review_deadline", "granted")
    assert not MACHINE.runs_in("no_such_timer", "under_review")


def test_declarations_are_checked() -> None:
    go = Transition("go", (Tiny.A,), Tiny.B, "art. 1")
    with pytest.raises(ValueError, match="declared twice"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (go, go))
    with pytest.raises(ValueError, match="has no article"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (Transition("go", (Tiny.A,), Tiny.B, ""),))
    with pytest.raises(ValueError, match="fires unknown"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (go,), (Term(Tiny.B, "t", REVIEW_TERM, "stop"),))
    back = Transition("back", (Tiny.B,), Tiny.A, "art. 2")
    through_b = Term(Tiny.A, "t", REVIEW_TERM, "go", through=(Tiny.B,))
    assert CaseMachine("tiny", "TNY", Tiny, Tiny.A, (go, back), (through_b,))
    with pytest.raises(ValueError, match="from outside it"):  # C enters B, outside the span
        CaseMachine(
            "tiny",
            "TNY",
            Tiny,
            Tiny.A,
            (go, back, Transition("jump", (Tiny.C,), Tiny.B, "art. 3")),
            (through_b,),
        )
    with pytest.raises(ValueError, match="share a name"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (go, back), (through_b, through_b))
    from_receipt = Term(Tiny.B, "r", REVIEW_TERM, "back", starts_on="received_on")
    with pytest.raises(ValueError, match="counts on undeclared received_on"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (go, back), (from_receipt,))
    chosen = Term(Tiny.B, "r", VALIDITY, "back", days_from="eligible")  # declared, in months
    with pytest.raises(ValueError, match="takes its days, not months"):
        CaseMachine("tiny", "TNY", Tiny, Tiny.A, (go, back), (chosen,), opening=Opening)


def test_a_term_counts_from_a_recorded_date_for_the_days_chosen() -> None:
    from tests.support.receipt import CLARIFICATION, DEFENCE
    from tests.support.receipt import MACHINE as NOTICES

    clarifying, defending = NOTICES.terms
    assert clarifying.start_for({"received_on": "2026-09-04"}, date(2026, 9, 1)) == date(2026, 9, 4)
    assert clarifying.rule_for({}) is CLARIFICATION
    assert defending.start_for({}, date(2026, 4, 2)) == date(2026, 4, 2)
    assert defending.rule_for({"defence_days": 45}).amount == 45
    assert defending.rule_for({"defence_days": 45}).article == DEFENCE.article


def test_a_crashing_guard_refuses_in_what_can_happen_now_and_raises_on_fire() -> None:
    sabotaged = given(S.UNDER_REVIEW, {"explode": True})
    verdict = {v.trigger: v for v in MACHINE.verdicts(sabotaged)}["lapse"]
    assert not verdict.allowed
    assert verdict.reasons == (
        "regola not_sabotaged non verificabile: RuntimeError: the lapse check crashed",
    )
    with pytest.raises(RuntimeError):
        MACHINE.fire("lapse", sabotaged)


def test_a_reminder_is_due_whole_days_before_its_term_in_italian_time() -> None:
    (term,) = MACHINE.terms_of(S.GRANTED)
    (reminder,) = MACHINE.reminders_of(term)
    # Granted on 2 March 2026: the validity ends on 2 May; the warning is due at 00:00 of
    # 23 April, across the change to summer time on 29 March.
    assert term.rule.due_at(date(2026, 3, 2)) == datetime(2026, 5, 2, 22, 0, tzinfo=UTC)
    assert reminder.due_at(term.rule, date(2026, 3, 2)) == datetime(2026, 4, 22, 22, 0, tzinfo=UTC)
    assert MACHINE.runs_in("validity_warning", "granted")
    assert not MACHINE.runs_in("validity_warning", "closed")
    assert MACHINE.kept_terms(S.GRANTED, S.CLOSED) == ()


def test_reminders_are_checked() -> None:
    go = Transition("go", (Tiny.A,), Tiny.B, "art. 1")
    term = Term(Tiny.B, "t", REVIEW_TERM, "go")
    with pytest.raises(ValueError, match="needs a term"):
        CaseMachine(
            "tiny",
            "TNY",
            Tiny,
            Tiny.A,
            (go,),
            (term,),
            reminders=(Reminder("nope", "r", 3, "avviso_scadenza"),),
        )
    with pytest.raises(ValueError, match="needs a term"):
        CaseMachine(
            "tiny",
            "TNY",
            Tiny,
            Tiny.A,
            (go,),
            (term,),
            reminders=(Reminder("t", "r", 0, "avviso_scadenza"),),
        )

"""The LPU convention machine (art. 54 co. 6 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001): every
state x every trigger, and its guards: at most five years, the delegation's tribunal, the three
insurances."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from machines.lpu.convention import MACHINE, Convention, longest_until
from machines.spec import CaseView, GuardInput, GuardRefused, TriggerNotAllowed

S = Convention
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPENING: dict[str, Any] = {
    "entity": "Comune di Torino",
    "entity_kind": "municipality",
    "counterparty": "ministry",
    "province": "Torino",
    "activities": ["manutenzione del verde pubblico"],
    "capacity": 3,
    "coordinators": ["responsabile del servizio verde"],
    "accident_insurance": True,
    "occupational_disease_insurance": True,
    "liability_insurance": True,
    "valid_from": "2026-03-01",
    "valid_until": "2031-02-28",
}
EXPECTED: dict[S, dict[str, S]] = {
    S.DRAFTED: {"sign": S.IN_FORCE, "withdraw": S.WITHDRAWN},
    S.IN_FORCE: {"expire": S.EXPIRED, "terminate": S.TERMINATED},
    S.EXPIRED: {},
    S.TERMINATED: {},
    S.WITHDRAWN: {},
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "terminate": {"reason": "Servizio soppresso.", "ended_on": "2026-03-02"}
}


def given(state: S, payload: dict[str, Any], **data: Any) -> GuardInput:
    opened = MACHINE.validate_opening(OPENING)
    return GuardInput(CaseView("CLPU-2026-000001", state.value, {**opened, **data}), payload, NOW)


def test_the_table_covers_every_state_and_trigger() -> None:
    assert set(EXPECTED) == set(Convention)
    assert set(MACHINE.triggers) == {"sign", "withdraw", "expire", "terminate"}


@pytest.mark.parametrize(
    ("state", "trigger"), [(state, trigger) for state in S for trigger in MACHINE.triggers]
)
def test_each_state_and_trigger(state: S, trigger: str) -> None:
    dest = EXPECTED[state].get(trigger)
    payload = MACHINE.validate(trigger, PAYLOADS.get(trigger, {}))
    if dest is None:
        with pytest.raises(TriggerNotAllowed):
            MACHINE.fire(trigger, given(state, payload))
        return
    assert MACHINE.fire(trigger, given(state, payload)).dest == dest


def test_only_its_term_expires_a_convention() -> None:
    term = MACHINE.term_firing("expire", S.IN_FORCE)
    assert term is not None and term.name == "convention_validity"


@pytest.mark.parametrize(
    ("start", "last"),
    [
        (date(2026, 3, 1), date(2031, 2, 28)),
        (date(2028, 2, 29), date(2033, 2, 28)),  # no 29 Feb in 2033: its last day (art. 2963)
        (date(2026, 1, 1), date(2030, 12, 31)),
    ],
)
def test_five_years_end_the_day_before_the_fifth_anniversary(start: date, last: date) -> None:
    assert longest_until(start) == last


def test_a_convention_longer_than_five_years_is_refused_naming_the_last_day() -> None:
    too_long = {**OPENING, "valid_until": "2031-03-01"}
    opened = MACHINE.validate_opening(too_long)
    with pytest.raises(GuardRefused) as refused:
        MACHINE.judge_opening(GuardInput(CaseView("", "", {}), opened, NOW))
    assert refused.value.field == "valid_until"
    assert "oltre 5 anni" in str(refused.value) and "28/02/2031" in str(refused.value)
    assert "art. 2 co. 1 D.M. 26 marzo 2001" in str(refused.value)
    MACHINE.judge_opening(GuardInput(CaseView("", "", {}), MACHINE.validate_opening(OPENING), NOW))


def test_a_delegated_convention_names_its_tribunal() -> None:
    delegated = MACHINE.validate_opening({**OPENING, "counterparty": "tribunal_president"})
    with pytest.raises(GuardRefused) as refused:
        MACHINE.judge_opening(GuardInput(CaseView("", "", {}), delegated, NOW))
    assert refused.value.field == "tribunal"


def test_signing_needs_the_three_insurances() -> None:
    with pytest.raises(GuardRefused) as refused:
        MACHINE.fire("sign", given(S.DRAFTED, {}, liability_insurance=False))
    assert "responsabilità civile verso terzi" in str(refused.value)
    assert "art. 2 co. 2 D.M. 26 marzo 2001" in str(refused.value)


def test_the_duration_is_computed_and_checked() -> None:
    assert MACHINE.validate_opening(OPENING)["days"] == 1826
    with pytest.raises(Exception, match="durata"):
        MACHINE.validate_opening({**OPENING, "days": 10})


@pytest.mark.parametrize("state", list(Convention))
def test_what_can_happen_now_is_answered_without_a_payload(state: S) -> None:
    """A case page asks every trigger with no payload: each guard answers (what is missing),
    none crashes."""
    data = {"valid_from": "2026-03-01", "valid_until": "2031-02-28", "counterparty": "ministry"}
    given = GuardInput(CaseView("CLPU-2026-000001", state.value, data), {}, NOW, {})
    for verdict in MACHINE.verdicts(given):
        assert not any("non verificabile" in reason for reason in verdict.reasons), verdict

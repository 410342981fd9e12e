"""The placement machine (D.M. 128/2025 arts. 11-14): every state x every trigger, and the
requirements the Director checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from machines.calendar import lapse_instant
from machines.placements import EQUIPE_PARAMETERS, MACHINE, REQUIREMENTS, Placement
from machines.spec import CaseView, GuardInput, GuardRefused, TriggerNotAllowed

S = Placement
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXPECTED: dict[Placement, dict[str, Placement]] = {
    S.FILED: {"forward": S.FORWARDED, "refuse": S.REFUSED, "withdraw": S.WITHDRAWN},
    S.FORWARDED: {"register": S.REGISTERED, "withdraw": S.WITHDRAWN},
    S.REGISTERED: {"admit": S.QUEUED, "refuse": S.REFUSED, "withdraw": S.WITHDRAWN},
    S.QUEUED: {"attest": S.ATTESTED, "withdraw": S.WITHDRAWN},
    S.ATTESTED: {
        "transmit": S.AT_COURT,
        "grant": S.GRANTED,
        "reject": S.REJECTED,
        "lapse": S.LAPSED,
        "withdraw": S.WITHDRAWN,
        "requeue": S.QUEUED,
    },
    S.AT_COURT: {
        "grant": S.GRANTED,
        "reject": S.REJECTED,
        "lapse": S.LAPSED,
        "withdraw": S.WITHDRAWN,
        "requeue": S.QUEUED,
    },
    S.GRANTED: {"enter": S.PLACED, "withdraw": S.WITHDRAWN},
    S.PLACED: {"leave": S.ENDED, "funding_end": S.ENDED},
    S.ENDED: {"close": S.CLOSED},
    S.REFUSED: {"close": S.CLOSED},
    S.REJECTED: {"close": S.CLOSED},
    S.LAPSED: {"close": S.CLOSED},
    S.WITHDRAWN: {"close": S.CLOSED},
    S.CLOSED: {},
}
TRIGGERS = MACHINE.triggers
TABLE = [(state, trigger, EXPECTED[state].get(trigger)) for state in S for trigger in TRIGGERS]
EVERYTHING: dict[str, Any] = {
    **dict.fromkeys(REQUIREMENTS, True),
    "equipe_report": dict.fromkeys(EQUIPE_PARAMETERS, True),
    "taxable_income": "9000.00",
    "cohabitants": 0,
    "protocol_number": "UIEPE-RM/2026/123",
    "protocol_at": "2026-03-02T10:15:00+01:00",
    "reason": "documentazione incompleta",
    "convention": "CONV-7",
    "place": "FAC-7/3",
    "decided_on": "2026-03-01",
    "court": "Tribunale di sorveglianza di Roma",
    "commitment_signed": True,
    "entered_on": "2026-03-25",
    "left_on": "2026-09-01",
    "facility": "FAC-7",
}
# What the placements know beyond the case: FAC-7, the facility of the place held, cancelled.
FACTS: dict[str, Any] = {"held_facility_cancelled": "FAC-7"}


def given(state: Placement, payload: dict[str, Any], **data: Any) -> GuardInput:
    data = {"court": "Tribunale di sorveglianza di Roma", **data}
    return GuardInput(CaseView("ATT-2026-000001", state.value, data), payload, NOW, FACTS)


def test_the_table_covers_every_state_and_trigger() -> None:
    assert set(EXPECTED) == set(Placement)
    assert len(TABLE) == 14 * 15  # 14 states, 15 triggers


@pytest.mark.parametrize(("state", "trigger", "dest"), TABLE)
def test_each_state_and_trigger(state: Placement, trigger: str, dest: Placement | None) -> None:
    if dest is None:
        with pytest.raises(TriggerNotAllowed):
            MACHINE.fire(trigger, given(state, EVERYTHING))
        return
    fired = MACHINE.fire(trigger, given(state, EVERYTHING))
    assert fired.dest == dest
    assert "D.M. 128/2025" in fired.transition.article


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"no_suitable_domicile": False}, "assenza di un domicilio idoneo (art. 11 co. 1 b)"),
        ({"no_expulsion_order": None}, "art. 11 co. 1 d"),
        ({"equipe_report": None}, "relazione di sintesi dell'equipe (art. 12 co. 3)"),
        (
            {"equipe_report": {**dict.fromkeys(EQUIPE_PARAMETERS, True), "no_aggression": False}},
            "aggressività",
        ),
        ({"taxable_income": "13659.65"}, "superiore al limite di EUR 13659.64"),
        ({"taxable_income": None}, "reddito imponibile annuo non indicato"),
    ],
)
def test_the_director_refuses_naming_the_missing_requirement(
    change: dict[str, Any], named: str
) -> None:
    with pytest.raises(GuardRefused) as refused:
        MACHINE.fire("forward", given(S.FILED, {**EVERYTHING, **change}))
    assert named in str(refused.value)
    assert "art. 11 co. 1-2 D.M. 128/2025" in str(refused.value)


def test_the_income_limit_is_the_one_in_force_on_the_filing_date() -> None:
    at_limit = {**EVERYTHING, "taxable_income": "13659.64"}
    assert MACHINE.fire("forward", given(S.FILED, at_limit, filed_on="2025-07-11")).dest == (
        S.FORWARDED
    )
    with pytest.raises(GuardRefused, match=r"12838\.01"):
        MACHINE.fire("forward", given(S.FILED, at_limit, filed_on="2025-07-10"))
    family = {**EVERYTHING, "taxable_income": "14692.55", "cohabitants": 1}
    assert MACHINE.fire("forward", given(S.FILED, family, filed_on="2026-01-10")).dest == (
        S.FORWARDED
    )


def test_attestation_validity_runs_across_the_transmission_and_funding_warns_30_days_before() -> (
    None
):
    assert MACHINE.kept_terms(S.ATTESTED, S.AT_COURT) == ("attestation_validity",)
    assert MACHINE.kept_terms(S.AT_COURT, S.GRANTED) == ()
    (validity,) = MACHINE.terms_of(S.ATTESTED)
    # Issued on 31 December: the attestation lapses at 00:00 after the last day of February.
    assert validity.rule.due_at(date(2026, 12, 31)) == lapse_instant(date(2027, 2, 28))
    (stay,) = MACHINE.terms_of(S.PLACED)
    (warning,) = MACHINE.reminders_of(stay)
    # Entering on 25 March, the first paid day, the last funded day is 24 November (art. 11
    # co. 4 D.M. 128/2025); the warning comes 30 days before it.
    assert stay.rule.due_at(date(2026, 3, 25)) == lapse_instant(date(2026, 11, 24))
    assert warning.due_at(stay.rule, date(2026, 3, 25)) == lapse_instant(date(2026, 10, 25))


def test_freeing_a_place_or_joining_the_queue_signals_a_reallocation() -> None:
    signalling = {t.trigger for t in MACHINE.transitions if "reallocate" in t.signals}
    assert signalling == {"reject", "lapse", "leave", "funding_end", "withdraw", "requeue"}
    # Joining the queue waits for the scheduled run, which serves the queue in protocol order.
    assert {t.trigger for t in MACHINE.transitions if t.signals == ("queue",)} == {"admit"}
    pending_withdrawal = MACHINE.fire("withdraw", given(S.QUEUED, {}))
    assert pending_withdrawal.transition.signals == ()  # no place was held yet

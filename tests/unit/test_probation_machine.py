"""The probation machine (art. 168-bis c.p.; arts. 464-bis ss. c.p.p.; L. 67/2014): every state
x every trigger against a table written out here, the terms (the period from the record's
signature, the reports' cadence restarted by each report, the final report counted back from the
hearing) and the guards, each refusal naming its article."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from machines.calendar import lapse_instant
from machines.probation.machine import MACHINE, Probation
from machines.spec import CaseView, GuardInput, GuardRefused, TriggerNotAllowed

S = Probation
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Rome, Monday 2 March 2026
OPENING: dict[str, Any] = {
    "person_key": "persona-0001",
    "uepe": "UEPE di Torino",
    "court": "Tribunale di Torino",
    "offence": {"article": "art. 624 c.p.", "max_detention_months": 36},
    "requested_on": "2026-01-10",
}
DATA: dict[str, Any] = {
    **MACHINE.validate_opening(OPENING),
    "ordered_on": "2026-02-10",
    "duration_months": 12,
    "duration_days": 0,
    "cadence_months": 3,
    "record_signed_on": "2026-02-20",
    "revocation_pending": True,
}
FACTS: dict[str, Any] = {"earlier_probations": [], "programme_version": 1, "lpu_days_done": 10}
PROGRAMME = {
    "components": ["reparation", "lpu"],
    "lpu_days": 10,
    "lpu_hours_per_day": "4",
    "drafted_on": "2026-03-01",
    "details": "Riparazione presso la biblioteca civica.",
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "inquire": {"started_on": "2026-03-01"},
    "draft": PROGRAMME,
    "send": {"sent_on": "2026-03-02", "consent": True, "entity_adherence": True},
    "admit": {"ordered_on": "2026-03-02", "duration_months": 12, "cadence_months": 3},
    "refuse": {"ordered_on": "2026-03-02"},
    "sign": {"record_signed_on": "2026-03-02"},
    "report": {"reported_on": "2026-03-02"},
    "integrate": {**PROGRAMME, "ordered_on": "2026-03-02"},
    "set_revocation_hearing": {
        "cause": "breach", "revocation_hearing_on": "2026-03-20", "notified_on": "2026-03-02",
    },
    "continue": {"ordered_on": "2026-03-02"},
    "revoke": {"decided_on": "2026-03-02"},
    "set_hearing": {"hearing_on": "2026-04-20", "set_on": "2026-03-02"},
    "file_final_report": {"reported_on": "2026-03-02", "positive": True},
    "extinguish": {"decided_on": "2026-03-02"},
    "resume": {"decided_on": "2026-03-02"},
    "withdraw": {"reason": "L'imputato rinuncia."},
}  # fmt: skip
TRIGGERS = (
    "inquire", "draft", "send", "admit", "refuse", "sign", "report", "report_overdue",
    "integrate", "period_end", "set_revocation_hearing", "continue", "revoke", "set_hearing",
    "final_report_overdue", "file_final_report", "extinguish", "resume", "withdraw",
)  # fmt: skip
ACTIVE = {
    "report": None, "report_overdue": None, "integrate": None,
    "period_end": S.PERIOD_ENDED,
}  # fmt: skip
EXPECTED: dict[Probation, dict[str, Probation]] = {
    S.REQUESTED: {"inquire": S.INQUIRY, "withdraw": S.WITHDRAWN},
    S.INQUIRY: {"draft": S.INQUIRY, "send": S.SENT, "withdraw": S.WITHDRAWN},
    S.SENT: {"admit": S.ADMITTED, "refuse": S.REFUSED, "withdraw": S.WITHDRAWN},
    S.ADMITTED: {"sign": S.RUNNING},
    S.REFUSED: {},
    S.RUNNING: {
        **{t: dest or S.RUNNING for t, dest in ACTIVE.items()},
        "set_revocation_hearing": S.REVOCATION_HEARING,
    },
    S.REVOCATION_HEARING: {
        **{t: dest or S.REVOCATION_HEARING for t, dest in ACTIVE.items()},
        "continue": S.RUNNING,
        "revoke": S.REVOKED,
    },
    S.PERIOD_ENDED: {
        "continue": S.PERIOD_ENDED, "revoke": S.REVOKED, "set_hearing": S.HEARING_SET,
    },
    S.HEARING_SET: {
        "final_report_overdue": S.REPORT_OVERDUE, "file_final_report": S.REPORTED,
        "extinguish": S.EXTINGUISHED, "resume": S.RESUMED,
    },
    S.REPORT_OVERDUE: {
        "file_final_report": S.REPORTED, "extinguish": S.EXTINGUISHED, "resume": S.RESUMED,
    },
    S.REPORTED: {"extinguish": S.EXTINGUISHED, "resume": S.RESUMED},
    S.EXTINGUISHED: {},
    S.RESUMED: {},
    S.REVOKED: {},
    S.WITHDRAWN: {},
}  # fmt: skip
TABLE = [(state, t, EXPECTED[state].get(t)) for state in Probation for t in TRIGGERS]


def asked(
    state: Probation,
    payload: dict[str, Any],
    data: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
) -> GuardInput:
    case = CaseView("MAP-2026-000001", state.value, DATA if data is None else data)
    return GuardInput(case, payload, NOW, FACTS if facts is None else facts)


def sent(trigger: str, **changes: Any) -> dict[str, Any]:
    return MACHINE.validate(trigger, {**PAYLOADS.get(trigger, {}), **changes})


def refusal_of(trigger: str, given: GuardInput) -> GuardRefused:
    with pytest.raises(GuardRefused) as refused:
        MACHINE.fire(trigger, given)
    return refused.value


def test_the_table_covers_every_state_and_trigger() -> None:
    assert set(EXPECTED) == set(Probation)
    assert set(TRIGGERS) == set(MACHINE.triggers)
    assert len(TABLE) == 15 * 19
    assert (MACHINE.kind, MACHINE.prefix, MACHINE.initial) == ("probation", "MAP", S.REQUESTED)


@pytest.mark.parametrize(("state", "trigger", "dest"), TABLE)
def test_each_state_and_trigger(state: Probation, trigger: str, dest: Probation | None) -> None:
    given = asked(state, sent(trigger))
    verdict = {v.trigger: v for v in MACHINE.verdicts(given)}[trigger]
    if dest is None:
        with pytest.raises(TriggerNotAllowed):
            MACHINE.fire(trigger, given)
        assert not verdict.allowed
        return
    fired = MACHINE.fire(trigger, given)
    assert (fired.source, fired.dest) == (state, dest)
    assert verdict.allowed, verdict.reasons


TIMER_ONLY = {
    ("period_end", S.RUNNING): "probation_period",
    ("period_end", S.REVOCATION_HEARING): "probation_period",
    ("report_overdue", S.RUNNING): "periodic_report",
    ("report_overdue", S.REVOCATION_HEARING): "periodic_report",
    ("final_report_overdue", S.HEARING_SET): "final_report",
}


@pytest.mark.parametrize(("state", "trigger"), [(s, t) for s in Probation for t in TRIGGERS])
def test_only_its_term_fires_a_lapse(state: Probation, trigger: str) -> None:
    term = MACHINE.term_firing(trigger, state)
    assert (term.name if term else None) == TIMER_ONLY.get((trigger, state))


# --- the request ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offence", "refused"),
    [
        ({"article": "art. 624 c.p.", "max_detention_months": 48}, False),
        ({"article": "art. 624 c.p.", "max_detention_months": 49}, True),
        ({"article": "art. 726 c.p.", "fine_only": True}, False),
        ({"article": "art. 648 c.p.", "max_detention_months": 96, "listed_550": "ricettazione"},
         False),
    ],
)  # fmt: skip
def test_the_offence_is_judged_as_the_request_is_filed(
    offence: dict[str, Any], refused: bool
) -> None:
    request = MACHINE.validate_opening({**OPENING, "offence": offence})
    given = GuardInput(CaseView("", "", {}), request, NOW)
    if refused:
        with pytest.raises(GuardRefused) as refusal:
            MACHINE.judge_opening(given)
        assert "art. 168-bis" in str(refusal.value) and refusal.value.field == "offence"
    else:
        MACHINE.judge_opening(given)


def test_habitual_offenders_are_refused() -> None:
    request = MACHINE.validate_opening({**OPENING, "habitual": True})
    with pytest.raises(GuardRefused) as refusal:
        MACHINE.judge_opening(GuardInput(CaseView("", "", {}), request, NOW))
    assert "168-bis co. 5" in str(refusal.value)


def test_once_only_and_its_recorded_override() -> None:
    earlier = {**FACTS, "earlier_probations": [("MAP-2025-000007", "extinguished")]}
    refused = refusal_of("inquire", asked(S.REQUESTED, sent("inquire"), facts=earlier))
    assert "art. 168-bis co. 4 c.p." in str(refused) and refused.field == "connected_to"
    override = sent(
        "inquire",
        connected_to=["MAP-2025-000007"],
        override_ground="Reati in continuazione con quelli della prova precedente.",
    )
    fired = MACHINE.fire("inquire", asked(S.REQUESTED, override, facts=earlier))
    assert fired.dest == S.INQUIRY
    revoked = {**FACTS, "earlier_probations": [("MAP-2025-000007", "revoked")]}
    again = refusal_of("inquire", asked(S.REQUESTED, override, facts=revoked))
    assert "revoca" in str(again) or "revocat" in str(again)


# --- programme, order, durations ------------------------------------------------------------


def test_a_programme_whose_lpu_part_has_fewer_than_ten_days_is_refused() -> None:
    refused = refusal_of("draft", asked(S.INQUIRY, sent("draft", lpu_days=9)))
    assert "art. 168-bis co. 3 c.p." in str(refused) and refused.field == "lpu_days"
    assert MACHINE.fire("draft", asked(S.INQUIRY, sent("draft", lpu_days=10))).dest == S.INQUIRY
    over = refusal_of("draft", asked(S.INQUIRY, sent("draft", lpu_hours_per_day="8.5")))
    assert "8" in str(over)


def test_sending_needs_consent_adherence_and_a_programme() -> None:
    refused = refusal_of(
        "send",
        asked(S.INQUIRY, sent("send", consent=False), facts={**FACTS, "programme_version": 0}),
    )
    assert "programma non redatto" in str(refused) and "consenso" in str(refused)


@pytest.mark.parametrize(
    ("offence", "months", "refused"),
    [
        ({"article": "art. 624 c.p.", "max_detention_months": 36}, 24, False),
        ({"article": "art. 624 c.p.", "max_detention_months": 36}, 25, True),
        ({"article": "art. 726 c.p.", "fine_only": True}, 12, False),
        ({"article": "art. 726 c.p.", "fine_only": True}, 13, True),
    ],
)
def test_durations_at_and_beyond_each_limit(
    offence: dict[str, Any], months: int, refused: bool
) -> None:
    data = {**DATA, "offence": offence}
    given = asked(S.SENT, sent("admit", duration_months=months), data=data)
    if refused:
        refusal = refusal_of("admit", given)
        assert "art. 464-quater co. 5" in str(refusal) and refusal.field == "duration_months"
    else:
        assert MACHINE.fire("admit", given).dest == S.ADMITTED


def test_reports_at_most_three_months_apart() -> None:
    refused = refusal_of("admit", asked(S.SENT, sent("admit", cadence_months=4)))
    assert refused.field == "cadence_months"


# --- revocation and the final report ---------------------------------------------------------


@pytest.mark.parametrize(("notified", "refused"), [("2026-03-11", True), ("2026-03-10", False)])
def test_a_revocation_hearing_notified_nine_days_before_is_refused(
    notified: str, refused: bool
) -> None:
    payload = sent(
        "set_revocation_hearing", revocation_hearing_on="2026-03-20", notified_on=notified
    )
    given = asked(S.RUNNING, payload)
    if refused:
        refusal = refusal_of("set_revocation_hearing", given)
        assert "art. 464-octies co. 2" in str(refusal) and refusal.field == "notified_on"
    else:
        assert MACHINE.fire("set_revocation_hearing", given).dest == S.REVOCATION_HEARING


def test_a_positive_report_with_a_short_lpu_needs_the_recorded_reason() -> None:
    short = {**FACTS, "lpu_days_done": 9}
    refused = refusal_of(
        "file_final_report", asked(S.HEARING_SET, sent("file_final_report"), facts=short)
    )
    assert refused.field == "lpu_shortfall_reason" and "9 giorni" in str(refused)
    reason = sent("file_final_report", lpu_shortfall_reason="Malattia documentata.")
    assert MACHINE.fire("file_final_report", asked(S.HEARING_SET, reason, facts=short)).dest == (
        S.REPORTED
    )
    negative = sent("file_final_report", positive=False)
    assert MACHINE.fire("file_final_report", asked(S.HEARING_SET, negative, facts=short))


def test_the_terms() -> None:
    period, cadence = MACHINE.terms_of(S.RUNNING)
    values = {**DATA, "record_signed_on": "2026-02-20", "duration_months": 12}
    assert period.last_day_for(values, date(2026, 2, 20)) == date(2027, 2, 20)
    assert period.last_day_for({**values, "duration_days": 10}, date(2026, 2, 20)) == date(
        2027, 3, 2
    )
    assert cadence.last_day_for(values, date(2026, 2, 20)) == date(2026, 5, 20)
    after_report = {**values, "reported_on": "2026-04-30"}
    assert cadence.last_day_for(after_report, date(2026, 4, 30)) == date(2026, 7, 30)
    # a report starts the cadence again; every other self-loop keeps it
    assert "periodic_report" not in MACHINE.kept_terms(S.RUNNING, S.RUNNING, ("periodic_report",))
    assert "periodic_report" in MACHINE.kept_terms(S.RUNNING, S.RUNNING)
    (final,) = MACHINE.terms_of(S.HEARING_SET)
    # hearing on Monday 4 May 2026: ten days before is Friday 24 April, a working day
    assert final.last_day_for({"hearing_on": "2026-05-04"}, date(2026, 3, 2)) == date(2026, 4, 24)
    # hearing on Tuesday 5 May 2026: 25 April (a holiday) moves back to Friday 24
    assert final.last_day_for({"hearing_on": "2026-05-05"}, date(2026, 3, 2)) == date(2026, 4, 24)
    (reminder,) = MACHINE.reminders_of(cadence)
    assert reminder.due_before(date(2026, 5, 20)) == lapse_instant(date(2026, 5, 10))


@pytest.mark.parametrize("state", list(Probation))
@pytest.mark.parametrize("data", [{}, DATA])
def test_what_can_happen_now_is_answered_without_a_payload(
    state: Probation, data: dict[str, Any]
) -> None:
    """A case page asks every trigger with no payload and no facts: each guard answers (what
    is missing), none crashes."""
    given = GuardInput(CaseView("MAP-2026-000001", state.value, data), {}, NOW, {})
    for verdict in MACHINE.verdicts(given):
        assert not any("non verificabile" in reason for reason in verdict.reasons), verdict

"""The register of residential facilities (D.M. 128/2025 arts. 3-10): the `facility` and the
`cancellation` machines, every state x every trigger against tables written out here, the
guards each naming its article, the payload schemas, and the requirements of arts. 6-9."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machines.register import (
    CANCELLATION,
    FACILITY,
    Cancellation,
    Facility,
)
from machines.register.requirements import missing
from machines.spec import (
    CaseMachine,
    CaseView,
    GuardInput,
    GuardRefused,
    PayloadRefused,
    TriggerNotAllowed,
)

F, C = Facility, Cancellation
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Rome, Monday 2 March 2026
TODAY = date(2026, 3, 2)
DM = "D.M. 128/2025"
L241 = "art. 10-bis L. 241/1990"

FLAGS = (
    "housing_suitable",
    "hygiene_suitable",
    "residence_registration",
    "accommodation",
    "personal_assistance",
    "reintegration",
)
OPENING: dict[str, Any] = {
    "code": "TO-001",
    "name": "Casa Aurora",
    "operator": "Comune di Torino",
    "operator_type": "a",
    "address": "Via Roma 1, Torino",
    "section": "Piemonte",
    "places": 12,
    "structure_type": "community",
    **dict.fromkeys(FLAGS, True),
    "filed_on": "2026-02-02",
}
# A facility's case as the service keeps it: the opening data, and the DAP's opinion recorded.
FACILITY_DATA: dict[str, Any] = {
    **FACILITY.validate_opening(OPENING),
    "opinion": "favourable",
    "given_on": "2026-02-20",
}
SUSPENDING, LIFTING, CANCELLING = "CANC-2026-000001", "CANC-2026-000002", "CANC-2026-000003"
SENT_ON = date(2026, 2, 20)  # the notice whose receipt is recorded was sent on this day
# What the facility's guards read beyond its row: the last act of each of its procedures.
FACILITY_FACTS: dict[str, Any] = {
    "procedure_acts": {SUSPENDING: "suspend", LIFTING: "archive", CANCELLING: "cancel"},
    "sent_on": SENT_ON,
}
CANCELLATION_DATA: dict[str, Any] = CANCELLATION.validate_opening(
    {"facility": "STR-2026-000001", "causes": ["b", "d"], "facts": "Servizi non erogati."}
)

# A payload for each trigger, as a person or a service sends it, that every guard allows.
PAYLOADS: dict[str, dict[str, Any]] = {
    "review": {"people": []},
    "dap_opinion": {"opinion": "favourable", "given_on": "2026-02-20"},
    "notify_reasons": {"reasons": "Requisiti dell'art. 7 non dimostrati."},
    "record_receipt": {"received_on": "2026-03-01"},
    "observe": {"text": "La struttura ha ottenuto l'agibilità."},
    "report_change": {
        "nature": "change",
        "requirement": "posti",
        "description": "Da 12 a 10 posti.",
        "occurred_on": "2026-02-27",
    },
    "record_visit": {
        "visited_on": "2026-03-02",
        "unit": "Nucleo UIEPE Torino",
        "checks": [{"reference": "ATT-2026-000001", "present": True}],
    },
    "prescribe": {"service": "b", "text": "Attivare l'assistenza.", "due_on": "2026-04-01"},
    "prescription_outcome": {"number": 1, "outcome": "complied", "found_on": "2026-03-02"},
    "suspend": {"procedure": SUSPENDING, "reasons": "Sospensione cautelare."},
    "lift": {"procedure": LIFTING, "reasons": "Venute meno le ragioni."},
    "cancel": {"procedure": CANCELLING, "reasons": "Inottemperanza accertata."},
    "clarify": {"text": "Chiarimenti.", "documents": 2},
    "defend": {"text": "Memoria difensiva.", "documents": 1},
    "archive": {"reasons": "Chiarimenti esaurienti."},
    "reject": {"reasons": "Requisiti dell'art. 7 non dimostrati."},
    "contest": {"facts": "Servizi non erogati.", "rules_breached": "art. 7", "defence_days": 30},
}
# The fields each machine's schema takes from the shared PAYLOADS (the rest would be refused).
FACILITY_ONLY = {"suspend": ("procedure",), "lift": ("procedure",), "cancel": ("procedure",)}
CANCELLATION_ONLY = {"suspend": ("reasons",), "lift": ("reasons",), "cancel": ("reasons",)}


def payload(machine: CaseMachine, trigger: str) -> dict[str, Any]:
    """The trigger's payload, read by its schema as the service reads it (dates as ISO text)."""
    only = (FACILITY_ONLY if machine is FACILITY else CANCELLATION_ONLY).get(trigger)
    raw = PAYLOADS.get(trigger, {})
    if only is not None:
        raw = {key: raw[key] for key in only}
    return machine.validate(trigger, raw)


def facility_input(
    state: Facility,
    sent: dict[str, Any],
    data: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
    now: datetime = NOW,
) -> GuardInput:
    return GuardInput(
        CaseView("STR-2026-000001", state.value, FACILITY_DATA if data is None else data),
        sent,
        now,
        FACILITY_FACTS if facts is None else facts,
    )


def cancellation_facts(trigger: str) -> dict[str, Any]:
    """The standing of the facility that lets the procedure suspend it or lift its suspension."""
    standing = {"suspend": "registered", "lift": "suspended"}.get(trigger, "registered")
    return {"sent_on": SENT_ON, "facility_standing": standing}


def cancellation_input(
    state: Cancellation, sent: dict[str, Any], facts: dict[str, Any], now: datetime = NOW
) -> GuardInput:
    return GuardInput(
        CaseView("CANC-2026-000001", state.value, CANCELLATION_DATA), sent, now, facts
    )


# --- facility: every state x every trigger --------------------------------------------------

FACILITY_TRIGGERS = (
    "review",
    "dap_opinion",
    "notify_reasons",
    "record_receipt",
    "observe",
    "observations_closed",
    "register",
    "reject",
    "withdraw",
    "report_change",
    "record_visit",
    "prescribe",
    "prescription_outcome",
    "suspend",
    "lift",
    "cancel",
)
ON_REGISTER_LOOPS = ("report_change", "record_visit", "prescribe", "prescription_outcome")
# Where each trigger leads from each state when every guard allows it; absent: not declared.
FACILITY_EXPECTED: dict[Facility, dict[str, Facility]] = {
    F.FILED: {"review": F.UNDER_REVIEW, "withdraw": F.WITHDRAWN},
    F.UNDER_REVIEW: {
        "dap_opinion": F.UNDER_REVIEW,
        "notify_reasons": F.REASONS_NOTIFIED,
        "register": F.REGISTERED,
        "withdraw": F.WITHDRAWN,
    },
    F.REASONS_NOTIFIED: {"record_receipt": F.OBSERVATIONS, "withdraw": F.WITHDRAWN},
    F.OBSERVATIONS: {
        "observe": F.OBSERVATIONS,  # in time: recorded, the term runs on
        "observations_closed": F.TO_DECIDE,
        "withdraw": F.WITHDRAWN,
    },
    F.TO_DECIDE: {
        "observe": F.TO_DECIDE,  # late: recorded, not applied
        "register": F.REGISTERED,
        "reject": F.REJECTED,
        "withdraw": F.WITHDRAWN,
    },
    F.REGISTERED: {
        "observe": F.REGISTERED,  # late: recorded, not applied
        "report_change": F.REGISTERED,
        "record_visit": F.REGISTERED,
        "prescribe": F.REGISTERED,
        "prescription_outcome": F.REGISTERED,
        "suspend": F.SUSPENDED,
        "cancel": F.CANCELLED,
    },
    F.SUSPENDED: {
        "observe": F.SUSPENDED,  # late: recorded, not applied
        "report_change": F.SUSPENDED,
        "record_visit": F.SUSPENDED,
        "prescribe": F.SUSPENDED,
        "prescription_outcome": F.SUSPENDED,
        "lift": F.REGISTERED,
        "cancel": F.CANCELLED,
    },
    F.REJECTED: {"observe": F.REJECTED},  # late: recorded, not applied
    F.CANCELLED: {"observe": F.CANCELLED},  # late: recorded, not applied
    F.WITHDRAWN: {"observe": F.WITHDRAWN},  # late: recorded, not applied
}
FACILITY_TABLE = [
    (state, trigger, FACILITY_EXPECTED[state].get(trigger))
    for state in Facility
    for trigger in FACILITY_TRIGGERS
]


def test_the_facility_table_covers_every_state_and_trigger() -> None:
    assert set(FACILITY_EXPECTED) == set(Facility)
    assert set(FACILITY_TRIGGERS) == set(FACILITY.triggers)
    assert len(FACILITY_TABLE) == 10 * 16
    assert (FACILITY.kind, FACILITY.prefix, FACILITY.initial) == ("facility", "STR", F.FILED)


@pytest.mark.parametrize(("state", "trigger", "dest"), FACILITY_TABLE)
def test_facility_each_state_and_trigger(
    state: Facility, trigger: str, dest: Facility | None
) -> None:
    asked = facility_input(state, payload(FACILITY, trigger))
    verdict = {v.trigger: v for v in FACILITY.verdicts(asked)}[trigger]
    if dest is None:
        with pytest.raises(
            TriggerNotAllowed,
            match=f"^trigger '{trigger}' non consentito dallo stato '{state.value}'$",
        ):
            FACILITY.fire(trigger, asked)
        assert not verdict.allowed
        assert verdict.reasons == (f"non consentito dallo stato '{state.value}'",)
        return
    fired = FACILITY.fire(trigger, asked)
    assert (fired.source, fired.dest) == (state, dest)
    assert DM in fired.transition.article or L241 in fired.transition.article
    assert verdict.allowed and verdict.dest == dest.value and verdict.reasons == ()


def test_late_observations_are_recorded_under_the_article_that_disregards_them() -> None:
    for state in (F.TO_DECIDE, F.REGISTERED, F.SUSPENDED, F.REJECTED, F.CANCELLED, F.WITHDRAWN):
        fired = FACILITY.fire("observe", facility_input(state, payload(FACILITY, "observe")))
        assert fired.dest == state
        assert fired.transition.article.startswith(L241)
        assert "oltre il termine" in fired.transition.article
    on_time = FACILITY.fire("observe", facility_input(F.OBSERVATIONS, {"text": "In tempo."}))
    assert on_time.transition.article == L241


# Triggers only a term's timer fires, from the states where its term runs.
FACILITY_TIMER_ONLY = {("observations_closed", F.OBSERVATIONS): "observations_term"}


@pytest.mark.parametrize(
    ("state", "trigger"), [(s, t) for s in Facility for t in FACILITY_TRIGGERS]
)
def test_only_the_observations_term_fires_observations_closed(
    state: Facility, trigger: str
) -> None:
    term = FACILITY.term_firing(trigger, state)
    assert (term.name if term else None) == FACILITY_TIMER_ONLY.get((trigger, state))


def test_the_observations_term_runs_ten_days_from_the_receipt() -> None:
    (term,) = FACILITY.terms_of(F.OBSERVATIONS)
    assert (term.name, term.fires, term.starts_on) == (
        "observations_term",
        "observations_closed",
        "received_on",
    )
    assert term.rule.article == L241
    # Received on Friday 27 March 2026: ten days end on Monday 6 April, Easter Monday, so the
    # term moves to Tuesday 7 April.
    start = term.start_for({"received_on": "2026-03-27"}, TODAY)
    assert term.rule_for({}).last_day(start) == date(2026, 4, 7)
    assert FACILITY.kept_terms(F.OBSERVATIONS, F.TO_DECIDE) == ()


# --- cancellation: every state x every trigger ----------------------------------------------

CANCELLATION_TRIGGERS = (
    "invite",
    "record_receipt",
    "clarify",
    "clarifications_closed",
    "archive",
    "contest",
    "defend",
    "defence_closed",
    "cancel",
    "give_up",
    "suspend",
    "lift",
)
CANCELLATION_EXPECTED: dict[Cancellation, dict[str, Cancellation]] = {
    C.OPENED: {
        "invite": C.INVITED,
        "give_up": C.CANCELLED,
        "suspend": C.OPENED,
        "lift": C.OPENED,
    },
    C.INVITED: {
        "record_receipt": C.CLARIFYING,
        "give_up": C.CANCELLED,
        "suspend": C.INVITED,
        "lift": C.INVITED,
    },
    C.CLARIFYING: {
        "clarify": C.CLARIFYING,
        "clarifications_closed": C.EXAMINING,
        "give_up": C.CANCELLED,
        "suspend": C.CLARIFYING,
        "lift": C.CLARIFYING,
    },
    C.EXAMINING: {
        "clarify": C.EXAMINING,  # late
        "archive": C.ARCHIVED,
        "contest": C.CONTESTED,
        "give_up": C.CANCELLED,
        "suspend": C.EXAMINING,
        "lift": C.EXAMINING,
    },
    C.CONTESTED: {
        "record_receipt": C.DEFENDING,
        "clarify": C.CONTESTED,  # late
        "give_up": C.CANCELLED,
        "suspend": C.CONTESTED,
        "lift": C.CONTESTED,
    },
    C.DEFENDING: {
        "clarify": C.DEFENDING,  # late
        "defend": C.DEFENDING,
        "defence_closed": C.DECIDING,
        "give_up": C.CANCELLED,
        "suspend": C.DEFENDING,
        "lift": C.DEFENDING,
    },
    C.DECIDING: {
        "clarify": C.DECIDING,  # late
        "defend": C.DECIDING,  # late
        "archive": C.ARCHIVED,
        "cancel": C.CANCELLED,
        "give_up": C.CANCELLED,
        "suspend": C.DECIDING,
        "lift": C.DECIDING,
    },
    C.ARCHIVED: {"clarify": C.ARCHIVED, "defend": C.ARCHIVED},  # late
    C.CANCELLED: {"clarify": C.CANCELLED, "defend": C.CANCELLED},  # late
}
CANCELLATION_TABLE = [
    (state, trigger, CANCELLATION_EXPECTED[state].get(trigger))
    for state in Cancellation
    for trigger in CANCELLATION_TRIGGERS
]


def test_the_cancellation_table_covers_every_state_and_trigger() -> None:
    assert set(CANCELLATION_EXPECTED) == set(Cancellation)
    assert set(CANCELLATION_TRIGGERS) == set(CANCELLATION.triggers)
    assert len(CANCELLATION_TABLE) == 9 * 12
    assert (CANCELLATION.kind, CANCELLATION.prefix, CANCELLATION.initial) == (
        "cancellation",
        "CANC",
        C.OPENED,
    )


@pytest.mark.parametrize(("state", "trigger", "dest"), CANCELLATION_TABLE)
def test_cancellation_each_state_and_trigger(
    state: Cancellation, trigger: str, dest: Cancellation | None
) -> None:
    asked = cancellation_input(state, payload(CANCELLATION, trigger), cancellation_facts(trigger))
    verdict = {v.trigger: v for v in CANCELLATION.verdicts(asked)}[trigger]
    if dest is None:
        with pytest.raises(
            TriggerNotAllowed,
            match=f"^trigger '{trigger}' non consentito dallo stato '{state.value}'$",
        ):
            CANCELLATION.fire(trigger, asked)
        assert not verdict.allowed
        assert verdict.reasons == (f"non consentito dallo stato '{state.value}'",)
        return
    fired = CANCELLATION.fire(trigger, asked)
    assert (fired.source, fired.dest) == (state, dest)
    assert DM in fired.transition.article
    assert verdict.allowed and verdict.dest == dest.value and verdict.reasons == ()


# The submissions that arrive after their term: recorded, the state does not move.
LATE_SUBMISSIONS = [
    *(
        ("clarify", state)
        for state in (
            C.EXAMINING,
            C.CONTESTED,
            C.DEFENDING,
            C.DECIDING,
            C.ARCHIVED,
            C.CANCELLED,
        )
    ),
    *(("defend", state) for state in (C.DECIDING, C.ARCHIVED, C.CANCELLED)),
]


@pytest.mark.parametrize(("trigger", "state"), LATE_SUBMISSIONS)
def test_late_submissions_are_recorded_and_disregarded(trigger: str, state: Cancellation) -> None:
    asked = cancellation_input(state, payload(CANCELLATION, trigger), cancellation_facts(trigger))
    fired = CANCELLATION.fire(trigger, asked)
    assert fired.dest == state
    assert "oltre il termine perentorio" in fired.transition.article
    assert "non valutati" in fired.transition.article


@pytest.mark.parametrize(("trigger", "state"), [("clarify", C.CLARIFYING), ("defend", C.DEFENDING)])
def test_submissions_in_their_term_are_not_marked_late(trigger: str, state: Cancellation) -> None:
    asked = cancellation_input(state, payload(CANCELLATION, trigger), cancellation_facts(trigger))
    fired = CANCELLATION.fire(trigger, asked)
    assert fired.dest == state
    assert "oltre il termine" not in fired.transition.article


CANCELLATION_TIMER_ONLY = {
    ("clarifications_closed", C.CLARIFYING): "clarification_term",
    ("defence_closed", C.DEFENDING): "defence_term",
}


@pytest.mark.parametrize(
    ("state", "trigger"), [(s, t) for s in Cancellation for t in CANCELLATION_TRIGGERS]
)
def test_only_their_terms_close_the_clarifications_and_the_defence(
    state: Cancellation, trigger: str
) -> None:
    term = CANCELLATION.term_firing(trigger, state)
    assert (term.name if term else None) == CANCELLATION_TIMER_ONLY.get((trigger, state))


def test_the_defence_term_is_the_days_the_contestation_chose_from_the_receipt() -> None:
    (clarification,) = CANCELLATION.terms_of(C.CLARIFYING)
    assert (clarification.rule.amount, clarification.starts_on) == (30, "received_on")
    # Received on Sunday 1 March 2026: thirty days end on Tuesday 31 March.
    start = clarification.start_for({"received_on": "2026-03-01"}, TODAY)
    assert clarification.rule_for({}).last_day(start) == date(2026, 3, 31)
    (defence,) = CANCELLATION.terms_of(C.DEFENDING)
    assert (defence.starts_on, defence.days_from) == ("received_on", "defence_days")
    values = {"received_on": "2026-03-01", "defence_days": 45}
    # 45 days from 1 March end on Wednesday 15 April 2026.
    assert defence.rule_for(values).last_day(defence.start_for(values, TODAY)) == date(2026, 4, 15)
    # The decision waits for the term even after a defence: `defend` does not leave DEFENDING.
    assert CANCELLATION.dest_of("defend", "defending") == "defending"


# --- guards, each refusal naming its article ------------------------------------------------


def refusal_of(machine: CaseMachine, trigger: str, asked: GuardInput) -> GuardRefused:
    with pytest.raises(GuardRefused) as refused:
        machine.fire(trigger, asked)
    verdict = {v.trigger: v for v in machine.verdicts(asked)}[trigger]
    assert not verdict.allowed
    assert verdict.reasons == refused.value.reasons
    return refused.value


@pytest.mark.parametrize(
    ("state", "trigger"),
    [(F.UNDER_REVIEW, "register"), (F.TO_DECIDE, "register"), (F.TO_DECIDE, "reject")],
)
def test_nothing_is_decided_before_the_dap_is_heard(state: Facility, trigger: str) -> None:
    unheard = {key: value for key, value in FACILITY_DATA.items() if key != "opinion"}
    refused = refusal_of(
        FACILITY, trigger, facility_input(state, payload(FACILITY, trigger), unheard)
    )
    assert refused.reasons == (
        f"parere del Dipartimento dell'amministrazione penitenziaria non acquisito "
        f"(art. 3 co. 4 {DM})",
    )


def test_an_unfavourable_opinion_is_an_opinion_heard() -> None:
    data = {**FACILITY_DATA, "opinion": "unfavourable"}
    assert FACILITY.fire("register", facility_input(F.UNDER_REVIEW, {}, data)).dest == F.REGISTERED


def test_registration_is_refused_naming_each_missing_requirement() -> None:
    data = {**FACILITY_DATA, "housing_suitable": False, "reintegration": None}
    refused = refusal_of(FACILITY, "register", facility_input(F.UNDER_REVIEW, {}, data))
    assert refused.reasons == (
        f"idoneità alloggiativa (art. 7 co. 1 {DM}); "
        f"programmi di reinserimento socio-lavorativo (art. 7 co. 2 c {DM}) (artt. 6-9 {DM})",
    )


def test_registration_reads_the_people_declared_at_the_review() -> None:
    third_sector = {
        **FACILITY_DATA,
        "operator_type": "d",
        "runts_registered": True,
        "statute_covers_accommodation": True,
    }
    undeclared = refusal_of(FACILITY, "register", facility_input(F.TO_DECIDE, {}, third_sector))
    assert f"(art. 8 co. 2 {DM})" in undeclared.reasons[0]
    convicted = [{"role": "director", "conviction": True}]
    data = {**third_sector, "private": {"review": {"salt": "s", "people": convicted}}}
    refused = refusal_of(FACILITY, "register", facility_input(F.TO_DECIDE, {}, data))
    assert refused.reasons == (
        "persona n. 1 (amministratore): condanna definitiva per delitto non colposo a pena "
        f"detentiva (art. 8 co. 2 b {DM}) (artt. 6-9 {DM})",
    )
    clean = {**third_sector, "private": {"review": {"people": [{"role": "director"}]}}}
    assert FACILITY.fire("register", facility_input(F.TO_DECIDE, {}, clean)).dest == F.REGISTERED


NO_PROCEDURE = "nessun procedimento di cancellazione {} per questa struttura (art. 5 {})"
NOT_ORDERED = "il procedimento {} non ha disposto questo atto (art. 5 {})"


@pytest.mark.parametrize(
    ("trigger", "state", "last_act", "reason"),
    [
        ("suspend", F.REGISTERED, None, NO_PROCEDURE),
        ("suspend", F.REGISTERED, "invite", NOT_ORDERED),
        ("suspend", F.REGISTERED, "lift", NOT_ORDERED),
        ("suspend", F.REGISTERED, "suspend", None),
        ("lift", F.SUSPENDED, None, NO_PROCEDURE),
        ("lift", F.SUSPENDED, "suspend", NOT_ORDERED),
        ("lift", F.SUSPENDED, "defend", NOT_ORDERED),
        ("lift", F.SUSPENDED, "lift", None),
        ("lift", F.SUSPENDED, "archive", None),
        ("cancel", F.REGISTERED, None, NO_PROCEDURE),
        ("cancel", F.SUSPENDED, "archive", NOT_ORDERED),
        ("cancel", F.REGISTERED, "defence_closed", NOT_ORDERED),
        ("cancel", F.SUSPENDED, "cancel", None),
        ("cancel", F.REGISTERED, "give_up", None),
    ],
)
def test_acts_on_a_facility_are_ordered_by_its_cancellation_procedure(
    trigger: str, state: Facility, last_act: str | None, reason: str | None
) -> None:
    procedure = "CANC-2026-000009"
    acts = {} if last_act is None else {procedure: last_act}
    # Another procedure of the facility that ordered the act does not order it for this one.
    acts["CANC-2026-000010"] = {"suspend": "suspend", "lift": "lift", "cancel": "cancel"}[trigger]
    asked = facility_input(
        state, {"procedure": procedure}, facts={"procedure_acts": acts, "sent_on": SENT_ON}
    )
    if reason is None:
        assert FACILITY.fire(trigger, asked).dest == FACILITY_EXPECTED[state][trigger]
        return
    refused = refusal_of(FACILITY, trigger, asked)
    assert refused.reasons == (reason.format(procedure, DM),)
    assert refused.field == "procedure"


def test_without_the_procedures_known_no_act_is_ordered() -> None:
    asked = facility_input(F.REGISTERED, {"procedure": SUSPENDING}, facts={})
    refused = refusal_of(FACILITY, "suspend", asked)
    assert refused.reasons == (NO_PROCEDURE.format(SUSPENDING, DM),)


@pytest.mark.parametrize(
    ("trigger", "standing", "label"),
    [
        ("suspend", "suspended", "sospesa dall'elenco"),
        ("suspend", "cancelled", "cancellata dall'elenco"),
        ("lift", "registered", "iscritta nell'elenco"),
        ("lift", "cancelled", "cancellata dall'elenco"),
    ],
)
@pytest.mark.parametrize("state", [C.OPENED, C.EXAMINING, C.DECIDING])
def test_a_procedure_suspends_only_a_registered_facility_and_lifts_only_a_suspended_one(
    trigger: str, standing: str, label: str, state: Cancellation
) -> None:
    facts = {"sent_on": SENT_ON, "facility_standing": standing}
    asked = cancellation_input(state, payload(CANCELLATION, trigger), facts)
    refused = refusal_of(CANCELLATION, trigger, asked)
    assert refused.reasons == (f"la struttura è nello stato '{label}' (art. 5 co. 6 {DM})",)


RECEIPTS = [
    (FACILITY, F.REASONS_NOTIFIED, L241),
    (CANCELLATION, C.INVITED, f"art. 5 co. 2 {DM}"),
    (CANCELLATION, C.CONTESTED, f"art. 5 co. 3 {DM}"),
]


def receipt_input(
    machine: CaseMachine, state: Facility | Cancellation, received_on: str, now: datetime = NOW
) -> GuardInput:
    sent = machine.validate("record_receipt", {"received_on": received_on})
    if isinstance(state, Facility):
        return facility_input(state, sent, now=now)
    return cancellation_input(state, sent, cancellation_facts("record_receipt"), now)


@pytest.mark.parametrize(("machine", "state", "article"), RECEIPTS)
def test_a_receipt_is_dated_neither_after_today_nor_before_the_sending(
    machine: CaseMachine, state: Facility | Cancellation, article: str
) -> None:
    future = refusal_of(machine, "record_receipt", receipt_input(machine, state, "2026-03-03"))
    assert future.reasons == (
        f"data di ricezione 03/03/2026 successiva a oggi (02/03/2026) ({article})",
    )
    assert future.field == "received_on"
    early = refusal_of(machine, "record_receipt", receipt_input(machine, state, "2026-02-19"))
    assert early.reasons == (
        f"data di ricezione 19/02/2026 anteriore all'invio (20/02/2026) ({article})",
    )
    for day in ("2026-02-20", "2026-03-02"):  # the day of sending and today are both fine
        assert machine.fire("record_receipt", receipt_input(machine, state, day)).source == state


def test_today_is_the_day_in_rome() -> None:
    # 23:30 UTC on 1 March is 00:30 on 2 March in Rome: a receipt of 2 March is not in the future.
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    asked = receipt_input(FACILITY, F.REASONS_NOTIFIED, "2026-03-02", late_evening)
    assert FACILITY.fire("record_receipt", asked).dest == F.OBSERVATIONS


def test_the_receipt_without_a_known_sending_is_judged_on_today_alone() -> None:
    asked = facility_input(F.REASONS_NOTIFIED, {"received_on": "2020-01-01"}, facts={})
    assert FACILITY.fire("record_receipt", asked).dest == F.OBSERVATIONS


@pytest.mark.parametrize(
    ("trigger", "state", "field", "day"),
    [
        ("record_visit", F.REGISTERED, "visited_on", "2026-03-03"),
        ("prescription_outcome", F.SUSPENDED, "found_on", "2026-03-03"),
        ("prescribe", F.REGISTERED, "due_on", "2026-03-02"),
    ],
)
def test_visits_and_outcomes_are_not_in_the_future_and_prescriptions_give_time(
    trigger: str, state: Facility, field: str, day: str
) -> None:
    sent = FACILITY.validate(trigger, {**PAYLOADS[trigger], field: day})
    refused = refusal_of(FACILITY, trigger, facility_input(state, sent))
    assert refused.field == field
    assert refused.reasons[0].endswith(f"(art. 10 {DM})")


@pytest.mark.parametrize(("days", "accepted"), [(14, False), (15, True), (45, True), (46, False)])
def test_the_defence_term_is_between_15_and_45_days(days: int, accepted: bool) -> None:
    contestation = {**PAYLOADS["contest"], "defence_days": days}
    if accepted:
        assert CANCELLATION.validate("contest", contestation)["defence_days"] == days
        return
    with pytest.raises(PayloadRefused) as refused:
        CANCELLATION.validate("contest", contestation)
    assert refused.value.field == "defence_days"
    assert refused.value.trigger == "contest"


def test_the_opening_names_a_known_section() -> None:
    assert FACILITY.validate_opening(OPENING)["section"] == "Piemonte"
    with pytest.raises(PayloadRefused) as refused:
        FACILITY.validate_opening({**OPENING, "section": "Padania"})
    assert refused.value.field == "section"
    assert "sezione sconosciuta" in refused.value.reason


def test_the_opening_is_not_dated_in_the_future() -> None:
    FACILITY.judge_opening(GuardInput(CaseView("STR-2026-000001", "filed", {}), OPENING, NOW))
    tomorrow = {**OPENING, "filed_on": "2026-03-03"}
    with pytest.raises(GuardRefused) as refused:
        FACILITY.judge_opening(GuardInput(CaseView("STR-2026-000001", "filed", {}), tomorrow, NOW))
    assert refused.value.field == "filed_on"
    assert refused.value.reasons == (
        f"data 03/03/2026 successiva a oggi (02/03/2026) (art. 3 co. 2 {DM})",
    )


def test_a_cancellation_names_each_cause_once() -> None:
    with pytest.raises(PayloadRefused) as refused:
        CANCELLATION.validate_opening({**CANCELLATION_DATA, "causes": ["b", "b"]})
    assert refused.value.field == "causes"


# --- requirements.missing() -----------------------------------------------------------------

PUBLIC: dict[str, Any] = {
    "operator_type": "a",
    "structure_type": "community",
    **dict.fromkeys(FLAGS, True),
}
THIRD: dict[str, Any] = {
    **PUBLIC,
    "operator_type": "d",
    "runts_registered": True,
    "statute_covers_accommodation": True,
}
CLEAN = {"role": "member"}
RUNTS = f"iscrizione al RUNTS (o all'anagrafe delle ONLUS) (art. 8 co. 1 d {DM})"
UNDECLARED = (
    "dichiarazioni dei soci, associati, amministratori, rappresentanti e responsabili "
    f"(art. 8 co. 2 {DM})"
)
CONVICTION = (
    "persona n. 1 (socio): condanna definitiva per delitto non colposo a pena detentiva "
    f"(art. 8 co. 2 b {DM})"
)


@pytest.mark.parametrize(
    ("facility", "people", "expected"),
    [
        pytest.param(PUBLIC, [], [], id="public-body-community-all-flags"),
        pytest.param({**PUBLIC, "operator_type": "b"}, [], [], id="local-authority"),
        pytest.param({**PUBLIC, "structure_type": "temporary"}, [], [], id="temporary"),
        pytest.param({**THIRD, "runts_registered": None}, [CLEAN], [RUNTS], id="d-without-runts"),
        pytest.param(
            {**PUBLIC, "operator_type": "e", "members": ["a", "d"], "runts_registered": True},
            [],
            [
                "attività statutaria di accoglienza residenziale, alloggio sociale, reinserimento "
                f"socio-lavorativo o riqualificazione professionale (art. 8 co. 1 d {DM})",
                UNDECLARED,
            ],
            id="e-with-d-applies-third-sector-rules-and-integrity",
        ),
        pytest.param(
            {**THIRD, "operator_type": "e", "members": ["a", "d"]},
            [{"role": "member", "conviction": True}],
            [CONVICTION],
            id="e-with-d-judges-people",
        ),
        pytest.param(
            {**PUBLIC, "operator_type": "e", "members": ["a", "b"]},
            [{"role": "member", "conviction": True}],
            [],
            id="e-without-d-ignores-integrity",
        ),
        pytest.param(
            {**PUBLIC, "operator_type": "e", "members": ["a"]},
            [],
            [
                "forma associata di almeno due soggetti di cui alle lettere a)-d) "
                f"(art. 8 co. 1 e {DM})"
            ],
            id="e-of-one",
        ),
        pytest.param(
            {**PUBLIC, "operator_type": "f"},
            [],
            [f"tipologia di ente gestore ammessa (art. 8 co. 1 {DM})"],
            id="unknown-operator",
        ),
        pytest.param(
            THIRD, [{"role": "member", "conviction": True}], [CONVICTION], id="conviction"
        ),
        pytest.param(
            THIRD,
            [{"role": "member", "conviction": True, "rehabilitated": True}],
            [],
            id="conviction-rehabilitated-art-8-co-3",
        ),
        pytest.param(
            THIRD,
            [{"role": "member", "conviction": True, "revoked_for_abolition": True}],
            [],
            id="conviction-revoked-for-abolition",
        ),
        pytest.param(
            THIRD,
            [{"role": "manager", "plea_with_accessory": True, "rehabilitated": True}],
            [],
            id="plea-rehabilitated",
        ),
        pytest.param(
            THIRD,
            [{"role": "member", "prevention_measure": True, "prevention_rehabilitated": True}],
            [],
            id="prevention-measure-rehabilitated",
        ),
        pytest.param(
            THIRD,
            [{"role": "associate", "prevention_measure": True, "rehabilitated": True}],
            [f"persona n. 1 (associato): misura di prevenzione (art. 8 co. 2 f {DM})"],
            id="prevention-measure-not-saved-by-criminal-rehabilitation",
        ),
        pytest.param(
            THIRD,
            [
                {
                    "role": "director",
                    "security_measure": True,
                    "rehabilitated": True,
                    "revoked_for_abolition": True,
                    "prevention_rehabilitated": True,
                }
            ],
            [f"persona n. 1 (amministratore): misura di sicurezza personale (art. 8 co. 2 f {DM})"],
            id="security-measure-never-saved",
        ),
        pytest.param(
            THIRD,
            [CLEAN, {"role": "representative", "pending_proceedings": True}],
            [
                "persona n. 2 (rappresentante): procedimento penale in corso per delitto non "
                f"colposo (art. 8 co. 2 d {DM})"
            ],
            id="second-person-numbered",
        ),
        pytest.param(
            {"operator_type": "a", "territorially_authorised": True}
            | dict.fromkeys(("personal_assistance", "reintegration"), True),
            [],
            [],
            id="authorised-needs-only-b-and-c",
        ),
        pytest.param(
            {
                "operator_type": "a",
                "territorially_authorised": True,
                "structure_type": "hotel",
                "housing_suitable": False,
                "personal_assistance": True,
                "reintegration": False,
            },
            [],
            [
                "programmi di reinserimento socio-lavorativo "
                f"(art. 7 co. 2 c {DM}; art. 9 co. 1 {DM})"
            ],
            id="authorised-ignores-structure-and-art-7-co-1",
        ),
        pytest.param(
            {**PUBLIC, "structure_type": None},
            [],
            [
                "struttura a carattere comunitario o attività residenziale temporanea "
                f"(art. 6 co. 1 {DM})"
            ],
            id="no-structure-type",
        ),
        pytest.param(THIRD, [], [UNDECLARED], id="third-sector-without-people"),
    ],
)
def test_missing_requirements(
    facility: dict[str, Any], people: list[dict[str, Any]], expected: list[str]
) -> None:
    assert missing(facility, people, TODAY) == expected


SANCTION = (
    "persona n. 1 (socio): sanzione disciplinare più grave della minima negli ultimi 5 anni "
    f"(art. 8 co. 2 g {DM})"
)


@pytest.mark.parametrize(
    ("today", "sanctioned_on", "refused"),
    [
        pytest.param(date(2026, 3, 2), date(2021, 3, 2), True, id="exactly-5-years"),
        pytest.param(date(2026, 3, 2), date(2021, 3, 1), False, id="5-years-and-1-day"),
        pytest.param(date(2026, 3, 2), date(2026, 3, 2), True, id="today"),
        pytest.param(date(2026, 3, 2), date(2026, 3, 3), False, id="after-today"),
        # 29 February today: the first day inside is 28 February five years before (the
        # documented convention of _within_years).
        pytest.param(date(2028, 2, 29), date(2023, 2, 28), True, id="leap-today-28-feb"),
        pytest.param(date(2028, 2, 29), date(2023, 2, 27), False, id="leap-today-27-feb"),
        pytest.param(date(2028, 2, 29), date(2023, 3, 1), True, id="leap-today-1-mar"),
        # A sanction of 29 February: its fifth anniversary is read as 28 February.
        pytest.param(date(2029, 2, 28), date(2024, 2, 29), True, id="leap-sanction-28-feb"),
        pytest.param(date(2029, 3, 1), date(2024, 2, 29), False, id="leap-sanction-1-mar"),
    ],
)
def test_a_disciplinary_sanction_counts_for_five_years(
    today: date, sanctioned_on: date, refused: bool
) -> None:
    for sanctioned in (sanctioned_on, sanctioned_on.isoformat()):  # a date, or as the case keeps it
        person = {"role": "member", "disciplinary_sanction_on": sanctioned}
        assert missing(THIRD, [person], today) == ([SANCTION] if refused else [])


# The flags each path requires (arts. 6-9), written out: an authorised facility (art. 9 co. 1)
# needs only the services of art. 7 co. 2 b and c; any other needs art. 7 co. 1 and co. 2 a-c.
REQUIRED_COMMUNITY = {
    "housing_suitable",
    "hygiene_suitable",
    "residence_registration",
    "accommodation",
    "personal_assistance",
    "reintegration",
}
REQUIRED_AUTHORISED = {"personal_assistance", "reintegration"}
flag_values = st.dictionaries(
    st.sampled_from(FLAGS), st.sampled_from([True, False, None, 1, "true"]), max_size=len(FLAGS)
)


@given(
    flags=flag_values,
    authorised=st.booleans(),
    operator=st.sampled_from(["a", "b", "c"]),
    structure=st.sampled_from(["community", "temporary"]),
    today=st.dates(min_value=date(2025, 7, 24), max_value=date(2035, 12, 31)),
)
def test_missing_is_empty_iff_the_paths_flags_are_all_true(
    flags: dict[str, Any], authorised: bool, operator: str, structure: str, today: date
) -> None:
    facility = {
        "operator_type": operator,
        "structure_type": structure,
        "territorially_authorised": authorised,
        **flags,
    }
    required = REQUIRED_AUTHORISED if authorised else REQUIRED_COMMUNITY
    gaps = missing(facility, [], today)
    assert (gaps == []) == all(flags.get(name) is True for name in required)
    # One gap per required flag that is not exactly True.
    assert len(gaps) == sum(flags.get(name) is not True for name in required)


@pytest.mark.parametrize(
    ("machine", "state"),
    [(FACILITY, state) for state in Facility] + [(CANCELLATION, state) for state in Cancellation],
)
def test_what_can_happen_now_is_answered_without_a_payload(
    machine: CaseMachine, state: StrEnum
) -> None:
    """A case page asks every trigger with no payload: each guard answers (what is missing),
    none crashes."""
    given = GuardInput(CaseView("STR-2026-000001", state.value, {}), {}, NOW, {})
    for verdict in machine.verdicts(given):
        assert not any("non verificabile" in reason for reason in verdict.reasons), verdict

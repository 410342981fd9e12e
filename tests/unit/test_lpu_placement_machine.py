"""The LPU placement machine (art. 54 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001; seed 003):
every state x every trigger against a table written out here, the final report's term, and the
guards, each refusal naming its article."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, get_args

import pytest

from machines.calendar import lapse_instant
from machines.lpu.placement import (
    FORMS,
    MACHINE,
    Declaration,
    LpuPlacement,
    breach_addressee,
    breach_article,
)
from machines.spec import (
    CaseView,
    GuardInput,
    GuardRefused,
    PayloadRefused,
    TriggerNotAllowed,
)

S = LpuPlacement
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Rome, Monday 2 March 2026
BASIS = "art. 54 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001"
RECEPTION = "seme 003: accoglienza"

OPENING: dict[str, Any] = {
    "convention": "CLPU-2026-000001",
    "form": "D",
    "offence": "art. 582 c.p.",
    "activities": ["manutenzione del verde pubblico"],
    "slots": [{"weekday": 5, "start": "09:00", "end": "12:00"}],
    "signed_by_representative": True,
    "interview_held": True,
    "declared_on": "2026-01-15",
    "court": "Giudice di pace di Torino",
}
# A case as the service keeps it once sentenced and final: the opening and what was recorded.
DATA: dict[str, Any] = {
    **MACHINE.validate_opening(OPENING),
    "owed_days": 30,
    "owed_hours": 60,
    "decided_on": "2026-02-02",
    "final_on": "2026-02-20",
    "probation": "MAP-2026-000001",
}
# What the guards read beyond the case: the convention in force with a place, no hour left.
FACTS: dict[str, Any] = {
    "hours_owed_left": 0,
    "convention_state": "in_force",
    "convention_places_left": 2,
    "hours_between": lambda first, last: Decimal(0),  # nothing attended yet
    "probation_state": "revoked",
    "sessions_on": lambda day: [("13:00", "14:00")],  # an afternoon session already recorded
}
# A payload for each trigger that every guard allows.
PAYLOADS: dict[str, dict[str, Any]] = {
    "sentenced": {"owed_days": 30, "owed_hours": 60, "decided_on": "2026-02-02"},
    "final": {"final_on": "2026-02-20"},
    "receive": {"insurance_opened": True, "calendar_agreed": True, "received_on": "2026-03-02"},
    "authorise_hours": {"authorised_on": "2026-03-02"},
    "report": {"reported_on": "2026-03-02", "regular": True},
    "breach": {"occurred_on": "2026-03-01", "description": "Assente senza giustificazione."},
    "continue": {"ruled_on": "2026-03-02"},
    "revoke": {"ruled_on": "2026-03-02"},
    "withdraw": {"by": "entity", "reason": "L'ente non può più accogliere."},
    "attend": {
        "day": "2026-02-27",
        "start": "09:00",
        "end": "12:00",
        "activity": "manutenzione del verde",
        "signed_by_person": True,
        "signed_by_coordinator": True,
    },
}

TRIGGERS = (
    "transmit",
    "sentenced",
    "final",
    "receive",
    "authorise_hours",
    "attend",
    "hours_done",
    "report",
    "report_overdue",
    "breach",
    "continue",
    "revoke",
    "end_with_probation",
    "withdraw",
)
# Where each trigger leads from each state when every guard allows it; absent: not declared.
EXPECTED: dict[LpuPlacement, dict[str, LpuPlacement]] = {
    S.DECLARED: {
        "transmit": S.DECLARED,
        "sentenced": S.AWAITING_FINAL,
        "withdraw": S.WITHDRAWN,
        "end_with_probation": S.REVOKED,
    },
    S.AWAITING_FINAL: {
        "final": S.TO_RECEIVE,
        "withdraw": S.WITHDRAWN,
        "end_with_probation": S.REVOKED,
    },
    S.TO_RECEIVE: {
        "receive": S.IN_PROGRESS,
        "authorise_hours": S.TO_RECEIVE,
        "breach": S.BREACH_BEFORE_RECEPTION,
        "end_with_probation": S.REVOKED,
    },
    S.IN_PROGRESS: {
        "authorise_hours": S.IN_PROGRESS,
        "attend": S.IN_PROGRESS,
        "hours_done": S.COMPLETED,
        "breach": S.BREACH_REPORTED,
        "end_with_probation": S.REVOKED,
    },
    S.BREACH_BEFORE_RECEPTION: {
        "continue": S.TO_RECEIVE,
        "revoke": S.REVOKED,
        "end_with_probation": S.REVOKED,
    },
    S.BREACH_REPORTED: {
        "continue": S.IN_PROGRESS,
        "revoke": S.REVOKED,
        "end_with_probation": S.REVOKED,
    },
    S.COMPLETED: {"report": S.CLOSED, "report_overdue": S.REPORT_OVERDUE},
    S.REPORT_OVERDUE: {"report": S.CLOSED},  # late, still taken
    S.CLOSED: {},
    S.REVOKED: {},
    S.WITHDRAWN: {},
}
TABLE = [
    (state, trigger, EXPECTED[state].get(trigger)) for state in LpuPlacement for trigger in TRIGGERS
]


def asked(
    state: LpuPlacement,
    payload: dict[str, Any],
    data: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
) -> GuardInput:
    case = CaseView("LPU-2026-000001", state.value, DATA if data is None else data)
    return GuardInput(case, payload, NOW, FACTS if facts is None else facts)


def sent(trigger: str, **changes: Any) -> dict[str, Any]:
    """The trigger's payload with `changes`, read by its schema as the service reads it."""
    return MACHINE.validate(trigger, {**PAYLOADS.get(trigger, {}), **changes})


def refusal_of(trigger: str, given: GuardInput) -> GuardRefused:
    with pytest.raises(GuardRefused) as refused:
        MACHINE.fire(trigger, given)
    verdict = {v.trigger: v for v in MACHINE.verdicts(given)}[trigger]
    assert not verdict.allowed
    assert verdict.reasons == refused.value.reasons
    return refused.value


# --- every state x every trigger ------------------------------------------------------------


def test_the_table_covers_every_state_and_trigger() -> None:
    assert set(EXPECTED) == set(LpuPlacement)
    assert set(TRIGGERS) == set(MACHINE.triggers)
    assert len(TABLE) == 11 * 14
    assert (MACHINE.kind, MACHINE.prefix, MACHINE.initial) == ("lpu_placement", "LPU", S.DECLARED)


@pytest.mark.parametrize(("state", "trigger", "dest"), TABLE)
def test_each_state_and_trigger(
    state: LpuPlacement, trigger: str, dest: LpuPlacement | None
) -> None:
    given = asked(state, sent(trigger))
    verdict = {v.trigger: v for v in MACHINE.verdicts(given)}[trigger]
    if dest is None:
        with pytest.raises(
            TriggerNotAllowed,
            match=f"^trigger '{trigger}' non consentito dallo stato '{state.value}'$",
        ):
            MACHINE.fire(trigger, given)
        assert not verdict.allowed
        assert verdict.reasons == (f"non consentito dallo stato '{state.value}'",)
        return
    fired = MACHINE.fire(trigger, given)
    assert (fired.source, fired.dest) == (state, dest)
    assert verdict.allowed and verdict.dest == dest.value and verdict.reasons == ()


# Triggers only a term's timer fires, from the states where its term runs.
TIMER_ONLY = {("report_overdue", S.COMPLETED): "final_report"}


@pytest.mark.parametrize(("state", "trigger"), [(s, t) for s in LpuPlacement for t in TRIGGERS])
def test_only_its_term_makes_the_final_report_overdue(state: LpuPlacement, trigger: str) -> None:
    term = MACHINE.term_firing(trigger, state)
    assert (term.name if term else None) == TIMER_ONLY.get((trigger, state))


def test_the_final_report_term_is_thirty_days_moved_off_a_holiday() -> None:
    (term,) = MACHINE.terms_of(S.COMPLETED)
    assert (term.name, term.fires, term.starts_on, term.days_from) == (
        "final_report",
        "report_overdue",
        None,
        None,
    )
    assert term.rule.extend_on_holiday
    assert "il seme 003 non lo fissa" in term.rule.article
    assert "art. 2 co. 2 L. 241/1990" in term.rule.article
    # Hours done on Monday 2 March 2026: thirty days end on Wednesday 1 April.
    assert term.rule.last_day(date(2026, 3, 2)) == date(2026, 4, 1)
    # Done on Sunday 3 May 2026: thirty days end on 2 June, a holiday, so on Wednesday 3 June.
    assert term.rule.last_day(date(2026, 5, 3)) == date(2026, 6, 3)
    (reminder,) = MACHINE.reminders_of(term)
    assert (reminder.days, reminder.notice) == (10, "promemoria_relazione_conclusiva")
    # Ten days before the term's last day (3 June): due at 00:00 in Rome after 24 May.
    assert reminder.due_at(term.rule, date(2026, 5, 3)) == lapse_instant(date(2026, 5, 24))
    # The term ends when it makes the report overdue, or when the report arrives.
    assert MACHINE.kept_terms(S.COMPLETED, S.REPORT_OVERDUE) == ()
    assert MACHINE.kept_terms(S.COMPLETED, S.CLOSED) == ()
    assert MACHINE.runs_in("final_report_reminder", "completed")
    assert not MACHINE.runs_in("final_report_reminder", "report_overdue")


def test_a_late_report_is_taken_under_the_article_that_says_so() -> None:
    late = MACHINE.fire("report", asked(S.REPORT_OVERDUE, sent("report")))
    assert late.dest == S.CLOSED
    assert "oltre il termine, non perentorio" in late.transition.article
    on_time = MACHINE.fire("report", asked(S.COMPLETED, sent("report")))
    assert "oltre il termine" not in on_time.transition.article
    overdue = MACHINE.fire("report_overdue", asked(S.COMPLETED, {}))
    assert overdue.transition.notices == ("sollecito_relazione_conclusiva",)


def test_breaches_and_revocations_send_their_notices() -> None:
    for state in (S.TO_RECEIVE, S.IN_PROGRESS):
        fired = MACHINE.fire("breach", asked(state, sent("breach")))
        assert fired.transition.notices == ("segnalazione_violazione",)
        assert fired.transition.private == ("description",)  # the conduct: not in the trail
    for state in (S.BREACH_BEFORE_RECEPTION, S.BREACH_REPORTED):
        fired = MACHINE.fire("revoke", asked(state, sent("revoke")))
        assert fired.transition.notices == ("revoca",)


def test_every_transition_has_an_article_that_fits_the_trail() -> None:
    """The event's legal basis and the timer's are at most 200 characters."""
    for transition in MACHINE.transitions:
        assert 0 < len(transition.article) <= 200, transition.trigger
    for term in MACHINE.terms:
        assert len(term.rule.article) <= 200


def test_every_state_trigger_and_term_has_an_italian_label() -> None:
    names = [
        MACHINE.kind,
        "open",
        *(state.value for state in LpuPlacement),
        *MACHINE.triggers,
        *(term.name for term in MACHINE.terms),
        *(reminder.name for reminder in MACHINE.reminders),
    ]
    assert [name for name in names if name not in MACHINE.labels] == []


# --- the opening: the availability declaration ----------------------------------------------


def judge_opening(data: dict[str, Any]) -> None:
    MACHINE.judge_opening(GuardInput(CaseView("", "", {}), MACHINE.validate_opening(data), NOW))


def test_a_declaration_signed_by_the_legal_representative_opens_a_case() -> None:
    judge_opening(OPENING)
    without_interview = {key: value for key, value in OPENING.items() if key != "interview_held"}
    judge_opening({**without_interview, "slots": []})  # recommended, and "where possible"


def test_an_unsigned_declaration_is_refused() -> None:
    unsigned = {key: value for key, value in OPENING.items() if key != "signed_by_representative"}
    with pytest.raises(GuardRefused) as refused:
        judge_opening(unsigned)
    assert refused.value.field == "signed_by_representative"
    assert refused.value.reasons == (
        "la dichiarazione non è firmata dal legale rappresentante dell'ente "
        "(seme 003: dichiarazione di disponibilità)",
    )


def test_a_declaration_is_not_dated_in_the_future() -> None:
    with pytest.raises(GuardRefused) as refused:
        judge_opening({**OPENING, "declared_on": "2026-03-03"})
    assert refused.value.field == "declared_on"
    assert refused.value.reasons == (
        "data della dichiarazione 03/03/2026 successiva a oggi (02/03/2026) "
        "(seme 003: dichiarazione di disponibilità)",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"form": "K"}, "form"),
        ({"convention": "CONV-7"}, "convention"),
        ({"activities": []}, "activities"),
        ({"slots": [{"weekday": 7, "start": "09:00", "end": "12:00"}]}, "slots.0.weekday"),
        ({"slots": [{"weekday": 1, "start": "12:00", "end": "09:00"}]}, "slots.0"),
        ({"slots": [{"weekday": 1, "start": "9:00", "end": "12:00"}]}, "slots.0.start"),
        ({"name": "Mario Rossi"}, "name"),  # no name: the reference is the pseudonym
    ],
)
def test_the_declaration_schema(change: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadRefused) as refused:
        MACHINE.validate_opening({**OPENING, **change})
    assert refused.value.field == field


# --- the judge's decision -------------------------------------------------------------------


def sentencing(form: str, **changes: Any) -> GuardInput:
    return asked(S.DECLARED, sent("sentenced", **changes), {**DATA, "form": form})


def test_owed_hours_are_twice_the_days() -> None:
    refused = refusal_of("sentenced", sentencing("D", owed_days=12, owed_hours=25))
    assert refused.field == "owed_hours"
    assert refused.reasons == (
        "ore dovute 25, ma 12 giorni sono 24 ore: un giorno di lavoro è di due ore (forma D) "
        "(art. 54 co. 5 d.lgs. 274/2000)",
    )
    for form in ("B", "C", "D", "E", "F", "G", "H", "I", "L", "S"):
        assert FORMS[form].two_hours_a_day, form


@pytest.mark.parametrize("form", ["A", "M", "N"])
def test_forms_whose_day_is_not_two_hours(form: str) -> None:
    given = sentencing(form, owed_days=10, owed_hours=30)
    assert MACHINE.fire("sentenced", given).dest == S.AWAITING_FINAL


def test_a_probation_day_is_at_most_eight_hours() -> None:
    refused = refusal_of("sentenced", sentencing("N", owed_days=10, owed_hours=81))
    assert refused.field == "owed_hours"
    assert refused.reasons == (
        "ore dovute 81, oltre 8 ore al giorno per 10 giorni (80 ore) (forma N) "
        "(art. 168-bis co. 3 c.p.)",
    )
    assert MACHINE.fire("sentenced", sentencing("N", owed_days=10, owed_hours=80)).dest


D_BOUNDS = "(art. 54 co. 2 d.lgs. 274/2000)"
G_BOUNDS = "(art. 224-bis co. 2 C.d.S.)"


@pytest.mark.parametrize(
    ("form", "days", "repeat", "reason"),
    [
        ("D", 5, False, f"5 giorni dovuti: la forma D ne richiede almeno 10 {D_BOUNDS}"),
        ("D", 9, False, f"9 giorni dovuti: la forma D ne richiede almeno 10 {D_BOUNDS}"),
        ("D", 10, False, None),
        ("D", 180, False, None),  # six months
        ("D", 181, False, f"181 giorni dovuti: la forma D ne consente al più 180 {D_BOUNDS}"),
        ("D", 210, False, f"210 giorni dovuti: la forma D ne consente al più 180 {D_BOUNDS}"),
        ("G", 29, False, f"29 giorni dovuti: la forma G ne richiede almeno 30 {G_BOUNDS}"),
        ("G", 30, False, None),  # one month
        ("G", 60, False, None),
        (
            "G",
            60,
            True,
            f"60 giorni dovuti: la forma G ne richiede almeno 90 per il recidivo {G_BOUNDS}",
        ),
        ("G", 90, True, None),  # three months for a repeat offender
        ("G", 210, True, f"210 giorni dovuti: la forma G ne consente al più 180 {G_BOUNDS}"),
        (
            "N",
            9,
            False,
            "9 giorni dovuti: la forma N ne richiede almeno 10 (art. 168-bis co. 3 c.p.)",
        ),
        ("N", 10, False, None),
        ("N", 400, False, None),  # no upper bound of its own: the probation's length bounds it
        ("H", 3, False, None),  # as long as the penalty it replaces
        ("D", 5, True, f"5 giorni dovuti: la forma D ne richiede almeno 10 {D_BOUNDS}"),
    ],
)
def test_the_duration_each_form_allows(
    form: str, days: int, repeat: bool, reason: str | None
) -> None:
    changes: dict[str, Any] = {"owed_days": days, "owed_hours": 2 * days, "repeat_offender": repeat}
    if form == "H":
        changes["breach_authority"] = "Questura di Torino"
    given = sentencing(form, **changes)
    if reason is None:
        assert MACHINE.fire("sentenced", given).dest == S.AWAITING_FINAL
        return
    refused = refusal_of("sentenced", given)
    assert refused.field == "owed_days"
    assert refused.reasons == (reason,)


@pytest.mark.parametrize(
    ("form", "article"), [("H", "art. 186 co. 9-bis C.d.S."), ("I", "art. 187 co. 8-bis C.d.S.")]
)
def test_road_forms_name_the_public_security_authority(form: str, article: str) -> None:
    refused = refusal_of("sentenced", sentencing(form))
    assert refused.field == "breach_authority"
    assert refused.reasons == (
        f"da indicare l'autorità di pubblica sicurezza indicata in sentenza ({article})",
    )
    named = sentencing(form, breach_authority="Prefettura di Torino")
    assert MACHINE.fire("sentenced", named).dest == S.AWAITING_FINAL
    assert MACHINE.fire("sentenced", sentencing("D")).dest == S.AWAITING_FINAL  # optional


def test_a_decision_is_not_dated_in_the_future() -> None:
    refused = refusal_of("sentenced", sentencing("D", decided_on="2026-03-03"))
    assert refused.field == "decided_on"
    assert refused.reasons == (
        f"data del provvedimento 03/03/2026 successiva a oggi (02/03/2026) ({BASIS})",
    )


def test_what_a_sentence_records() -> None:
    (transition,) = [t for t in MACHINE.transitions if t.trigger == "sentenced"]
    assert {"owed_days", "owed_hours", "decided_on", "breach_authority"} <= set(transition.records)


# --- the sentence final, and the MAP's probation record -------------------------------------


def test_a_probation_needs_its_record_signed() -> None:
    data = {**DATA, "form": "N"}
    refused = refusal_of("final", asked(S.AWAITING_FINAL, sent("final"), data))
    assert refused.field == "probation_record_signed"
    assert refused.reasons == (
        "messa alla prova: verbale di messa alla prova non sottoscritto "
        "(art. 464-quater co. 5 c.p.p.)",
    )
    signed = asked(S.AWAITING_FINAL, sent("final", probation_record_signed=True), data)
    assert MACHINE.fire("final", signed).dest == S.TO_RECEIVE


def test_a_sentence_is_final_neither_before_it_was_given_nor_in_the_future() -> None:
    early = refusal_of("final", asked(S.AWAITING_FINAL, sent("final", final_on="2026-02-01")))
    assert early.field == "final_on"
    assert early.reasons == (
        f"data 01/02/2026 anteriore al provvedimento del giudice (02/02/2026) ({RECEPTION})",
    )
    future = refusal_of("final", asked(S.AWAITING_FINAL, sent("final", final_on="2026-03-03")))
    assert future.reasons == (
        f"data di irrevocabilità 03/03/2026 successiva a oggi (02/03/2026) ({RECEPTION})",
    )


# --- reception ------------------------------------------------------------------------------


def test_reception_names_each_missing_requirement_with_its_source() -> None:
    bare = MACHINE.validate("receive", {"received_on": "2026-03-02"})
    refused = refusal_of("receive", asked(S.TO_RECEIVE, bare))
    assert refused.reasons == (
        "posizione assicurativa non aperta (art. 2 co. 2 D.M. 26 marzo 2001); "
        f"calendario e progetto non concordati (art. 54 co. 3 d.lgs. 274/2000) ({RECEPTION})",
    )
    no_insurance = sent("receive", insurance_opened=False)
    assert refusal_of("receive", asked(S.TO_RECEIVE, no_insurance)).reasons == (
        f"posizione assicurativa non aperta (art. 2 co. 2 D.M. 26 marzo 2001) ({RECEPTION})",
    )
    no_calendar = sent("receive", calendar_agreed=False)
    assert refusal_of("receive", asked(S.TO_RECEIVE, no_calendar)).reasons == (
        f"calendario e progetto non concordati (art. 54 co. 3 d.lgs. 274/2000) ({RECEPTION})",
    )


def test_the_safety_course_is_required_when_the_task_needs_it() -> None:
    needed = sent("receive", safety_course_needed=True)
    refused = refusal_of("receive", asked(S.TO_RECEIVE, needed))
    assert refused.reasons == (
        f"corso sulla sicurezza richiesto dalla mansione non svolto ({RECEPTION})",
    )
    done = sent("receive", safety_course_needed=True, safety_course_done=True)
    assert MACHINE.fire("receive", asked(S.TO_RECEIVE, done)).dest == S.IN_PROGRESS
    not_needed = sent("receive", safety_course_needed=False, safety_course_done=False)
    assert MACHINE.fire("receive", asked(S.TO_RECEIVE, not_needed)).dest == S.IN_PROGRESS


def test_the_behaviour_agreement_is_recommended_not_required() -> None:
    without = sent("receive")
    assert "behaviour_agreement" not in without
    assert MACHINE.fire("receive", asked(S.TO_RECEIVE, without)).dest == S.IN_PROGRESS


def test_reception_follows_the_final_sentence() -> None:
    early = sent("receive", received_on="2026-02-19")
    refused = refusal_of("receive", asked(S.TO_RECEIVE, early))
    assert refused.reasons == (
        f"accoglienza il 19/02/2026, prima che la sentenza divenisse irrevocabile ({RECEPTION})",
    )


CONVENTION = "(art. 54 co. 6 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001)"


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({}, "stato della convenzione CLPU-2026-000001 non noto"),
        ({"convention_state": "expired"}, "la convenzione CLPU-2026-000001 non è in vigore"),
        (
            {"convention_state": "in_force"},
            "posti disponibili della convenzione CLPU-2026-000001 non noti",
        ),
        (
            {"convention_state": "in_force", "convention_places_left": 0},
            "la convenzione CLPU-2026-000001 accoglie già il numero massimo di persone",
        ),
    ],
)
def test_reception_needs_a_convention_in_force_with_a_place(
    facts: dict[str, Any], reason: str
) -> None:
    refused = refusal_of("receive", asked(S.TO_RECEIVE, sent("receive"), facts=facts))
    assert refused.reasons == (f"{reason} {CONVENTION}",)


# --- in progress ----------------------------------------------------------------------------


def test_the_hours_are_done_when_the_register_says_so() -> None:
    left = refusal_of("hours_done", asked(S.IN_PROGRESS, {}, facts={"hours_owed_left": 4}))
    assert left.reasons == (
        "restano 4 ore da svolgere secondo il registro presenze (seme 003: registro presenze)",
    )
    unknown = refusal_of("hours_done", asked(S.IN_PROGRESS, {}, facts={}))
    assert "non note" in unknown.reasons[0]


@pytest.mark.parametrize(
    ("left", "done"),
    [(0, True), ("0", True), (Decimal("0.0"), True), (Decimal("0.5"), False), ("4", False)],
)
def test_the_registers_hours_are_read_as_numbers(left: object, done: bool) -> None:
    given = asked(S.IN_PROGRESS, {}, facts={"hours_owed_left": left})
    assert {v.trigger: v for v in MACHINE.verdicts(given)}["hours_done"].allowed is done


def test_the_local_table_covers_every_form_the_declaration_takes() -> None:
    assert set(FORMS) == set(get_args(Declaration.model_fields["form"].annotation))


def test_an_authorisation_of_more_hours_is_recorded_on_the_case() -> None:
    assert MACHINE.validate("authorise_hours", {"authorised_on": "2026-03-02"}) == {
        "authorised_on": "2026-03-02",
        "authorised_extra_hours": True,
    }
    fired = MACHINE.fire("authorise_hours", asked(S.IN_PROGRESS, sent("authorise_hours")))
    assert fired.transition.records == ("authorised_extra_hours",)
    assert fired.transition.article == "art. 54 co. 3 d.lgs. 274/2000"


def test_a_breach_goes_to_the_authority_the_form_names() -> None:
    assert breach_article("D") == "art. 56 d.lgs. 274/2000"
    assert breach_article("H") == "art. 186 co. 9-bis C.d.S."
    assert breach_article("N") == "art. 168-quater c.p."
    assert breach_addressee({**DATA, "breach_authority": "Questura di Torino"}) == (
        "Questura di Torino"
    )
    assert breach_addressee(DATA) == "Giudice di pace di Torino"


@pytest.mark.parametrize(
    ("trigger", "state", "field"),
    [
        ("breach", S.IN_PROGRESS, "occurred_on"),
        ("continue", S.BREACH_REPORTED, "ruled_on"),
        ("revoke", S.BREACH_REPORTED, "ruled_on"),
        ("report", S.COMPLETED, "reported_on"),
        ("authorise_hours", S.TO_RECEIVE, "authorised_on"),
        ("receive", S.TO_RECEIVE, "received_on"),
    ],
)
def test_nothing_is_dated_in_the_future(trigger: str, state: LpuPlacement, field: str) -> None:
    refused = refusal_of(trigger, asked(state, sent(trigger, **{field: "2026-03-03"})))
    assert refused.field == field
    assert "03/03/2026 successiva a oggi (02/03/2026)" in refused.reasons[0]


# --- what can happen now, without a payload -------------------------------------------------


@pytest.mark.parametrize("state", list(LpuPlacement))
@pytest.mark.parametrize("data", [{}, DATA, {**DATA, "form": "H"}])
def test_what_can_happen_now_is_answered_without_a_payload(
    state: LpuPlacement, data: dict[str, Any]
) -> None:
    """A case page asks every trigger with no payload and no facts: each guard answers (what
    is missing), none crashes."""
    given = GuardInput(CaseView("LPU-2026-000001", state.value, data), {}, NOW, {})
    for verdict in MACHINE.verdicts(given):
        assert not any("non verificabile" in reason for reason in verdict.reasons), verdict


def test_the_lpu_part_of_a_probation_ends_only_with_its_revocation() -> None:
    """art. 168-quater c.p.: fired by the system when the probation the declaration names is
    revoked; refused for a placement that is no probation's, or while the probation runs."""
    alone = {k: v for k, v in DATA.items() if k != "probation"}
    refused = refusal_of("end_with_probation", asked(S.IN_PROGRESS, {}, data=alone))
    assert "non è la parte di LPU di una messa alla prova" in str(refused)
    running = {**FACTS, "probation_state": "running"}
    refused = refusal_of("end_with_probation", asked(S.IN_PROGRESS, {}, facts=running))
    assert "MAP-2026-000001 non è revocata" in str(refused)


@pytest.mark.parametrize(
    ("start", "end", "overlaps"),
    [("12:00", "13:00", False), ("14:00", "15:00", False), ("12:30", "13:30", True),
     ("13:00", "14:00", True), ("13:15", "13:45", True), ("12:00", "14:30", True)],
)  # fmt: skip
def test_a_session_that_overlaps_one_in_the_register_is_refused(
    start: str, end: str, overlaps: bool
) -> None:
    given = asked(S.IN_PROGRESS, sent("attend", start=start, end=end))
    if not overlaps:
        assert MACHINE.fire("attend", given).dest == S.IN_PROGRESS
        return
    refused = refusal_of("attend", given)
    assert refused.field == "start" and "sovrapposta a quella 13:00-14:00" in str(refused)

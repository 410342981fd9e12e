"""The register of residential facilities (D.M. 24 luglio 2025 n. 128, arts. 3-10) as two machines:

- `facility` (references STR-YYYY-NNNNNN): the operator's expression of interest -> review, with
  the prison administration's (DAP) opinion -> registered in its section, or rejected after a
  notice of the reasons and ten days for observations (art. 10-bis L. 241/1990); once
  registered, the operator's reports of changes (art. 4), and the suspension, its lifting and
  the cancellation that only a cancellation procedure orders (art. 5 co. 4-6);
- `cancellation` (references CANC-YYYY-NNNNNN): the procedure of art. 5 on one or more causes
  (a)-(d): invitation to clarify within the peremptory 30 days from the operator's receipt ->
  examination -> archived, or contested with a defence term of 15 to 45 days from the receipt
  of the contestation -> cancelled by a reasoned decision, or archived. The operator may give up
  its registration at any stage (cancelled on the record as it stands); the Directorate may
  suspend the facility during the procedure, and the suspension ends with it.

What arrives after a term (a clarification, a defence, observations) is recorded on the case
and disregarded: the machine declares it in every later state, with the article that says so.

A decision follows the end of its term even when the answer arrives earlier (observations,
clarifications, a defence): the operator may add to it until the term's last day (art. 5 co.
2-4; art. 10-bis L. 241/1990), so nothing is decided on a record that may still grow.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from machines.calendar import TermRule, Unit, rome_date
from machines.register import requirements
from machines.spec import CaseMachine, Guard, GuardInput, Payload, Term, Transition

DM = "D.M. 128/2025"
L241 = "art. 10-bis L. 241/1990"

# The sections of the register (art. 3 co. 4): one per region, as the public notice sets them.
# Data: a new section is a new line.
SECTIONS = (
    "Abruzzo", "Basilicata", "Calabria", "Campania", "Emilia-Romagna", "Friuli Venezia Giulia",
    "Lazio", "Liguria", "Lombardia", "Marche", "Molise", "Piemonte", "Puglia", "Sardegna",
    "Sicilia", "Toscana", "Trentino-Alto Adige", "Umbria", "Valle d'Aosta", "Veneto",
)  # fmt: skip

# Causes of cancellation (art. 5 co. 1).
CAUSES = {
    "a": "mancata comunicazione delle variazioni dei requisiti (art. 4 co. 1 a)",
    "b": "insussistenza, anche sopravvenuta, di taluno dei requisiti (capo III)",
    "c": "divulgazione di dati personali dei residenti",
    "d": "inottemperanza alle prescrizioni sui servizi di cui all'art. 7",
}

# The terms (art. 5 co. 2-3; art. 10-bis L. 241/1990): administrative day terms counted from the
# operator's receipt, moved off a holiday to the next working day.
OBSERVATIONS = TermRule(10, Unit.DAYS, extend_on_holiday=True, article=L241)
CLARIFICATIONS = TermRule(30, Unit.DAYS, extend_on_holiday=True, article=f"art. 5 co. 2 {DM}")
DEFENCE_MIN, DEFENCE_MAX = 15, 45  # art. 5 co. 3: the officer chooses within these bounds
DEFENCE = TermRule(DEFENCE_MIN, Unit.DAYS, extend_on_holiday=True, article=f"art. 5 co. 3 {DM}")

# What a change of the published register signals: its republication, at once (art. 3 co. 6).
REPUBLISH = ("publish_register",)

# The topic the register announces a facility's standing on, in the transaction that changes
# it: the procedures that place people in facilities listen to it (services/procedure.py).
FACILITY_STANDING = "facility_standing"


class Facility(StrEnum):
    FILED = "filed"
    UNDER_REVIEW = "under_review"
    REASONS_NOTIFIED = "reasons_notified"
    OBSERVATIONS = "observations"
    TO_DECIDE = "to_decide"
    REGISTERED = "registered"
    SUSPENDED = "suspended"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


class Cancellation(StrEnum):
    OPENED = "opened"
    INVITED = "invited"
    CLARIFYING = "clarifying"
    EXAMINING = "examining"
    CONTESTED = "contested"
    DEFENDING = "defending"
    DECIDING = "deciding"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"


F, C = Facility, Cancellation

Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._/-]+$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,5}-\d{4}-\d{6}$")]
OperatorType = Literal["a", "b", "c", "d", "e"]


class Opening(Payload):
    """The expression of interest on the public notice's uniform forms (art. 3 co. 2), with the
    self-declarations of the requirements (art. 3 co. 3): the operator and the facility, never
    a resident."""

    code: Code = Field(description="Codice della struttura.")
    name: Text = Field(description="Denominazione della struttura.")
    operator: Text = Field(description="Ente gestore.")
    operator_type: OperatorType = Field(description="Tipologia dell'ente (art. 8 co. 1 a-e).")
    members: list[Literal["a", "b", "c", "d"]] = Field(
        [], max_length=10, description="Tipologie dei soggetti associati (art. 8 co. 1 e)."
    )
    runts_registered: bool | None = None
    statute_covers_accommodation: bool | None = None
    address: Text = Field(description="Indirizzo della struttura.")
    section: str = Field(description="Sezione dell'elenco (regione).")
    places: int = Field(ge=1, le=10000, description="Posti offerti.")
    structure_type: Literal["community", "temporary"] | None = None
    territorially_authorised: bool = False
    housing_suitable: bool | None = None
    hygiene_suitable: bool | None = None
    residence_registration: bool | None = None
    accommodation: bool | None = None
    personal_assistance: bool | None = None
    reintegration: bool | None = None
    filed_on: date = Field(description="Data di presentazione della manifestazione (non futura).")

    @field_validator("section")
    @classmethod
    def _known_section(cls, section: str) -> str:
        if section not in SECTIONS:
            raise ValueError(f"sezione sconosciuta: le sezioni sono {', '.join(SECTIONS)}")
        return section


class Person(Payload):
    """One member, associate, director, representative or manager of a third-sector operator,
    by role and number: never a name (art. 15). Each flag is what the self-declaration says."""

    role: Literal["member", "associate", "director", "representative", "manager"]
    legal_incapacity: bool = False
    conviction: bool = False
    plea_with_accessory: bool = False
    rehabilitated: bool = False
    revoked_for_abolition: bool = False
    pending_proceedings: bool = Field(
        False,
        description="Azione penale esercitata per delitto non colposo; la sola iscrizione nel "
        "registro delle notizie di reato non rileva (art. 335-bis c.p.p.).",
    )
    public_office_ban: bool = False
    prevention_measure: bool = False
    prevention_rehabilitated: bool = False
    security_measure: bool = False
    disciplinary_sanction_on: date | None = Field(
        None, description="Sanzione disciplinare più grave della minima (iscritti a un albo)."
    )


class Review(Payload):
    """The review opens on the self-declarations of each person of art. 8 co. 2 (personal data:
    kept on the case, out of the trail)."""

    people: list[Person] = Field([], max_length=200)


class DapOpinion(Payload):
    """The opinion of the prison administration, heard before the registration (art. 3 co. 4)."""

    opinion: Literal["favourable", "unfavourable"]
    given_on: date
    note: Reason | None = None


class Reasons(Payload):
    reasons: Reason


class Receipt(Payload):
    """The date the operator received the notice, from the delivery receipt (PEC)."""

    received_on: date


class Observations(Payload):
    text: Reason


class ChangeReport(Payload):
    """A report of the operator under art. 4: a change to a declared requirement (a) or the loss
    of one (b), and the day it happened."""

    nature: Literal["change", "loss"]
    requirement: Text
    description: Reason
    occurred_on: date


class PresenceCheck(Payload):
    reference: Reference = Field(description="Pratica di collocamento (ATT-...).")
    present: bool


class VisitReport(Payload):
    """A visit of the UIEPE's penitentiary police unit (art. 10 co. 3-4 b): who it found present,
    by case reference (never a name)."""

    visited_on: date
    unit: Text = Field(description="Nucleo di polizia penitenziaria dell'UIEPE.")
    checks: list[PresenceCheck] = Field([], max_length=500)
    note: Reason | None = None


class PrescriptionOrder(Payload):
    """A prescription on the services of art. 7 co. 2 (a, b or c), to be complied with by
    `due_on`."""

    service: Literal["a", "b", "c"]
    text: Reason
    due_on: date


class PrescriptionOutcome(Payload):
    number: int = Field(ge=1, le=100000)
    outcome: Literal["complied", "ignored"]
    found_on: date


class ProcedureAct(Payload):
    """The cancellation procedure that orders the act on the facility."""

    procedure: Reference


class CancellationOpening(Payload):
    """The procedure opened on one or more causes (art. 5 co. 1), with the facts."""

    facility: Reference = Field(description="Pratica della struttura (STR-...).")
    causes: list[Literal["a", "b", "c", "d"]] = Field(min_length=1, max_length=4)
    facts: Reason

    @field_validator("causes")
    @classmethod
    def _once_each(cls, causes: list[str]) -> list[str]:
        if len(set(causes)) != len(causes):
            raise ValueError("ogni causa si indica una volta")
        return causes


class Contestation(Payload):
    """The formal contestation (art. 5 co. 3): the facts, the rules breached, the defence term."""

    facts: Reason
    rules_breached: Reason
    defence_days: int = Field(
        description="Termine per le difese: non meno di 15 e non più di 45 giorni.",
        json_schema_extra={"minimum": DEFENCE_MIN, "maximum": DEFENCE_MAX},
    )

    @field_validator("defence_days")
    @classmethod
    def _within_bounds(cls, days: int) -> int:
        """Art. 5 co. 3: every path refuses another term with these words."""
        if not DEFENCE_MIN <= days <= DEFENCE_MAX:
            raise ValueError(
                f"termine per le difese di {days} giorni: non meno di {DEFENCE_MIN} e non più "
                f"di {DEFENCE_MAX} giorni (art. 5 co. 3 {DM})"
            )
        return days


class Submission(Payload):
    """Clarifications, documents or a defence filed by the operator."""

    text: Reason
    documents: int = Field(0, ge=0, le=1000)


class Decision(Payload):
    reasons: Reason


def _day(given: GuardInput, field: str) -> date | None:
    """The date the payload gives in `field`, if it gives one (the schema requires it; a guard
    asked what may happen now, without a payload, says what is missing)."""
    value = given.payload.get(field)
    return None if value is None else date.fromisoformat(str(value))


def _filed_not_in_future(given: GuardInput) -> str | None:
    filed = _day(given, "filed_on")
    if filed is None:
        return "da indicare la data di presentazione"
    today = rome_date(given.now)
    return None if filed <= today else f"data {filed:%d/%m/%Y} successiva a oggi ({today:%d/%m/%Y})"


def _requirements_met(given: GuardInput) -> str | None:
    """Arts. 6-9: every requirement in force today, each named with its article."""
    private = given.case.data.get("private", {})
    people = private.get("review", {}).get("people", [])
    gaps = requirements.missing(given.case.data, people, rome_date(given.now))
    return "; ".join(gaps) or None


def _dap_heard(given: GuardInput) -> str | None:
    if given.case.data.get("opinion") in ("favourable", "unfavourable"):
        return None
    return "parere del Dipartimento dell'amministrazione penitenziaria non acquisito"


def _received_after_sending(given: GuardInput) -> str | None:
    """A receipt is dated neither after today nor before the notice it acknowledges."""
    received = _day(given, "received_on")
    if received is None:
        return "da indicare la data di ricezione (ricevuta di consegna)"
    today = rome_date(given.now)
    if received > today:
        return f"data di ricezione {received:%d/%m/%Y} successiva a oggi ({today:%d/%m/%Y})"
    sent = given.facts.get("sent_on")
    if sent is not None and received < sent:
        return f"data di ricezione {received:%d/%m/%Y} anteriore all'invio ({sent:%d/%m/%Y})"
    return None


def _not_in_future(field: str) -> Guard:
    def check(given: GuardInput) -> str | None:
        day = _day(given, field)
        if day is None:
            return f"da indicare {field}"
        today = rome_date(given.now)
        return None if day <= today else f"data {day:%d/%m/%Y} successiva a oggi ({today:%d/%m/%Y})"

    return Guard(f"{field}_not_in_future", check, f"art. 10 {DM}", field)


def _deadline_ahead(given: GuardInput) -> str | None:
    due = _day(given, "due_on")
    if due is None:
        return "da indicare il termine della prescrizione"
    today = rome_date(given.now)
    return (
        None if due > today else f"termine {due:%d/%m/%Y} non successivo a oggi ({today:%d/%m/%Y})"
    )


def _ordered_by_procedure(act: str) -> Guard:
    """The facility's suspension, its lifting and its cancellation are acts of a cancellation
    procedure of this facility (art. 5 co. 4-6): its last act must be the one that orders it."""

    def check(given: GuardInput) -> str | None:
        if "procedure" not in given.payload:
            return "atto disposto solo da un procedimento di cancellazione della struttura"
        procedure = given.facts.get("procedure_acts", {}).get(str(given.payload["procedure"]))
        if procedure is None:
            named = given.payload["procedure"]
            return f"nessun procedimento di cancellazione {named} per questa struttura"
        if procedure not in ORDERS[act]:
            return f"il procedimento {given.payload['procedure']} non ha disposto questo atto"
        return None

    return Guard(f"ordered_{act}", check, f"art. 5 {DM}", field="procedure")


# The procedure's act (its last trigger) that orders each act on the facility.
ORDERS = {
    "suspend": ("suspend",),
    "lift": ("lift", "archive"),
    "cancel": ("cancel", "give_up"),
}


def _standing_is(*standings: str) -> Guard:
    def check(given: GuardInput) -> str | None:
        standing = given.facts.get("facility_standing")
        if standing in standings:
            return None
        if standing is None:
            return "stato della struttura non noto"
        return f"la struttura è nello stato '{FACILITY_LABELS.get(str(standing), standing)}'"

    return Guard(f"facility_{'_or_'.join(standings)}", check, f"art. 5 co. 6 {DM}")


def _late(
    trigger: str, states: tuple[StrEnum, ...], schema: type[Payload], article: str
) -> tuple[Transition, ...]:
    """`trigger` after its term: recorded on the case, not applied (the state does not move)."""
    return tuple(Transition(trigger, (state,), state, article, schema=schema) for state in states)


AFTER_OBSERVATIONS = (F.TO_DECIDE, F.REGISTERED, F.SUSPENDED, F.REJECTED, F.CANCELLED, F.WITHDRAWN)
PENDING_APPLICATION = (F.FILED, F.UNDER_REVIEW, F.REASONS_NOTIFIED, F.OBSERVATIONS, F.TO_DECIDE)
ON_REGISTER = (F.REGISTERED, F.SUSPENDED)

FACILITY_LABELS = {
    "facility": "struttura residenziale dell'elenco",
    F.FILED: "manifestazione di interesse presentata",
    F.UNDER_REVIEW: "in istruttoria",
    F.REASONS_NOTIFIED: "comunicati i motivi ostativi",
    F.OBSERVATIONS: "termine per le osservazioni in corso",
    F.TO_DECIDE: "da decidere",
    F.REGISTERED: "iscritta nell'elenco",
    F.SUSPENDED: "sospesa dall'elenco",
    F.REJECTED: "iscrizione respinta",
    F.CANCELLED: "cancellata dall'elenco",
    F.WITHDRAWN: "manifestazione ritirata",
    "open": "manifestazione di interesse",
    "review": "avvio dell'istruttoria",
    "dap_opinion": "parere del DAP",
    "notify_reasons": "comunicazione dei motivi ostativi",
    "record_receipt": "ricevuta di consegna",
    "observe": "osservazioni dell'ente",
    "observations_closed": "scadenza del termine per le osservazioni",
    "register": "iscrizione nell'elenco",
    "reject": "rigetto",
    "withdraw": "ritiro della manifestazione",
    "report_change": "comunicazione di variazione (art. 4)",
    "suspend": "sospensione",
    "lift": "revoca della sospensione",
    "cancel": "cancellazione",
    "record_visit": "visita di vigilanza",
    "prescribe": "prescrizione sui servizi",
    "prescription_outcome": "esito della prescrizione",
    "observations_term": "termine per le osservazioni",
}

FACILITY = CaseMachine(
    kind="facility",
    prefix="STR",
    states=Facility,
    initial=F.FILED,
    opening=Opening,
    opening_guards=(
        Guard("filed_not_in_future", _filed_not_in_future, f"art. 3 co. 2 {DM}", "filed_on"),
    ),
    transitions=(
        Transition(
            "review",
            (F.FILED,),
            F.UNDER_REVIEW,
            f"art. 3 co. 3-4 {DM}",
            schema=Review,
            private=("people",),  # art. 15: the self-declarations of named people
        ),
        Transition(
            "dap_opinion",
            (F.UNDER_REVIEW,),
            F.UNDER_REVIEW,
            f"art. 3 co. 4 {DM}",
            schema=DapOpinion,
            records=("opinion", "given_on"),
        ),
        Transition(
            "notify_reasons",
            (F.UNDER_REVIEW,),
            F.REASONS_NOTIFIED,
            L241,
            notices=("preavviso_rigetto",),
            schema=Reasons,
            records=("reasons",),
        ),
        Transition(
            "record_receipt",
            (F.REASONS_NOTIFIED,),
            F.OBSERVATIONS,
            L241,
            guards=(Guard("received", _received_after_sending, L241, "received_on"),),
            schema=Receipt,
            records=("received_on",),
        ),
        Transition("observe", (F.OBSERVATIONS,), F.OBSERVATIONS, L241, schema=Observations),
        *_late(
            "observe",
            AFTER_OBSERVATIONS,
            Observations,
            f"{L241}: osservazioni pervenute oltre il termine, acquisite agli atti",
        ),
        Transition("observations_closed", (F.OBSERVATIONS,), F.TO_DECIDE, L241),
        Transition(
            "register",
            (F.UNDER_REVIEW, F.TO_DECIDE),
            F.REGISTERED,
            f"art. 3 co. 4 {DM}",
            guards=(
                Guard("dap_heard", _dap_heard, f"art. 3 co. 4 {DM}"),
                Guard("requirements", _requirements_met, f"artt. 6-9 {DM}"),
            ),
            notices=("iscrizione",),
            signals=REPUBLISH,
        ),
        Transition(
            "reject",
            (F.TO_DECIDE,),
            F.REJECTED,
            f"art. 3 co. 4 {DM}; {L241}",
            guards=(Guard("dap_heard", _dap_heard, f"art. 3 co. 4 {DM}"),),
            notices=("rigetto",),
            schema=Reasons,
            records=("reasons",),
        ),
        Transition("withdraw", PENDING_APPLICATION, F.WITHDRAWN, f"art. 3 co. 2 {DM}"),
        *(
            Transition("report_change", (state,), state, f"art. 4 {DM}", schema=ChangeReport)
            for state in ON_REGISTER
        ),
        *(
            Transition(
                "record_visit",
                (state,),
                state,
                f"art. 10 co. 3-4 {DM}",
                schema=VisitReport,
                guards=(_not_in_future("visited_on"),),
            )
            for state in ON_REGISTER
        ),
        *(
            Transition(
                "prescribe",
                (state,),
                state,
                f"art. 5 co. 1 d, art. 7 co. 2 {DM}",
                schema=PrescriptionOrder,
                notices=("prescrizione",),
                guards=(Guard("deadline_ahead", _deadline_ahead, f"art. 10 {DM}", "due_on"),),
            )
            for state in ON_REGISTER
        ),
        *(
            Transition(
                "prescription_outcome",
                (state,),
                state,
                f"art. 5 co. 1 d {DM}",
                schema=PrescriptionOutcome,
                guards=(_not_in_future("found_on"),),
            )
            for state in ON_REGISTER
        ),
        Transition(
            "suspend",
            (F.REGISTERED,),
            F.SUSPENDED,
            f"art. 5 co. 6 {DM}",
            guards=(_ordered_by_procedure("suspend"),),
            schema=ProcedureAct,
            signals=REPUBLISH,
        ),
        Transition(
            "lift",
            (F.SUSPENDED,),
            F.REGISTERED,
            f"art. 5 co. 6 {DM}",
            guards=(_ordered_by_procedure("lift"),),
            schema=ProcedureAct,
            signals=REPUBLISH,
        ),
        Transition(
            "cancel",
            ON_REGISTER,
            F.CANCELLED,
            f"art. 5 co. 4-5 {DM}",
            guards=(_ordered_by_procedure("cancel"),),
            schema=ProcedureAct,
            signals=REPUBLISH,
        ),
    ),
    terms=(
        Term(
            F.OBSERVATIONS,
            "observations_term",
            OBSERVATIONS,
            fires="observations_closed",
            starts_on="received_on",
        ),
    ),
    awaits={  # whose act the enrolment waits for (arts. 3-5 D.M. 128/2025)
        Facility.FILED: "directorate",
        Facility.UNDER_REVIEW: "directorate",
        Facility.REASONS_NOTIFIED: "facility",
        Facility.OBSERVATIONS: "directorate",
        Facility.TO_DECIDE: "directorate",
        Facility.SUSPENDED: "directorate",
    },
    labels=FACILITY_LABELS,
)

IN_PROGRESS = (C.OPENED, C.INVITED, C.CLARIFYING, C.EXAMINING, C.CONTESTED, C.DEFENDING, C.DECIDING)
AFTER_CLARIFICATIONS = (C.EXAMINING, C.CONTESTED, C.DEFENDING, C.DECIDING, C.ARCHIVED, C.CANCELLED)
AFTER_DEFENCE = (C.DECIDING, C.ARCHIVED, C.CANCELLED)
LATE = "pervenuti oltre il termine perentorio: acquisiti agli atti e non valutati"

CANCELLATION = CaseMachine(
    kind="cancellation",
    prefix="CANC",
    states=Cancellation,
    initial=C.OPENED,
    opening=CancellationOpening,
    transitions=(
        Transition(
            "invite",
            (C.OPENED,),
            C.INVITED,
            f"art. 5 co. 2 {DM}",
            notices=("invito_chiarimenti",),
        ),
        Transition(
            "record_receipt",
            (C.INVITED,),
            C.CLARIFYING,
            f"art. 5 co. 2 {DM}",
            guards=(
                Guard("received", _received_after_sending, f"art. 5 co. 2 {DM}", "received_on"),
            ),
            schema=Receipt,
            records=("received_on",),
        ),
        Transition(
            "record_receipt",
            (C.CONTESTED,),
            C.DEFENDING,
            f"art. 5 co. 3 {DM}",
            guards=(
                Guard("received", _received_after_sending, f"art. 5 co. 3 {DM}", "received_on"),
            ),
            schema=Receipt,
            records=("received_on",),
        ),
        Transition(
            "clarify", (C.CLARIFYING,), C.CLARIFYING, f"art. 5 co. 2 {DM}", schema=Submission
        ),
        *_late("clarify", AFTER_CLARIFICATIONS, Submission, f"art. 5 co. 2 {DM}: {LATE}"),
        Transition("clarifications_closed", (C.CLARIFYING,), C.EXAMINING, f"art. 5 co. 2-3 {DM}"),
        Transition(
            "archive",
            (C.EXAMINING, C.DECIDING),
            C.ARCHIVED,
            f"art. 5 co. 3-4 {DM}",
            notices=("archiviazione",),
            schema=Decision,
            records=("reasons",),
        ),
        Transition(
            "contest",
            (C.EXAMINING,),
            C.CONTESTED,
            f"art. 5 co. 3 {DM}",
            notices=("contestazione",),
            schema=Contestation,
            records=("facts", "rules_breached", "defence_days"),
        ),
        Transition("defend", (C.DEFENDING,), C.DEFENDING, f"art. 5 co. 3 {DM}", schema=Submission),
        *_late("defend", AFTER_DEFENCE, Submission, f"art. 5 co. 3 {DM}: {LATE}"),
        Transition("defence_closed", (C.DEFENDING,), C.DECIDING, f"art. 5 co. 3-4 {DM}"),
        Transition(
            "cancel",
            (C.DECIDING,),
            C.CANCELLED,
            f"art. 5 co. 4 {DM}",
            notices=("cancellazione",),
            schema=Decision,
            records=("reasons",),
        ),
        Transition(
            "give_up",
            IN_PROGRESS,
            C.CANCELLED,
            f"art. 5 co. 5 {DM}",
            notices=("cancellazione",),
        ),
        *(
            Transition(
                "suspend",
                (state,),
                state,
                f"art. 5 co. 6 {DM}",
                guards=(_standing_is("registered"),),
                notices=("sospensione",),
                schema=Reasons,
            )
            for state in IN_PROGRESS
        ),
        *(
            Transition(
                "lift",
                (state,),
                state,
                f"art. 5 co. 6 {DM}",
                guards=(_standing_is("suspended"),),
                notices=("revoca_sospensione",),
                schema=Reasons,
            )
            for state in IN_PROGRESS
        ),
    ),
    terms=(
        Term(
            C.CLARIFYING,
            "clarification_term",
            CLARIFICATIONS,
            fires="clarifications_closed",
            starts_on="received_on",
        ),
        Term(
            C.DEFENDING,
            "defence_term",
            DEFENCE,
            fires="defence_closed",
            starts_on="received_on",
            days_from="defence_days",
        ),
    ),
    awaits={  # whose act the cancellation waits for (art. 7 D.M. 128/2025)
        Cancellation.OPENED: "directorate",
        Cancellation.INVITED: "facility",
        Cancellation.CLARIFYING: "facility",
        Cancellation.EXAMINING: "directorate",
        Cancellation.CONTESTED: "facility",
        Cancellation.DEFENDING: "facility",
        Cancellation.DECIDING: "directorate",
    },
    labels={
        "cancellation": "procedimento di cancellazione dall'elenco",
        C.OPENED: "avviato",
        C.INVITED: "invito a fornire chiarimenti inviato",
        C.CLARIFYING: "termine per i chiarimenti in corso",
        C.EXAMINING: "esame dei chiarimenti",
        C.CONTESTED: "contestazione inviata",
        C.DEFENDING: "termine per le difese in corso",
        C.DECIDING: "da decidere",
        C.ARCHIVED: "archiviato",
        C.CANCELLED: "struttura cancellata dall'elenco",
        "open": "avvio del procedimento",
        "invite": "invito a fornire chiarimenti",
        "record_receipt": "ricevuta di consegna",
        "clarify": "chiarimenti e documenti",
        "clarifications_closed": "scadenza del termine per i chiarimenti",
        "archive": "archiviazione",
        "contest": "contestazione formale",
        "defend": "difese e documenti",
        "defence_closed": "scadenza del termine per le difese",
        "cancel": "cancellazione con provvedimento motivato",
        "give_up": "dichiarazione di non interesse all'iscrizione",
        "suspend": "sospensione dall'elenco",
        "lift": "revoca della sospensione",
        "clarification_term": "termine perentorio per i chiarimenti",
        "defence_term": "termine per le difese",
    },
)

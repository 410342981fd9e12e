"""Funded residential placement: from the detainee's application to the end of the funded stay
(D.M. 24 luglio 2025 n. 128, arts. 11-14). Kind `placement`, references ATT-YYYY-NNNNNN.

The machine decides what may happen and cites the article; places, money and the protocol-order
reallocation are services (they fire `attest` on the next application in protocol order when a
`reallocate` signal says a place was freed).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from machines.calendar import TermRule, Unit, rome_date
from machines.placements.funding import income_refusal
from machines.spec import (
    CaseMachine,
    Guard,
    GuardInput,
    Payload,
    Reminder,
    Term,
    Transition,
)

DM = "D.M. 128/2025"


class Placement(StrEnum):
    FILED = "filed"
    FORWARDED = "forwarded"
    REGISTERED = "registered"
    QUEUED = "queued"
    ATTESTED = "attested"
    AT_COURT = "at_court"
    GRANTED = "granted"
    PLACED = "placed"
    ENDED = "ended"
    REFUSED = "refused"
    REJECTED = "rejected"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


S = Placement

# The four requirements, all needed together (art. 11 co. 1-2), as the Director reports them.
REQUIREMENTS = {
    "community_measure_eligible": "requisiti per le misure penali di comunità (art. 11 co. 1 a)",
    "no_suitable_domicile": "assenza di un domicilio idoneo (art. 11 co. 1 b)",
    "no_expulsion_order": "assenza di provvedimenti di espulsione (art. 11 co. 1 d)",
}
# The five parameters the equipe's summary report verifies (art. 12 co. 3).
EQUIPE_PARAMETERS = {
    "no_serious_sanctions": "nessuna sanzione disciplinare oltre l'ammonizione (a)",
    "no_aggression": "nessun episodio di aggressività verso persone o cose (b)",
    "work_skills": "abilità lavorative (c)",
    "treatment_participation": "partecipazione attiva ai percorsi trattamentali (d)",
    "reintegration_prospects": "elementi a sostegno dell'inserimento lavorativo e abitativo (e)",
}


# Payload schemas: what each step carries, bounded as the tables that keep it are.
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9._/-]+$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
FileNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f]+$"),
    Field(description="Numero di registro del procedimento (es. SIUS 123/2026)."),
]


class Opening(Payload):
    """The application as the prison records it (art. 12 co. 1): no name, no tax code."""

    prison: Code = Field(description="Codice dell'istituto penitenziario.")
    court: Text = Field(description="Autorità giudiziaria competente a decidere.")
    filed_on: date = Field(description="Data di presentazione dell'istanza (non futura).")


class EquipeReport(Payload):
    """The equipe's summary report (art. 12 co. 3): each parameter verified or not."""

    no_serious_sanctions: bool | None = None
    no_aggression: bool | None = None
    work_skills: bool | None = None
    treatment_participation: bool | None = None
    reintegration_prospects: bool | None = None


class Assessment(Payload):
    """The Director's check (art. 11 co. 1-2, art. 12 co. 2-3); what is missing is named by
    the guard, not refused as malformed."""

    community_measure_eligible: bool | None = None
    no_suitable_domicile: bool | None = None
    no_expulsion_order: bool | None = None
    equipe_report: EquipeReport | None = None
    taxable_income: Decimal | None = Field(None, ge=0, le=Decimal("100000000"), decimal_places=2)
    cohabitants: int = Field(0, ge=0, le=50)


class Refusal(Payload):
    reason: Reason
    assessment: Assessment | None = None


class Attestation(Payload):
    convention: Code
    place: int = Field(ge=1, le=100000)
    facility: Code | None = None


class Ruling(Payload):
    """A court's decision as its registry reports it (art. 12 co. 7-10)."""

    decided_on: date = Field(
        description="Data del provvedimento: non futura, non anteriore all'attestazione."
    )
    file_number: FileNumber | None = None


class GrantRuling(Ruling):
    measure_start: date | None = Field(
        None, description="Decorrenza della misura, non anteriore al provvedimento."
    )

    @field_validator("measure_start")
    @classmethod
    def _start_after_decision(cls, start: date | None, info: ValidationInfo) -> date | None:
        decided = info.data.get("decided_on")
        if start is not None and decided is not None and start < decided:
            raise ValueError(f"decorrenza anteriore al provvedimento ({decided:%d/%m/%Y})")
        return start


class Grant(GrantRuling):
    """The measure granted (art. 12 co. 7), by the court the case is pending before."""

    court: Text = Field(description="Autorità giudiziaria che ha deciso.")


class Reject(Ruling):
    """The application rejected: the attestation loses effect at once (art. 12 co. 10)."""

    court: Text = Field(description="Autorità giudiziaria che ha deciso.")


class Entry(Payload):
    commitment_signed: bool = False


class Exit(Payload):
    left_on: date


def _director_check(given: GuardInput) -> str | None:
    """Art. 11 co. 1-2 and art. 12 co. 2-3: every requirement, and the income limit in force
    on the filing date, with the equipe's summary report."""
    missing = [label for key, label in REQUIREMENTS.items() if given.payload.get(key) is not True]
    report = given.payload.get("equipe_report")
    if not isinstance(report, dict):
        missing.append("relazione di sintesi dell'equipe (art. 12 co. 3)")
    else:
        missing += [
            f"relazione dell'equipe: {label}"
            for key, label in EQUIPE_PARAMETERS.items()
            if report.get(key) is not True
        ]
    income = _income_refusal(given)
    if income:
        missing.append(income)
    return "; ".join(missing) or None


def _income_refusal(given: GuardInput) -> str | None:
    """Art. 11 co. 1 c: income within the legal-aid limit in force when the application was
    filed (the case's `filed_on`, else today in Italian time)."""
    try:
        income = Decimal(str(given.payload["taxable_income"]))
        cohabitants = int(given.payload.get("cohabitants", 0))
    except (KeyError, InvalidOperation, ValueError):
        return "reddito imponibile annuo non indicato (art. 11 co. 1 c)"
    filed = given.case.data.get("filed_on")
    filed_on = date.fromisoformat(filed) if filed else rome_date(given.now)
    try:
        return income_refusal(income, filed_on, cohabitants)
    except ValueError as error:
        return f"reddito non valutabile: {error} (art. 11 co. 1 c)"


def _filed_not_in_future(given: GuardInput) -> str | None:
    filed = date.fromisoformat(str(given.payload["filed_on"]))
    today = rome_date(given.now)
    if filed > today:
        return f"data di presentazione {filed:%d/%m/%Y} successiva a oggi ({today:%d/%m/%Y})"
    return None


def _applications_open(given: GuardInput) -> str | None:
    """While the Directorate-general's stop is on, no new application is taken in."""
    stopped = given.facts.get("applications_stopped")
    return None if stopped is None else f"nuove istanze sospese dalla Direzione generale: {stopped}"


def _decision_date(given: GuardInput) -> str | None:
    """A decision is dated neither after today nor before the attestation it decides on."""
    if "decided_on" not in given.payload:
        return "da indicare la data della decisione"
    decided = date.fromisoformat(str(given.payload["decided_on"]))
    today = rome_date(given.now)
    if decided > today:
        return f"data della decisione {decided:%d/%m/%Y} successiva a oggi ({today:%d/%m/%Y})"
    issued: date | None = given.facts.get("issued_on")
    if issued is not None and decided < issued:
        return (
            f"data della decisione {decided:%d/%m/%Y} anteriore al rilascio "
            f"dell'attestazione ({issued:%d/%m/%Y})"
        )
    return None


def _court_of_case(given: GuardInput) -> str | None:
    """Only the court the application is pending before decides on it."""
    pending_before = str(given.case.data.get("court", ""))
    if "court" not in given.payload:
        return (
            f"da indicare l'Autorità che decide (l'istanza è pendente davanti a {pending_before})"
        )
    court = str(given.payload["court"])
    if court.casefold() == pending_before.casefold():
        return None
    return f"l'istanza non è pendente davanti a {court}, ma davanti a {pending_before}"


DECISION_GUARDS = (
    Guard("decision_date", _decision_date, f"art. 12 co. 6-8 {DM}", field="decided_on"),
    Guard("court_of_case", _court_of_case, f"art. 12 co. 8 {DM}", field="court"),
)


class Requeue(Payload):
    """The facility cancelled from the register whose place the attestation held."""

    facility: Code


def _facility_cancelled(given: GuardInput) -> str | None:
    """An attestation goes back to the queue only when the facility of its place was cancelled
    from the register (art. 5 co. 4-5): the register's decision, not a clerk's choice."""
    cancelled = given.facts.get("held_facility_cancelled")
    if cancelled is None:
        return "la struttura del posto attestato è iscritta nell'elenco (non cancellata)"
    if cancelled != given.payload.get("facility"):
        return f"il posto attestato non è nella struttura {given.payload.get('facility')}"
    return None


def _commitment_signed(given: GuardInput) -> str | None:
    if given.payload.get("commitment_signed") is True:
        return None
    return "impegno scritto al rispetto delle regole della struttura non sottoscritto"


VALIDITY = TermRule(2, Unit.MONTHS, extend_on_holiday=False, article=f"art. 12 co. 6 {DM}")
# The day of entry is the first paid day (art. 11 co. 4 D.M. 128/2025): entering on 10 January
# the last funded day is 9 September; entering on 31 January, 30 September.
FUNDED_STAY = TermRule(
    8, Unit.MONTHS, extend_on_holiday=False, article=f"art. 11 co. 4 {DM}", counts_start_day=True
)
PENDING = (S.FILED, S.FORWARDED, S.REGISTERED, S.QUEUED)
HOLDING_A_PLACE = (S.ATTESTED, S.AT_COURT, S.GRANTED)
# A place freed: the UIEPE's queue is served at once, by whoever caused it.
REALLOCATE = ("reallocate",)
# An application admitted to the queue: served with the next scheduled reallocation, which
# takes the queue in protocol order (one admitted early does not overtake one still checked).
QUEUE = ("queue",)

MACHINE = CaseMachine(
    kind="placement",
    prefix="ATT",
    states=Placement,
    initial=S.FILED,
    opening=Opening,
    opening_guards=(
        Guard("filed_not_in_future", _filed_not_in_future, f"art. 12 co. 1 {DM}", "filed_on"),
    ),
    transitions=(
        Transition(
            "forward",
            (S.FILED,),
            S.FORWARDED,
            f"art. 12 co. 2-3 {DM}",
            guards=(Guard("requirements", _director_check, f"art. 11 co. 1-2 {DM}"),),
            schema=Assessment,
            private=tuple(Assessment.model_fields),  # art. 15: the person's assessment, income
        ),
        Transition(
            "register",
            (S.FORWARDED,),
            S.REGISTERED,
            f"art. 12 co. 5 {DM}",
            guards=(Guard("applications_open", _applications_open, f"art. 13 co. 7 {DM}"),),
        ),
        Transition("admit", (S.REGISTERED,), S.QUEUED, f"art. 12 co. 4 {DM}", signals=QUEUE),
        Transition(
            "refuse",
            (S.FILED, S.REGISTERED),
            S.REFUSED,
            f"art. 12 co. 2 e 4 {DM}",
            notices=("notifica_cambio_stato",),
            records=("reason",),
            schema=Refusal,
            private=("assessment",),
        ),
        Transition(
            "attest",
            (S.QUEUED,),
            S.ATTESTED,
            f"art. 12 co. 4 e 6, art. 13 co. 6 {DM}",
            notices=("attestazione",),
            records=("convention", "facility", "place"),
            schema=Attestation,
        ),
        Transition(
            "transmit",
            (S.ATTESTED,),
            S.AT_COURT,
            f"art. 12 co. 4 {DM}",
            notices=("trasmissione_attestazione",),
        ),
        Transition(
            "grant",
            (S.ATTESTED, S.AT_COURT),
            S.GRANTED,
            f"art. 12 co. 7-8 {DM}",
            guards=DECISION_GUARDS,
            notices=("concessione_misura",),
            records=("decided_on", "file_number", "measure_start"),
            schema=Grant,
        ),
        Transition(
            "reject",
            (S.ATTESTED, S.AT_COURT),
            S.REJECTED,
            f"art. 12 co. 8 e 10 {DM}",
            guards=DECISION_GUARDS,
            notices=("perdita_efficacia",),
            signals=REALLOCATE,
            records=("decided_on", "file_number"),
            schema=Reject,
        ),
        Transition(
            "lapse",
            (S.ATTESTED, S.AT_COURT),
            S.LAPSED,
            f"art. 12 co. 9 {DM}",
            notices=("perdita_efficacia",),
            signals=REALLOCATE,
        ),
        Transition(
            "enter",
            (S.GRANTED,),
            S.PLACED,
            f"art. 11 co. 5 {DM}",
            guards=(Guard("commitment", _commitment_signed, f"art. 11 co. 5 {DM}"),),
            schema=Entry,
        ),
        Transition(
            "leave",
            (S.PLACED,),
            S.ENDED,
            f"art. 13 co. 5 {DM}",
            signals=REALLOCATE,
            records=("left_on",),
            schema=Exit,
        ),
        Transition(
            "funding_end",
            (S.PLACED,),
            S.ENDED,
            f"art. 11 co. 4 {DM}",
            notices=("notifica_cambio_stato",),
            signals=REALLOCATE,
        ),
        Transition(
            "requeue",
            HOLDING_A_PLACE[:2],
            S.QUEUED,
            f"art. 5 co. 4-5 e art. 12 co. 5 {DM}",
            guards=(Guard("facility_cancelled", _facility_cancelled, f"art. 5 {DM}", "facility"),),
            notices=("struttura_cancellata",),
            signals=REALLOCATE,
            schema=Requeue,
        ),
        Transition("withdraw", PENDING, S.WITHDRAWN, f"art. 12 co. 1 {DM}"),
        Transition(
            "withdraw",
            HOLDING_A_PLACE,
            S.WITHDRAWN,
            f"art. 12 co. 1 e 9 {DM}",
            notices=("perdita_efficacia",),
            signals=REALLOCATE,
        ),
        Transition(
            "close",
            (S.ENDED,),
            S.CLOSED,
            f"art. 14 {DM}",
            notices=("prospetto_spese",),
        ),
        Transition(
            "close", (S.REFUSED, S.REJECTED, S.LAPSED, S.WITHDRAWN), S.CLOSED, f"art. 12 {DM}"
        ),
    ),
    terms=(
        # The place is reserved for two months from issue, across the transmission to the court.
        Term(S.ATTESTED, "attestation_validity", VALIDITY, fires="lapse", through=(S.AT_COURT,)),
        Term(S.PLACED, "funded_stay", FUNDED_STAY, fires="funding_end"),
    ),
    reminders=(Reminder("funded_stay", "funded_stay_warning", 30, "avviso_fine_finanziamento"),),
    awaits={  # whose act the case waits for (art. 11-14 D.M. 128/2025)
        S.FILED: "prison",
        S.FORWARDED: "office",
        S.REGISTERED: "office",
        S.QUEUED: "office",
        S.ATTESTED: "office",
        S.AT_COURT: "court",
        S.GRANTED: "facility",
        S.PLACED: "facility",
        S.ENDED: "office",
    },
    labels={
        "placement": "attestazione di disponibilità di posto in struttura residenziale",
        S.FILED: "istanza presentata alla Direzione dell'istituto",
        S.FORWARDED: "trasmessa all'UIEPE",
        S.REGISTERED: "acquisita al protocollo dell'UIEPE",
        S.QUEUED: "in attesa di posto e copertura finanziaria",
        S.ATTESTED: "attestazione rilasciata",
        S.AT_COURT: "attestazione trasmessa all'Autorità giudiziaria",
        S.GRANTED: "misura di comunità concessa",
        S.PLACED: "accolto in struttura",
        S.ENDED: "permanenza finanziata conclusa",
        S.REFUSED: "istanza non ammissibile",
        S.REJECTED: "istanza respinta: attestazione priva di effetti",
        S.LAPSED: "attestazione decaduta",
        S.WITHDRAWN: "rinuncia",
        S.CLOSED: "chiusa",
        "open": "presentazione dell'istanza",
        "forward": "trasmissione all'UIEPE",
        "register": "acquisizione al protocollo",
        "admit": "esito positivo della verifica formale",
        "refuse": "inammissibilità",
        "attest": "rilascio dell'attestazione",
        "transmit": "trasmissione all'Autorità giudiziaria",
        "grant": "concessione della misura",
        "reject": "rigetto",
        "lapse": "decadenza dell'attestazione",
        "enter": "ingresso in struttura",
        "leave": "uscita dalla struttura",
        "funding_end": "fine della permanenza finanziata",
        "withdraw": "rinuncia",
        "requeue": "ritorno in coda: struttura cancellata dall'elenco",
        "close": "chiusura",
        "attestation_validity": "validità dell'attestazione",
        "funded_stay": "permanenza con oneri a carico dell'Amministrazione",
        "funded_stay_warning": "avviso di prossima fine della permanenza finanziata",
        "late_decision": "decisione pervenuta dopo la decadenza (non applicata)",
    },
)

"""Probation with suspension of the trial (messa alla prova, MAP; art. 168-bis c.p., arts.
464-bis to 464-novies c.p.p., L. 67/2014; DOMAIN.md section 3; seed 003): kind `probation`,
references MAP-YYYY-NNNNNN. The person is a pseudonymous key (`person_key`): the same key
across cases finds their earlier probations; no name, no tax code is ever kept.

The request (the offence and its penalty: the limits of art. 168-bis co. 1 c.p. and the list
of art. 550 co. 2 c.p.p., judged as the request is filed) -> the UEPE's inquiry (once only, art.
168-bis co. 4 c.p., judged against the person's earlier probations; an officer may override it
recording the connection of art. 12 co. 1 lett. b c.p.p., Corte cost. 174/2022) -> the
programme, drafted in versions (its LPU part at least 10 days, at most 8 hours a day, art.
168-bis co. 3 c.p.) -> sent to the judge with the defendant's consent and the host entity's
adherence -> admitted by order (at most 2 years, 1 for fine-only offences, art. 464-quater co. 5
c.p.p.; reports at most three months apart) or refused -> running from the signature of the
probation record: the periodic reports (each restarts the cadence), the judge's integrations of
the programme (a new version, the old kept) -> the period's end (a term) -> the final hearing
set -> the UEPE's final report, due ten days before it (counted backwards, `law`) -> the judge
declares the offence extinguished, or the trial resumes. Revocation (art. 168-quater c.p.): a
hearing notified at least ten days before (art. 464-octies co. 2 c.p.p.), then revoked or
continued.

Choices where the law is silent:
- the period runs from the record's signature for the months and days the order fixes (art.
  2963 c.c. for months, the first day not counted), its last day included, with no holiday
  extension (a period of probation, not a term for an act);
- the periodic report is due a cadence after the signature or the last report; a report late
  is still taken (no provision makes it void): the term's lapse sends a solicitation;
- a period that ends while a revocation hearing is pending ends it all the same: the judge may
  still revoke, or let the probation stand, from `period_ended`;
- the final report positive with an LPU part under ten days needs the officer's recorded reason
  (`lpu_shortfall_reason`, kept on the case and in the history).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from machines.calendar import TermRule, Unit, add_months, rome_date
from machines.guards import day_of, not_in_future
from machines.probation import law
from machines.spec import CaseMachine, Guard, GuardInput, Payload, Reminder, Term, Transition

CP = "art. 168-bis c.p."
CPP = "artt. 464-bis ss. c.p.p."
INQUIRY = "art. 464-bis co. 4 c.p.p.; art. 141-ter disp. att. c.p.p.; seme 003: ruolo dell'UEPE"
ORDER = "art. 464-quater c.p.p."
REVOCATION = "art. 168-quater c.p.; art. 464-octies c.p.p."
OUTCOME = "art. 464-septies c.p.p."
REMINDER_DAYS = 10


class Probation(StrEnum):
    REQUESTED = "requested"
    INQUIRY = "inquiry"
    SENT = "sent_to_judge"
    ADMITTED = "admitted"
    REFUSED = "refused"
    RUNNING = "running"
    REVOCATION_HEARING = "revocation_hearing"
    PERIOD_ENDED = "period_ended"
    HEARING_SET = "hearing_set"
    REPORT_OVERDUE = "final_report_overdue"
    REPORTED = "final_report_filed"
    EXTINGUISHED = "extinguished"
    RESUMED = "resumed"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"


S = Probation

Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
PersonKey = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{6,64}$"),
    Field(description="Chiave pseudonima della persona (mai nome o codice fiscale)."),
]
ProbationReference = Annotated[str, StringConstraints(pattern=r"^MAP-\d{4}-\d{6}$")]
FileNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f]+$"),
    Field(description="Numero di registro del procedimento."),
]
Component = Literal[
    "reparation", "compensation", "mediation", "voluntary_work", "prescriptions", "lpu"
]
COMPONENTS = {
    "reparation": "condotte riparatorie",
    "compensation": "risarcimento del danno alla persona offesa",
    "mediation": "mediazione con la persona offesa",
    "voluntary_work": "attività di volontariato di rilievo sociale",
    "prescriptions": "prescrizioni su dimora, libertà di movimento, frequentazione di locali",
    "lpu": "lavoro di pubblica utilità",
}


class OffenceGiven(Payload):
    """The offence charged, as the request states it (`law.Offence`)."""

    article: Text = Field(description="Norma contestata (es. art. 624 c.p.).")
    fine_only: bool = Field(False, description="Punito con la sola pena pecuniaria.")
    max_detention_months: int | None = Field(
        None, ge=1, le=1200, description="Massimo edittale della pena detentiva, in mesi."
    )
    listed_550: Text | None = Field(None, description="Voce dell'art. 550 co. 2 c.p.p.")


class Request(Payload):
    """The defendant's request (art. 464-bis c.p.p.), as the UEPE receives it."""

    person_key: PersonKey
    uepe: Text = Field(description="Ufficio di esecuzione penale esterna competente.")
    court: Text = Field(description="Autorità giudiziaria procedente.")
    file_number: FileNumber | None = None
    offence: OffenceGiven
    habitual: bool = Field(
        False, description="Dichiarato delinquente abituale, professionale o per tendenza."
    )
    requested_on: date = Field(description="Data della richiesta (non futura).")


class Inquiry(Payload):
    """The UEPE opens its social and family inquiry. Where the person had a probation before,
    an officer may record the connection that lets a new one be admitted (Corte cost.
    174/2022): the earlier probations it names and the ground."""

    started_on: date
    connected_to: list[ProbationReference] = Field(
        [], max_length=20, description="Messe alla prova precedenti connesse (art. 12 co. 1 b)."
    )
    override_ground: Reason | None = Field(
        None, description="Motivo della deroga: la connessione ai sensi dell'art. 12 co. 1 b."
    )


class Programme(Payload):
    """A version of the programme (art. 464-bis co. 4 c.p.p.): what it holds and its LPU part.
    Its details (who the victim is, where the person lives) are personal: kept on the case for
    the documents, out of the trail."""

    components: list[Component] = Field(min_length=1, max_length=6)
    lpu_days: int = Field(ge=0, le=730, description="Giorni di lavoro di pubblica utilità.")
    lpu_hours_per_day: Decimal = Field(
        ge=0, le=24, max_digits=4, decimal_places=2, description="Ore al giorno di LPU."
    )
    lpu_entity: Text | None = Field(None, description="Ente presso cui si svolge il LPU.")
    drafted_on: date
    details: Reason | None = Field(None, description="Contenuto del programma (riservato).")

    @model_validator(mode="after")
    def _lpu_listed(self) -> Programme:
        if "lpu" not in self.components:
            raise ValueError("il programma comprende necessariamente il lavoro di pubblica utilità")
        return self


class Sending(Payload):
    """Programme and inquiry sent to the judge (art. 141-ter co. 4 disp. att. c.p.p.)."""

    sent_on: date
    consent: bool = Field(False, description="Consenso dell'imputato al programma.")
    entity_adherence: bool = Field(False, description="Adesione dell'ente ospitante.")


class Admission(Payload):
    """The order suspending the trial (art. 464-quater c.p.p.): the duration and the cadence
    of the UEPE's reports."""

    ordered_on: date
    duration_months: int = Field(ge=0, le=1200)
    duration_days: int = Field(0, ge=0, le=366)
    cadence_months: int = Field(ge=1, le=120, description="Cadenza delle relazioni, in mesi.")
    file_number: FileNumber | None = None


class Order(Payload):
    """A judge's order with its date (refusal, continuation)."""

    ordered_on: date
    file_number: FileNumber | None = None


class Signature(Payload):
    """The probation record signed: the probation runs from this day."""

    record_signed_on: date


class PeriodicReport(Payload):
    reported_on: date


class Integration(Programme):
    """The judge integrates the programme during the probation (art. 464-quater co. 4 c.p.p.):
    a new version, the old kept."""

    ordered_on: date


class Hearing(Payload):
    """The final hearing set after the period's end (art. 464-septies c.p.p.)."""

    hearing_on: date
    set_on: date


class FinalReport(Payload):
    """The UEPE's final report on the probation (art. 141-ter co. 5 disp. att. c.p.p.)."""

    reported_on: date
    positive: bool = Field(description="Valutazione positiva dell'esito.")
    lpu_shortfall_reason: Reason | None = Field(
        None,
        description="Perché il LPU non ha raggiunto i 10 giorni (se la valutazione è positiva).",
    )


class Outcome(Payload):
    decided_on: date
    file_number: FileNumber | None = None


class RevocationHearing(Payload):
    """The revocation hearing (art. 464-octies c.p.p.): its cause (art. 168-quater c.p.), its
    date and the day the parties and the victim were notified."""

    cause: Literal["breach", "lpu_refused", "new_offence"]
    revocation_hearing_on: date
    notified_on: date
    revocation_pending: Literal[True] = True

    @model_validator(mode="before")
    @classmethod
    def _pending(cls, given: Any) -> Any:
        return {**given, "revocation_pending": True} if isinstance(given, dict) else given


class Continuation(Order):
    """The judge does not revoke: the probation goes on."""

    revocation_pending: Literal[False] = False

    @model_validator(mode="before")
    @classmethod
    def _settled(cls, given: Any) -> Any:
        return {**given, "revocation_pending": False} if isinstance(given, dict) else given


class Withdrawal(Payload):
    reason: Reason


# --- guards --------------------------------------------------------------------------------


def _not_before(field: str, earlier: str, what: str, article: str) -> Guard:
    """`field` of the payload is not before `earlier` of the case (an order before the request)."""

    def check(given: GuardInput) -> str | None:
        day, before = day_of(given.payload, field), day_of(given.case.data, earlier)
        if day is None or before is None or day >= before:
            return None
        return f"data {day:%d/%m/%Y} anteriore {what} ({before:%d/%m/%Y})"

    return Guard(f"{field}_after_{earlier}", check, article, field)


def offence_of(data: Mapping[str, Any]) -> law.Offence:
    """The offence as the request stated it (ValueError if it does not hold together)."""
    given = data.get("offence") or {}
    return law.Offence(
        article=str(given.get("article", "")),
        fine_only=bool(given.get("fine_only", False)),
        max_detention_months=given.get("max_detention_months"),
        listed_550=given.get("listed_550"),
    )


def _eligible_offence(given: GuardInput) -> str | None:
    """Art. 168-bis co. 1 and co. 5 c.p.: the offence's limits, the list of art. 550 co. 2
    c.p.p., habitual offenders."""
    day = day_of(given.payload, "requested_on")
    try:
        offence = offence_of(given.payload)
        refusals = law.eligibility_refusals(
            offence, day or rome_date(given.now), habitual=given.payload.get("habitual") is True
        )
    except (ValueError, TypeError) as error:
        return str(error)
    return "; ".join(r.message for r in refusals) or None


def _once_only(given: GuardInput) -> str | None:
    """Art. 168-bis co. 4 c.p.: once only, unless the officer records the connection (Corte
    cost. 174/2022); never after a probation that failed or was revoked. The person's earlier
    probations are a fact of the procedure (the same pseudonymous key)."""
    earlier = given.facts.get("earlier_probations")
    if earlier is None:
        return "messe alla prova precedenti della persona non note"
    connected = tuple(str(r) for r in given.payload.get("connected_to") or ())
    ground = given.payload.get("override_ground")
    override = None
    if connected or ground:
        try:
            override = law.ConnectionOverride(connected, str(ground or ""))
        except ValueError as error:
            return str(error)
    day = day_of(given.payload, "started_on") or rome_date(given.now)
    try:
        refusals = law.eligibility_refusals(
            offence_of(given.case.data),
            day,
            habitual=given.case.data.get("habitual") is True,
            earlier=[law.EarlierProbation(ref, law.Outcome(outcome)) for ref, outcome in earlier],
            override=override,
        )
    except (ValueError, TypeError) as error:
        return str(error)
    return "; ".join(r.message for r in refusals) or None


def _lpu_part(given: GuardInput) -> str | None:
    """The LPU part: at least 10 days, at most 8 hours a day (art. 168-bis co. 3 c.p.)."""
    days, hours = given.payload.get("lpu_days"), given.payload.get("lpu_hours_per_day")
    if days is None or hours is None:
        return "da indicare i giorni e le ore al giorno del lavoro di pubblica utilità"
    reasons = [
        law.lpu_days_refusal(int(days)),
        law.lpu_hours_refusal(Decimal(str(hours))),
    ]
    return "; ".join(r for r in reasons if r) or None


def _ready_to_send(given: GuardInput) -> str | None:
    missing = []
    if not given.facts.get("programme_version"):
        missing.append("programma non redatto")
    if given.payload.get("consent") is not True:
        missing.append("manca il consenso dell'imputato al programma")
    if given.payload.get("entity_adherence") is not True:
        missing.append("manca l'adesione dell'ente ospitante")
    return "; ".join(missing) or None


def _duration(given: GuardInput) -> str | None:
    """At most 2 years, 1 for fine-only offences (art. 464-quater co. 5 c.p.p.)."""
    months, days = given.payload.get("duration_months"), given.payload.get("duration_days", 0)
    if months is None:
        return "da indicare la durata della sospensione"
    try:
        return law.duration_refusal(
            offence_of(given.case.data), int(months), int(days or 0),
            on=day_of(given.payload, "ordered_on"),
        )  # fmt: skip
    except (ValueError, TypeError) as error:
        return str(error)


def _cadence(given: GuardInput) -> str | None:
    months = given.payload.get("cadence_months")
    if months is None:
        return "da indicare la cadenza delle relazioni"
    return law.report_cadence_refusal(int(months))


def _revocation_notice(given: GuardInput) -> str | None:
    notified = day_of(given.payload, "notified_on")
    hearing = day_of(given.payload, "revocation_hearing_on")
    if notified is None or hearing is None:
        return "da indicare la data dell'udienza e quella dell'avviso"
    return law.revocation_notice_refusal(notified, hearing)


def _hearing_after(given: GuardInput) -> str | None:
    hearing, set_on = day_of(given.payload, "hearing_on"), day_of(given.payload, "set_on")
    if hearing is None or set_on is None or hearing > set_on:
        return None
    return f"udienza del {hearing:%d/%m/%Y} non successiva alla data in cui è fissata"


def _pending_revocation(given: GuardInput) -> str | None:
    if given.case.data.get("revocation_pending") is True:
        return None
    return "nessuna udienza di revoca pendente"


def _positive_with_lpu(given: GuardInput) -> str | None:
    """A positive report with an LPU part under ten days needs the officer's reason."""
    if given.payload.get("positive") is not True or given.payload.get("lpu_shortfall_reason"):
        return None
    done = given.facts.get("lpu_days_done")
    if done is None:
        return "giorni di lavoro di pubblica utilità svolti non noti"
    least = law.latest_rules().lpu_min_days.value
    if int(done) >= least:
        return None
    return (
        f"lavoro di pubblica utilità svolto per {done} giorni, meno dei {least} richiesti: "
        "una valutazione positiva richiede il motivo (lpu_shortfall_reason)"
    )


# --- terms ---------------------------------------------------------------------------------


def period_last_day(values: Mapping[str, Any], start: date) -> date:
    """The last day of the probation: the months and days the order fixes, from the record's
    signature (the first day not counted, art. 2963 c.c. for months)."""
    signed = day_of(values, "record_signed_on") or start
    months, days = int(values.get("duration_months", 0)), int(values.get("duration_days", 0))
    return add_months(signed, months) + timedelta(days=days)


def next_report_last_day(values: Mapping[str, Any], start: date) -> date:
    """A cadence after the last periodic report, or after the record's signature."""
    since = day_of(values, "reported_on") or day_of(values, "record_signed_on") or start
    return add_months(since, int(values.get("cadence_months", 3)))


def final_report_last_day(values: Mapping[str, Any], start: date) -> date:
    hearing = day_of(values, "hearing_on")
    return law.final_report_last_day(hearing) if hearing is not None else start


PERIOD = TermRule(
    1, Unit.DAYS, extend_on_holiday=False,
    article="art. 464-quater co. 5 c.p.p.: durata fissata nell'ordinanza, dalla sottoscrizione "
    "del verbale di messa alla prova",
)  # fmt: skip
CADENCE = TermRule(
    1, Unit.MONTHS, extend_on_holiday=False,
    article="art. 141-ter co. 5 disp. att. c.p.p.: relazioni con la cadenza fissata "
    "dall'ordinanza, non oltre tre mesi",
)  # fmt: skip
FINAL_REPORT = TermRule(
    1, Unit.DAYS, extend_on_holiday=False,
    article="art. 141-ter co. 5 disp. att. c.p.p.: relazione finale almeno dieci giorni prima "
    "dell'udienza (a ritroso; se festivo, il giorno lavorativo precedente)",
)  # fmt: skip

ACTIVE = (S.RUNNING, S.REVOCATION_HEARING)
BEFORE_ORDER = (S.REQUESTED, S.INQUIRY, S.SENT)
AWAITING_OUTCOME = (S.HEARING_SET, S.REPORT_OVERDUE, S.REPORTED)

MACHINE = CaseMachine(
    kind="probation",
    prefix="MAP",
    states=Probation,
    initial=S.REQUESTED,
    opening=Request,
    opening_guards=(
        not_in_future("requested_on", "della richiesta", "art. 464-bis c.p.p."),
        Guard("eligible_offence", _eligible_offence, CP, "offence"),
    ),
    transitions=(
        Transition(
            "inquire",
            (S.REQUESTED,),
            S.INQUIRY,
            f"{INQUIRY}; art. 168-bis co. 4 c.p.; Corte cost. 174/2022",
            guards=(
                not_in_future("started_on", "di avvio dell'indagine", INQUIRY),
                Guard("once_only", _once_only, "art. 168-bis co. 4 c.p.", "connected_to"),
            ),
            records=("started_on", "connected_to", "override_ground"),
            schema=Inquiry,
        ),
        Transition(
            "draft",
            (S.INQUIRY,),
            S.INQUIRY,
            f"art. 464-bis co. 4 c.p.p.; {CP} co. 2-3",
            guards=(
                not_in_future("drafted_on", "del programma", INQUIRY),
                Guard("lpu_part", _lpu_part, f"{CP} co. 3", "lpu_days"),
            ),
            records=("components", "lpu_days", "lpu_hours_per_day", "lpu_entity"),
            schema=Programme,
            private=("details",),
        ),
        Transition(
            "send",
            (S.INQUIRY,),
            S.SENT,
            "art. 141-ter co. 4 disp. att. c.p.p.; art. 464-bis co. 4 c.p.p.",
            guards=(
                not_in_future("sent_on", "di trasmissione", INQUIRY),
                Guard("ready", _ready_to_send, "art. 464-bis co. 4 c.p.p."),
            ),
            records=("sent_on",),
            schema=Sending,
            notices=("programma_al_giudice",),
        ),
        Transition(
            "admit",
            (S.SENT,),
            S.ADMITTED,
            ORDER,
            guards=(
                not_in_future("ordered_on", "dell'ordinanza", ORDER),
                _not_before("ordered_on", "requested_on", "alla richiesta", ORDER),
                Guard("duration", _duration, "art. 464-quater co. 5 c.p.p.", "duration_months"),
                Guard(
                    "cadence", _cadence, "art. 141-ter co. 5 disp. att. c.p.p.", "cadence_months"
                ),
            ),
            records=(
                "ordered_on",
                "duration_months",
                "duration_days",
                "cadence_months",
                "file_number",
            ),
            schema=Admission,
        ),
        Transition(
            "refuse",
            (S.SENT,),
            S.REFUSED,
            ORDER,
            guards=(not_in_future("ordered_on", "dell'ordinanza", ORDER),),
            records=("ordered_on",),
            schema=Order,
        ),
        Transition(
            "sign",
            (S.ADMITTED,),
            S.RUNNING,
            "art. 464-quater co. 5 c.p.p.: la prova decorre dalla sottoscrizione del verbale",
            guards=(
                not_in_future("record_signed_on", "del verbale", ORDER),
                _not_before("record_signed_on", "ordered_on", "all'ordinanza", ORDER),
            ),
            records=("record_signed_on",),
            schema=Signature,
        ),
        *(
            Transition(
                "report",
                (state,),
                state,
                "art. 141-ter co. 5 disp. att. c.p.p.",
                guards=(not_in_future("reported_on", "della relazione", INQUIRY),),
                records=("reported_on",),
                schema=PeriodicReport,
                restarts=("periodic_report",),
                notices=("relazione_periodica",),
            )
            for state in ACTIVE
        ),
        *(
            Transition(
                "report_overdue",
                (state,),
                state,
                CADENCE.article,
                notices=("sollecito_relazione_periodica",),
            )
            for state in ACTIVE
        ),
        *(
            Transition(
                "integrate",
                (state,),
                state,
                "art. 464-quater co. 4 c.p.p.: il giudice integra il programma",
                guards=(
                    not_in_future("ordered_on", "dell'ordinanza", ORDER),
                    Guard("lpu_part", _lpu_part, f"{CP} co. 3", "lpu_days"),
                ),
                records=("components", "lpu_days", "lpu_hours_per_day", "lpu_entity"),
                schema=Integration,
                private=("details",),
            )
            for state in ACTIVE
        ),
        Transition(
            "period_end",
            ACTIVE,
            S.PERIOD_ENDED,
            PERIOD.article,
        ),
        Transition(
            "set_revocation_hearing",
            (S.RUNNING,),
            S.REVOCATION_HEARING,
            REVOCATION,
            guards=(
                Guard("notice", _revocation_notice, "art. 464-octies co. 2 c.p.p.", "notified_on"),
            ),
            records=("cause", "revocation_hearing_on", "notified_on", "revocation_pending"),
            schema=RevocationHearing,
            notices=("avviso_udienza_revoca",),
        ),
        Transition(
            "continue",
            (S.REVOCATION_HEARING,),
            S.RUNNING,
            f"{REVOCATION}: il giudice non revoca",
            guards=(not_in_future("ordered_on", "dell'ordinanza", ORDER),),
            records=("revocation_pending",),
            schema=Continuation,
        ),
        Transition(
            "continue",
            (S.PERIOD_ENDED,),
            S.PERIOD_ENDED,
            f"{REVOCATION}: il giudice non revoca",
            guards=(
                Guard("pending", _pending_revocation, REVOCATION),
                not_in_future("ordered_on", "dell'ordinanza", ORDER),
            ),
            records=("revocation_pending",),
            schema=Continuation,
        ),
        Transition(
            "revoke",
            (S.REVOCATION_HEARING, S.PERIOD_ENDED),
            S.REVOKED,
            REVOCATION,
            guards=(
                Guard("pending", _pending_revocation, REVOCATION),
                not_in_future("decided_on", "dell'ordinanza di revoca", REVOCATION),
            ),
            records=("decided_on",),
            schema=Outcome,
            notices=("revoca_messa_alla_prova",),
        ),
        Transition(
            "set_hearing",
            (S.PERIOD_ENDED,),
            S.HEARING_SET,
            OUTCOME,
            guards=(
                not_in_future("set_on", "in cui l'udienza è fissata", OUTCOME),
                Guard("hearing_after", _hearing_after, OUTCOME, "hearing_on"),
            ),
            records=("hearing_on", "set_on"),
            schema=Hearing,
        ),
        Transition(
            "final_report_overdue",
            (S.HEARING_SET,),
            S.REPORT_OVERDUE,
            FINAL_REPORT.article,
        ),
        Transition(
            "file_final_report",
            (S.HEARING_SET, S.REPORT_OVERDUE),
            S.REPORTED,
            "art. 141-ter co. 5 disp. att. c.p.p.",
            guards=(
                not_in_future("reported_on", "della relazione finale", OUTCOME),
                Guard("lpu_days", _positive_with_lpu, f"{CP} co. 3", "lpu_shortfall_reason"),
            ),
            records=("positive", "lpu_shortfall_reason"),
            schema=FinalReport,
            notices=("relazione_finale",),
        ),
        Transition(
            "extinguish",
            AWAITING_OUTCOME,
            S.EXTINGUISHED,
            f"{OUTCOME} co. 1; art. 168-ter c.p.: esito positivo, reato estinto",
            guards=(not_in_future("decided_on", "della sentenza", OUTCOME),),
            records=("decided_on", "file_number"),
            schema=Outcome,
            notices=("esito_messa_alla_prova",),
        ),
        Transition(
            "resume",
            AWAITING_OUTCOME,
            S.RESUMED,
            f"{OUTCOME} co. 2: esito negativo, il processo riprende",
            guards=(not_in_future("decided_on", "dell'ordinanza", OUTCOME),),
            records=("decided_on", "file_number"),
            schema=Outcome,
            notices=("esito_messa_alla_prova",),
        ),
        Transition(
            "withdraw",
            BEFORE_ORDER,
            S.WITHDRAWN,
            "art. 464-bis c.p.p.: richiesta rinunciata",
            schema=Withdrawal,
            private=("reason",),
        ),
    ),
    terms=(
        Term(
            S.RUNNING,
            "probation_period",
            PERIOD,
            fires="period_end",
            through=(S.REVOCATION_HEARING,),
            ends=period_last_day,
        ),
        Term(
            S.RUNNING,
            "periodic_report",
            CADENCE,
            fires="report_overdue",
            through=(S.REVOCATION_HEARING,),
            ends=next_report_last_day,
        ),
        Term(
            S.HEARING_SET,
            "final_report",
            FINAL_REPORT,
            fires="final_report_overdue",
            ends=final_report_last_day,
        ),
    ),
    reminders=(
        Reminder(
            "periodic_report",
            "periodic_report_reminder",
            REMINDER_DAYS,
            "promemoria_relazione_periodica",
        ),
    ),
    awaits={  # whose act the probation waits for (art. 464-bis ss. c.p.p., 141-ter disp. att.)
        S.REQUESTED: "office",
        S.INQUIRY: "office",
        S.SENT: "court",
        S.ADMITTED: "office",
        S.RUNNING: "office",
        S.REVOCATION_HEARING: "court",
        S.PERIOD_ENDED: "office",
        S.REPORT_OVERDUE: "office",
        S.REPORTED: "court",
        S.HEARING_SET: "court",
        S.RESUMED: "office",
    },
    labels={
        "probation": "messa alla prova",
        S.REQUESTED: "richiesta pervenuta all'UEPE",
        S.INQUIRY: "indagine socio-familiare e programma in corso",
        S.SENT: "programma trasmesso al giudice",
        S.ADMITTED: "ammessa: verbale da sottoscrivere",
        S.REFUSED: "non ammessa",
        S.RUNNING: "in corso",
        S.REVOCATION_HEARING: "udienza di revoca fissata",
        S.PERIOD_ENDED: "periodo di prova concluso",
        S.HEARING_SET: "udienza finale fissata: relazione finale da depositare",
        S.REPORT_OVERDUE: "relazione finale in ritardo",
        S.REPORTED: "relazione finale depositata: in attesa della decisione",
        S.EXTINGUISHED: "esito positivo: reato estinto",
        S.RESUMED: "esito negativo: il processo riprende",
        S.REVOKED: "revocata",
        S.WITHDRAWN: "richiesta rinunciata",
        "open": "richiesta di messa alla prova",
        "inquire": "avvio dell'indagine socio-familiare",
        "draft": "redazione del programma",
        "send": "trasmissione del programma al giudice",
        "admit": "ordinanza di sospensione con messa alla prova",
        "refuse": "rigetto della richiesta",
        "sign": "sottoscrizione del verbale di messa alla prova",
        "report": "relazione periodica dell'UEPE",
        "report_overdue": "relazione periodica non pervenuta nel termine",
        "integrate": "integrazione del programma disposta dal giudice",
        "period_end": "fine del periodo di prova",
        "set_revocation_hearing": "fissazione dell'udienza di revoca",
        "continue": "prosecuzione disposta dal giudice",
        "revoke": "revoca della sospensione",
        "set_hearing": "fissazione dell'udienza finale",
        "final_report_overdue": "relazione finale non depositata nel termine",
        "file_final_report": "relazione finale dell'UEPE",
        "extinguish": "estinzione del reato",
        "resume": "ripresa del processo",
        "withdraw": "rinuncia alla richiesta",
        "probation_period": "periodo di prova",
        "periodic_report": "termine della relazione periodica",
        "periodic_report_reminder": "promemoria della relazione periodica",
        "final_report": "termine della relazione finale",
    },
)

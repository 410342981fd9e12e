"""A person's unpaid community work at a host entity (lavoro di pubblica utilità; art. 54
d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001; seed 003): kind `lpu_placement`, references
LPU-YYYY-NNNNNN, the pseudonym of the person (no name, no tax code is ever kept).

The entity's availability declaration, signed by its legal representative, naming the offence
and the activities and, where possible, days and time slots (an interview before it is
recommended, not required) -> the judge's decision, fixing the days and hours owed -> the
sentence final (for the MAP, form N: the probation record signed) -> reception (insurance opened
and the calendar agreed; the safety course when the task needs it; the behaviour agreement is
recommended) -> in progress, with the attendance register -> the owed hours done, as the
register counts them -> the coordinator's final report -> closed. A breach is reported to the
authority the form names (for forms H and I the public-security authority named in the
sentence; otherwise the one the sentence names, else the court) -> the judge lets the work
continue, or revokes it: revoked, and the attendance register closes.

The final report has no term in the seed (section 4, "conclusione"): 30 days from the hours
done, an administrative day term with the holiday extension, as art. 2 co. 2 L. 241/1990 gives
an administrative act for which no other term is set. A reminder goes to the coordinator 10 days
before; after the term the case shows the report overdue and a solicitation goes out, and the
report is still taken (the term is not peremptory: nothing in the law makes a late report void).

Who takes a breach report is written in the sentence (seed 003: "in sentenza si trova
l'indicazione dell'ente competente"), so the decision, not the declaration, records it; forms H
and I must name it. Owed hours are twice the days where the form borrows art. 54 co. 5 d.lgs.
274/2000; not for form A (a "giornata lavorativa", art. 105 L. 689/1981), M (voluntary work of
detainees: no penalty to compute) or N (the MAP: days of at most eight hours, art. 168-bis co. 3
c.p.). A breach before reception and one during the work are two states, so that the judge's
decision to continue leads back to where the work stood.

The declaration goes to the court named in it (`dichiarazione_disponibilita`), so that the
judge can apply the work: `transmit` keeps the case where it is and issues that notice, once.
The opening itself carries no notice (the engine writes none for it): `transmit` is the change
that does, meant to be fired by the system right after the opening, as its follow-up
(`Applied.then`, keyed by the opening's event). The coordinator's final report goes to the
court too (`relazione_conclusiva`), in time or late; its note is private, on the notice only.

The forms' rules this machine checks (the duration bounds, the two-hour day, where breaches go)
are a small table here; `machines.lpu.forms` keeps the forms as dated data and will own them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from machines.calendar import TermRule, Unit, rome_date
from machines.guards import day_of, not_in_future
from machines.lpu import forms
from machines.spec import CaseMachine, Guard, GuardInput, Payload, Reminder, Term, Transition

DLGS = "d.lgs. 274/2000"
DM2001 = "D.M. 26 marzo 2001"
CDS = "C.d.S."
BASIS = f"art. 54 {DLGS}; art. 2 {DM2001}"
MAP = "art. 168-bis c.p.; art. 464-quater c.p.p."
SEED_DECLARATION = "seme 003: dichiarazione di disponibilità"
SEED_RECEPTION = "seme 003: accoglienza"
SEED_REGISTER = "seme 003: registro presenze"
TWO_HOURS = f"art. 54 co. 5 {DLGS}"  # a day of work is two hours, even not continuous
EXTRA_HOURS = f"art. 54 co. 3 {DLGS}"  # more than six hours a week, if the person asks
DAYS_PER_MONTH = 30
"""A day of this work is a unit of two hours (art. 54 co. 5 d.lgs. 274/2000), not a calendar
day: the months the law gives for its duration are read as 30 such days each (6 months = 180
days), as judges write them in the sentence."""

REPORT_DAYS = 30
REMINDER_DAYS = 10
FINAL_REPORT = TermRule(
    REPORT_DAYS,
    Unit.DAYS,
    extend_on_holiday=True,
    article="termine scelto: il seme 003 non lo fissa; 30 giorni come art. 2 co. 2 L. 241/1990",
)


@dataclass(frozen=True)
class FormRules:
    """What this machine checks of a form (seed 003, which predates the 2022 reform; form S is
    the substitute LPU of art. 56-bis L. 689/1981, law, not seed).

    - `law`: the provision that imposes it; `breach_article`: what follows a breach;
    - `min_days`, `max_days`, `repeat_min_days`: the duration in days of work (months x 30),
      set by `bounds_article`;
    - `two_hours_a_day`: owed hours are twice the days (art. 54 co. 5 d.lgs. 274/2000, which
      the forms borrow); else `max_hours_a_day` bounds them, if set (art. 168-bis co. 3 c.p.);
    - `authority_in_sentence`: breaches go to the public-security authority the sentence names.
    """

    law: str
    breach_article: str
    min_days: int | None = None
    max_days: int | None = None
    repeat_min_days: int | None = None
    bounds_article: str = ""
    two_hours_a_day: bool = True
    max_hours_a_day: int | None = None
    hours_article: str = TWO_HOURS
    authority_in_sentence: bool = False


L689 = "L. 689/1981"
DPR309 = "D.P.R. 309/1990"
FORMS: dict[str, FormRules] = {
    # A: "una giornata lavorativa per settimana": a working day, not two hours.
    "A": FormRules(f"art. 105 {L689}", f"art. 105 {L689}", two_hours_a_day=False),
    "B": FormRules("art. 1 D.L. 122/1993", "art. 1 D.L. 122/1993"),
    "C": FormRules("art. 6 co. 7 L. 401/1989 (D.L. 8/2007)", "D.L. 8/2007"),
    "D": FormRules(
        f"art. 54 {DLGS}",
        f"art. 56 {DLGS}",
        min_days=10,
        max_days=6 * DAYS_PER_MONTH,
        bounds_article=f"art. 54 co. 2 {DLGS}",
    ),
    "E": FormRules("art. 165 c.p.", "art. 168 c.p."),
    "F": FormRules(f"art. 73 co. 5-bis {DPR309}", f"art. 73 co. 5-bis {DPR309}"),
    "G": FormRules(
        f"art. 224-bis {CDS}",
        f"art. 224-bis co. 6 {CDS}; art. 56 {DLGS}",
        min_days=1 * DAYS_PER_MONTH,
        max_days=6 * DAYS_PER_MONTH,
        repeat_min_days=3 * DAYS_PER_MONTH,
        bounds_article=f"art. 224-bis co. 2 {CDS}",
    ),
    "H": FormRules(
        f"art. 186 co. 9-bis {CDS}", f"art. 186 co. 9-bis {CDS}", authority_in_sentence=True
    ),
    "I": FormRules(
        f"art. 187 co. 8-bis {CDS}", f"art. 187 co. 8-bis {CDS}", authority_in_sentence=True
    ),
    "L": FormRules(f"art. 73 co. 5-ter {DPR309}", f"art. 73 co. 5-bis e 5-ter {DPR309}"),
    # M: the voluntary work of detainees: no penalty to compute in hours.
    "M": FormRules(
        "art. 21 co. 4-ter L. 354/1975", "art. 21 co. 4-ter L. 354/1975", two_hours_a_day=False
    ),
    # N: the LPU of the MAP: at least ten days, at most eight hours a day.
    "N": FormRules(
        "art. 168-bis c.p. (L. 67/2014)",
        "art. 168-quater c.p.",
        min_days=10,
        bounds_article="art. 168-bis co. 3 c.p.",
        two_hours_a_day=False,
        max_hours_a_day=8,
        hours_article="art. 168-bis co. 3 c.p.",
    ),
    "S": FormRules(f"art. 56-bis {L689}", f"art. 66 {L689}"),
}
FormCode = Literal["A", "B", "C", "D", "E", "F", "G", "H", "I", "L", "M", "N", "S"]


def breach_article(form: str) -> str:
    """The rule a breach falls under, for the form (the notices cite it)."""
    rules = FORMS.get(form)
    return rules.breach_article if rules else BASIS


def breach_addressee(data: Mapping[str, Any]) -> str:
    """Who a breach is reported to: the authority the sentence names (for forms H and I the
    public-security authority, always named), else the court that decided."""
    named = data.get("breach_authority")
    return str(named) if named else str(data.get("court", ""))


class LpuPlacement(StrEnum):
    DECLARED = "declared"
    AWAITING_FINAL = "awaiting_final"
    TO_RECEIVE = "to_receive"
    IN_PROGRESS = "in_progress"
    BREACH_BEFORE_RECEPTION = "breach_before_reception"
    BREACH_REPORTED = "breach_reported"
    COMPLETED = "completed"
    REPORT_OVERDUE = "report_overdue"
    CLOSED = "closed"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"


S = LpuPlacement

Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
ConventionReference = Annotated[str, StringConstraints(pattern=r"^CLPU-\d{4}-\d{6}$")]
ProbationReference = Annotated[str, StringConstraints(pattern=r"^MAP-\d{4}-\d{6}$")]
Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
FileNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f]+$"),
    Field(description="Numero di registro del procedimento."),
]


class Slot(Payload):
    """A day of the week (0 Monday - 6 Sunday) and the hours the person is available."""

    weekday: int = Field(ge=0, le=6)
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _ordered(self) -> Slot:
        if self.end <= self.start:
            raise ValueError(f"fascia oraria {self.start}-{self.end}: la fine precede l'inizio")
        return self


class Declaration(Payload):
    """The host entity's availability declaration (seed 003, section 4 step 2): the convention
    it works under, the form of LPU, the offence and the activities, and when possible the days
    and time slots. No name, no tax code: the case reference stands for the person."""

    convention: ConventionReference = Field(description="Convenzione dell'ente (CLPU-...).")
    form: FormCode = Field(description="Forma del lavoro di pubblica utilità (A-I, L-N, S).")
    offence: Text = Field(description="Norma di legge violata.")
    activities: list[Text] = Field(min_length=1, max_length=50)
    slots: list[Slot] = Field([], max_length=21, description="Giornate e fasce orarie.")
    signed_by_representative: bool = Field(
        False, description="Firmata dal legale rappresentante dell'ente."
    )
    interview_held: bool = Field(False, description="Colloquio conoscitivo (consigliato).")
    declared_on: date = Field(description="Data della dichiarazione (non futura).")
    court: Text = Field(description="Autorità giudiziaria che decide.")
    probation: ProbationReference | None = Field(
        None, description="Messa alla prova di cui è la parte di LPU (forma N): MAP-..."
    )


class Sentence(Payload):
    """The judge's decision that imposes the work (for the MAP, the order suspending the trial):
    the days and hours owed, and who takes the report of a breach."""

    owed_days: int = Field(ge=1, le=3650, description="Giorni di lavoro dovuti.")
    owed_hours: int = Field(ge=1, le=8 * 3650, description="Ore di lavoro dovute.")
    decided_on: date = Field(description="Data del provvedimento (non futura).")
    authorised_extra_hours: bool = Field(
        False, description="Autorizzato un orario settimanale superiore a quello ordinario."
    )
    repeat_offender: bool = Field(False, description="Recidiva (forma G).")
    breach_authority: Text | None = Field(
        None, description="Autorità a cui segnalare le violazioni, indicata in sentenza."
    )
    file_number: FileNumber | None = None


class Final(Payload):
    """The sentence became final; for the MAP, the probation record signed, from which the
    probation runs (art. 464-quater co. 5 c.p.p.)."""

    final_on: date = Field(description="Data dell'irrevocabilità o della sottoscrizione.")
    probation_record_signed: bool = Field(False, description="Verbale di messa alla prova.")


class Reception(Payload):
    """Reception at the entity (seed 003, section 4 step 3)."""

    insurance_opened: bool = Field(False, description="Posizione assicurativa aperta.")
    calendar_agreed: bool = Field(False, description="Calendario e progetto concordati.")
    safety_course_needed: bool = Field(False, description="La mansione richiede il corso.")
    safety_course_done: bool = Field(False, description="Corso sulla sicurezza svolto.")
    behaviour_agreement: bool = Field(False, description="Accordo sulle norme (consigliato).")
    coordinator: Text | None = Field(None, description="Ruolo del coordinatore (non il nome).")
    received_on: date = Field(description="Data dell'accoglienza.")


class Authorisation(Payload):
    """The judge authorises more hours a week than the ordinary limit, on the person's
    request (art. 54 co. 3 d.lgs. 274/2000 and the forms that borrow it)."""

    authorised_on: date
    authorised_extra_hours: Literal[True] = True

    @model_validator(mode="before")
    @classmethod
    def _recorded(cls, given: Any) -> Any:
        """The flag is what the case keeps: set, so that the transition records it."""
        return {**given, "authorised_extra_hours": True} if isinstance(given, dict) else given


class Transmission(Payload):
    """The declaration sent to the court named in it (the notice `dichiarazione_disponibilita`):
    nothing to give, the flag is what the case keeps (sent once)."""

    declaration_transmitted: Literal[True] = True

    @model_validator(mode="before")
    @classmethod
    def _recorded(cls, given: Any) -> Any:
        return {**given, "declaration_transmitted": True} if isinstance(given, dict) else given


class Breach(Payload):
    """The entity's report of a breach. The description is about the person's conduct:
    kept on the case for the notice, out of the trail."""

    occurred_on: date
    description: Reason


class Ruling(Payload):
    """The judge's decision on a reported breach."""

    ruled_on: date
    file_number: FileNumber | None = None


class Report(Payload):
    """The coordinator's final report (seed 003, section 4 step 4)."""

    reported_on: date
    regular: bool = Field(description="Lavoro svolto regolarmente.")
    note: Reason | None = None


class Session(Payload):
    """One session of the attendance register (seed 003, section 4 step 3): the day, start and
    end, the activity, and both signatures: the person's and the coordinator's."""

    day: date
    start: Clock
    end: Clock
    activity: Text
    signed_by_person: bool = False
    signed_by_coordinator: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Session:
        if self.end <= self.start:
            raise ValueError(f"sessione {self.start}-{self.end}: la fine precede l'inizio")
        return self

    @property
    def hours(self) -> Decimal:
        return session_hours(self.start, self.end)


def session_hours(start: str, end: str) -> Decimal:
    """The hours between two HH:MM of the same day, to the minute (2 decimals)."""
    minutes = int(end[:2]) * 60 + int(end[3:]) - int(start[:2]) * 60 - int(start[3:])
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


class Withdrawal(Payload):
    """The entity withdraws its availability, or the judge does not apply the work."""

    by: Literal["entity", "judge"]
    reason: Reason


def _signed(given: GuardInput) -> str | None:
    if given.payload.get("signed_by_representative") is True:
        return None
    return "la dichiarazione non è firmata dal legale rappresentante dell'ente"


def _not_transmitted(given: GuardInput) -> str | None:
    if given.case.data.get("declaration_transmitted") is not True:
        return None
    court = given.case.data.get("court")
    to = f" a {court}" if court else ""
    return f"la dichiarazione di disponibilità è già stata trasmessa{to}"


def _form(given: GuardInput) -> str | None:
    form = given.case.data.get("form")
    return str(form) if form in FORMS else None


def _owed(given: GuardInput) -> tuple[int, int] | None:
    try:
        return int(given.payload["owed_days"]), int(given.payload["owed_hours"])
    except (KeyError, TypeError, ValueError):
        return None


def _hours_of_days(given: GuardInput) -> str | None:
    """Owed hours are twice the days, in the forms that borrow art. 54 co. 5 d.lgs. 274/2000."""
    form = _form(given)
    if form is None:
        return "forma del lavoro non indicata nella dichiarazione"
    owed = _owed(given)
    if owed is None:
        return "da indicare i giorni e le ore dovuti"
    days, hours = owed
    if FORMS[form].two_hours_a_day and hours != 2 * days:
        return (
            f"ore dovute {hours}, ma {days} giorni sono {2 * days} ore: un giorno di lavoro è "
            f"di due ore (forma {form})"
        )
    return None


def _eight_hours_a_day(given: GuardInput) -> str | None:
    """Where a day is not two hours (the MAP), it is at most eight (art. 168-bis co. 3 c.p.)."""
    form = _form(given)
    owed = _owed(given)
    if form is None or owed is None:
        return None  # the two-hour guard names what is missing
    most = FORMS[form].max_hours_a_day
    days, hours = owed
    if most is not None and hours > most * days:
        return (
            f"ore dovute {hours}, oltre {most} ore al giorno per {days} giorni "
            f"({most * days} ore) (forma {form})"
        )
    return None


def _bounds(form: str) -> Guard:
    """The duration the law allows the form, in days of work (months x 30)."""
    rules = FORMS[form]

    def check(given: GuardInput) -> str | None:
        if _form(given) != form:
            return None
        owed = _owed(given)
        if owed is None:
            return None  # the two-hour guard names what is missing
        days = owed[0]
        least = rules.min_days
        repeat = given.payload.get("repeat_offender") is True
        if repeat and rules.repeat_min_days is not None:
            least = rules.repeat_min_days
        if least is not None and days < least:
            who = " per il recidivo" if repeat and rules.repeat_min_days is not None else ""
            return f"{days} giorni dovuti: la forma {form} ne richiede almeno {least}{who}"
        if rules.max_days is not None and days > rules.max_days:
            return f"{days} giorni dovuti: la forma {form} ne consente al più {rules.max_days}"
        return None

    return Guard(f"duration_{form}", check, rules.bounds_article, "owed_days")


def _authority_named(form: str) -> Guard:
    """For forms H and I, breaches go to the public-security authority the sentence names."""

    def check(given: GuardInput) -> str | None:
        if _form(given) != form or given.payload.get("breach_authority"):
            return None
        return "da indicare l'autorità di pubblica sicurezza indicata in sentenza"

    return Guard(f"authority_{form}", check, FORMS[form].breach_article, "breach_authority")


def _final_after_decision(given: GuardInput) -> str | None:
    final = day_of(given.payload, "final_on")
    decided = day_of(given.case.data, "decided_on")
    if final is None or decided is None or final >= decided:
        return None
    return f"data {final:%d/%m/%Y} anteriore al provvedimento del giudice ({decided:%d/%m/%Y})"


def _probation_record(given: GuardInput) -> str | None:
    if given.case.data.get("form") != "N" or given.payload.get("probation_record_signed") is True:
        return None
    return "messa alla prova: verbale di messa alla prova non sottoscritto"


# What reception requires (seed 003, section 4 step 3), each with its source; the behaviour
# agreement is recommended, not required, and no guard asks for it.
RECEPTION_REQUIREMENTS = {
    "insurance_opened": f"posizione assicurativa non aperta (art. 2 co. 2 {DM2001})",
    "calendar_agreed": f"calendario e progetto non concordati (art. 54 co. 3 {DLGS})",
}


def _reception(given: GuardInput) -> str | None:
    """Every requirement missing, named together: whoever receives the person sees them all."""
    missing = [
        label for key, label in RECEPTION_REQUIREMENTS.items() if given.payload.get(key) is not True
    ]
    needed = given.payload.get("safety_course_needed") is True
    if needed and given.payload.get("safety_course_done") is not True:
        missing.append("corso sulla sicurezza richiesto dalla mansione non svolto")
    return "; ".join(missing) or None


def _received_after_final(given: GuardInput) -> str | None:
    received = day_of(given.payload, "received_on")
    final = day_of(given.case.data, "final_on")
    if received is None or final is None or received >= final:
        return None
    return f"accoglienza il {received:%d/%m/%Y}, prima che la sentenza divenisse irrevocabile"


def _convention_in_force(given: GuardInput) -> str | None:
    """The work is done at an entity under a convention in force (art. 54 co. 6 d.lgs.
    274/2000), which names the most people it takes at once (art. 2 D.M. 26 marzo 2001)."""
    reference = given.case.data.get("convention")
    which = str(reference) if reference else "dell'ente"
    state = given.facts.get("convention_state")
    if state is None:
        return f"stato della convenzione {which} non noto"
    if state != "in_force":
        return f"la convenzione {which} non è in vigore"
    places = _number(given.facts.get("convention_places_left"))
    if places is None:
        return f"posti disponibili della convenzione {which} non noti"
    if places < 1:
        return f"la convenzione {which} accoglie già il numero massimo di persone"
    return None


def _number(value: Any) -> Decimal | None:
    """A count or a number of hours as a fact gives it (int, Decimal or its text), if any."""
    if value is None or isinstance(value, bool | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _hours_done(given: GuardInput) -> str | None:
    """Fired by the attendance register when the credited hours reach the owed hours."""
    left = _number(given.facts.get("hours_owed_left"))
    if left is None:
        return "ore ancora dovute non note: il registro presenze non le ha calcolate"
    if left > 0:
        return f"restano {left} ore da svolgere secondo il registro presenze"
    return None


def _signed_both(given: GuardInput) -> str | None:
    """The register is signed by the person and by the coordinator (seed 003: registro presenze
    firmato da entrambi)."""
    missing = [
        who
        for key, who in (
            ("signed_by_person", "firma della persona"),
            ("signed_by_coordinator", "firma del coordinatore"),
        )
        if given.payload.get(key) is not True
    ]
    return "; ".join(missing) or None


def _session_in_stay(given: GuardInput) -> str | None:
    day = day_of(given.payload, "day")
    if day is None:
        return "da indicare il giorno della sessione"
    today = rome_date(given.now)
    if day > today:
        return f"sessione del {day:%d/%m/%Y}, successiva a oggi ({today:%d/%m/%Y})"
    received = day_of(given.case.data, "received_on")
    if received is not None and day < received:
        return f"sessione del {day:%d/%m/%Y}, anteriore all'accoglienza ({received:%d/%m/%Y})"
    return None


def _no_overlap(given: GuardInput) -> str | None:
    """A session does not overlap one already in the register for that day: an hour is attended
    once (a session sent again under another key would count it twice)."""
    day, start, end = (
        day_of(given.payload, "day"),
        given.payload.get("start"),
        given.payload.get("end"),
    )
    recorded = given.facts.get("sessions_on")
    if day is None or start is None or end is None or recorded is None:
        return None  # the schema and the other guards name what is missing
    for begun, ended in recorded(day):
        if str(start) < ended and begun < str(end):
            return (
                f"sessione {start}-{end} del {day:%d/%m/%Y} sovrapposta a quella {begun}-{ended} "
                "già annotata nel registro presenze"
            )
    return None


def _within_hour_limits(given: GuardInput) -> str | None:
    """The form's limits per day and per week (ISO week), authorised or not, with the session
    counted (machines/lpu/forms.py, each limit with its article)."""
    day = day_of(given.payload, "day")
    start, end, code = (
        given.payload.get("start"),
        given.payload.get("end"),
        given.case.data.get("form"),
    )
    attended = given.facts.get("hours_between")
    if day is None or start is None or end is None or code is None or attended is None:
        return None  # the schema and the other guards name what is missing
    hours = session_hours(str(start), str(end))
    monday = day - timedelta(days=day.weekday())
    try:
        form = forms.form_in_force(str(code), day)
    except ValueError as error:
        return str(error)
    return forms.hours_refusal(
        form,
        day,
        attended(day, day) + hours,
        attended(monday, monday + timedelta(days=6)) + hours,
        given.case.data.get("authorised_extra_hours") is True,
    )


def _probation_revoked(given: GuardInput) -> str | None:
    """The LPU part of a probation ends with it: only when the probation it belongs to (the
    declaration names it) was revoked (art. 168-quater c.p.)."""
    linked = given.case.data.get("probation")
    if not linked:
        return "l'inserimento non è la parte di LPU di una messa alla prova"
    state = given.facts.get("probation_state")
    if state != "revoked":
        return f"la messa alla prova {linked} non è revocata"
    return None


NOT_STARTED = (S.DECLARED, S.AWAITING_FINAL)
NAMED_AUTHORITY = tuple(form for form, rules in FORMS.items() if rules.authority_in_sentence)
CONVENTION_BASIS = f"art. 54 co. 6 {DLGS}; art. 2 {DM2001}"
BREACH_STATES = (S.BREACH_BEFORE_RECEPTION, S.BREACH_REPORTED)
REPORTING = (S.COMPLETED, S.REPORT_OVERDUE)
LATE_REPORT = (
    f"{FINAL_REPORT.article}: relazione pervenuta oltre il termine, non perentorio: acquisita"
)

MACHINE = CaseMachine(
    kind="lpu_placement",
    prefix="LPU",
    states=LpuPlacement,
    initial=S.DECLARED,
    opening=Declaration,
    opening_guards=(
        Guard("signed", _signed, SEED_DECLARATION, "signed_by_representative"),
        not_in_future("declared_on", "della dichiarazione", SEED_DECLARATION),
    ),
    transitions=(
        Transition(
            "transmit",
            (S.DECLARED,),
            S.DECLARED,
            f"art. 54 {DLGS}; art. 2 {DM2001}; {SEED_DECLARATION}",
            guards=(Guard("once", _not_transmitted, SEED_DECLARATION),),
            notices=("dichiarazione_disponibilita",),
            records=("declaration_transmitted",),
            schema=Transmission,
        ),
        Transition(
            "sentenced",
            (S.DECLARED,),
            S.AWAITING_FINAL,
            f"{BASIS}; per la messa alla prova {MAP}",
            guards=(
                not_in_future("decided_on", "del provvedimento", BASIS),
                Guard("two_hours_a_day", _hours_of_days, TWO_HOURS, "owed_hours"),
                Guard(
                    "eight_hours_a_day", _eight_hours_a_day, "art. 168-bis co. 3 c.p.", "owed_hours"
                ),
                *(_bounds(form) for form, rules in FORMS.items() if rules.bounds_article),
                *(_authority_named(form) for form in NAMED_AUTHORITY),
            ),
            records=(
                "owed_days",
                "owed_hours",
                "decided_on",
                "authorised_extra_hours",
                "repeat_offender",
                "breach_authority",
                "file_number",
            ),
            schema=Sentence,
        ),
        Transition(
            "final",
            (S.AWAITING_FINAL,),
            S.TO_RECEIVE,
            f"seme 003: accoglienza a sentenza irrevocabile; per la messa alla prova {MAP}",
            guards=(
                not_in_future("final_on", "di irrevocabilità", SEED_RECEPTION),
                Guard("after_decision", _final_after_decision, SEED_RECEPTION, "final_on"),
                Guard(
                    "probation_record",
                    _probation_record,
                    "art. 464-quater co. 5 c.p.p.",
                    "probation_record_signed",
                ),
            ),
            records=("final_on", "probation_record_signed"),
            schema=Final,
        ),
        Transition(
            "receive",
            (S.TO_RECEIVE,),
            S.IN_PROGRESS,
            f"{BASIS}; {SEED_RECEPTION}",
            guards=(
                Guard("reception", _reception, SEED_RECEPTION),
                not_in_future("received_on", "dell'accoglienza", SEED_RECEPTION),
                Guard("after_final", _received_after_final, SEED_RECEPTION, "received_on"),
                Guard("convention", _convention_in_force, CONVENTION_BASIS),
            ),
            records=(
                "received_on",
                "coordinator",
                "safety_course_needed",
                "safety_course_done",
                "behaviour_agreement",
            ),
            schema=Reception,
        ),
        *(
            Transition(
                "authorise_hours",
                (state,),
                state,
                EXTRA_HOURS,
                guards=(not_in_future("authorised_on", "dell'autorizzazione", EXTRA_HOURS),),
                records=("authorised_extra_hours",),
                schema=Authorisation,
            )
            for state in (S.TO_RECEIVE, S.IN_PROGRESS)
        ),
        Transition(
            "attend",
            (S.IN_PROGRESS,),
            S.IN_PROGRESS,
            f"{BASIS}; {SEED_REGISTER}",
            guards=(
                Guard("session_day", _session_in_stay, SEED_REGISTER, "day"),
                Guard("signatures", _signed_both, SEED_REGISTER),
                Guard("no_overlap", _no_overlap, SEED_REGISTER, "start"),
                Guard("hour_limits", _within_hour_limits, "", "end"),
            ),
            schema=Session,
        ),
        Transition(
            "hours_done",
            (S.IN_PROGRESS,),
            S.COMPLETED,
            f"{TWO_HOURS}; {SEED_REGISTER}",
            guards=(Guard("hours_done", _hours_done, SEED_REGISTER),),
        ),
        Transition(
            "report",
            (S.COMPLETED,),
            S.CLOSED,
            f"{BASIS}; seme 003: conclusione",
            guards=(not_in_future("reported_on", "della relazione", "seme 003: conclusione"),),
            notices=("relazione_conclusiva",),
            records=("reported_on", "regular"),
            schema=Report,
            private=("note",),
        ),
        Transition(
            "report",
            (S.REPORT_OVERDUE,),
            S.CLOSED,
            LATE_REPORT,
            guards=(not_in_future("reported_on", "della relazione", "seme 003: conclusione"),),
            notices=("relazione_conclusiva",),
            records=("reported_on", "regular"),
            schema=Report,
            private=("note",),
        ),
        Transition(
            "report_overdue",
            (S.COMPLETED,),
            S.REPORT_OVERDUE,
            FINAL_REPORT.article,
            notices=("sollecito_relazione_conclusiva",),
        ),
        Transition(
            "breach",
            (S.TO_RECEIVE,),
            S.BREACH_BEFORE_RECEPTION,
            f"{BASIS}; seme 003: segnalazione all'autorità indicata in sentenza",
            guards=(not_in_future("occurred_on", "della violazione", SEED_RECEPTION),),
            notices=("segnalazione_violazione",),
            records=("occurred_on",),
            schema=Breach,
            private=("description",),
        ),
        Transition(
            "breach",
            (S.IN_PROGRESS,),
            S.BREACH_REPORTED,
            f"{BASIS}; seme 003: segnalazione all'autorità indicata in sentenza",
            guards=(not_in_future("occurred_on", "della violazione", SEED_RECEPTION),),
            notices=("segnalazione_violazione",),
            records=("occurred_on",),
            schema=Breach,
            private=("description",),
        ),
        Transition(
            "continue",
            (S.BREACH_BEFORE_RECEPTION,),
            S.TO_RECEIVE,
            f"{BASIS}; seme 003: il giudice non revoca, il lavoro prosegue",
            guards=(not_in_future("ruled_on", "della decisione", BASIS),),
            schema=Ruling,
        ),
        Transition(
            "continue",
            (S.BREACH_REPORTED,),
            S.IN_PROGRESS,
            f"{BASIS}; seme 003: il giudice non revoca, il lavoro prosegue",
            guards=(not_in_future("ruled_on", "della decisione", BASIS),),
            schema=Ruling,
        ),
        Transition(
            "revoke",
            BREACH_STATES,
            S.REVOKED,
            f"{BASIS}; la norma della forma (art. 56 {DLGS}, 168-quater c.p., 186 co. 9-bis "
            f"e 187 co. 8-bis {CDS}, 66 {L689})",
            guards=(not_in_future("ruled_on", "della decisione", BASIS),),
            notices=("revoca",),
            records=("ruled_on",),
            schema=Ruling,
        ),
        Transition(
            "end_with_probation",
            (*NOT_STARTED, S.TO_RECEIVE, S.IN_PROGRESS, *BREACH_STATES),
            S.REVOKED,
            "art. 168-quater c.p.: revocata la messa alla prova, ne cessa la parte di LPU",
            guards=(Guard("probation_revoked", _probation_revoked, "art. 168-quater c.p."),),
        ),
        Transition(
            "withdraw",
            NOT_STARTED,
            S.WITHDRAWN,
            f"{BASIS}; {SEED_DECLARATION}",
            records=("by",),
            schema=Withdrawal,
            private=("reason",),
        ),
    ),
    terms=(Term(S.COMPLETED, "final_report", FINAL_REPORT, fires="report_overdue"),),
    reminders=(
        Reminder(
            "final_report",
            "final_report_reminder",
            REMINDER_DAYS,
            "promemoria_relazione_conclusiva",
        ),
    ),
    awaits={  # whose act the placement waits for (art. 54 d.lgs. 274/2000; seed 003)
        S.DECLARED: "court",
        S.AWAITING_FINAL: "court",
        S.TO_RECEIVE: "host_entity",
        S.IN_PROGRESS: "host_entity",
        S.BREACH_BEFORE_RECEPTION: "court",
        S.BREACH_REPORTED: "court",
        S.COMPLETED: "office",
        S.REPORT_OVERDUE: "host_entity",
    },
    labels={
        "lpu_placement": "inserimento nel lavoro di pubblica utilità",
        S.DECLARED: "dichiarazione di disponibilità rilasciata",
        S.AWAITING_FINAL: "disposto dal giudice, in attesa dell'irrevocabilità",
        S.TO_RECEIVE: "da accogliere",
        S.IN_PROGRESS: "in corso, con il registro presenze",
        S.BREACH_BEFORE_RECEPTION: "violazione segnalata prima dell'accoglienza",
        S.BREACH_REPORTED: "violazione segnalata",
        S.COMPLETED: "ore svolte: in attesa della relazione conclusiva",
        S.REPORT_OVERDUE: "relazione conclusiva in ritardo",
        S.CLOSED: "concluso",
        S.REVOKED: "revocato: registro presenze chiuso",
        S.WITHDRAWN: "non avviato",
        "open": "dichiarazione di disponibilità",
        "transmit": "trasmissione della dichiarazione di disponibilità all'autorità giudiziaria",
        "sentenced": "provvedimento del giudice che dispone il lavoro",
        "final": "sentenza irrevocabile (messa alla prova: verbale sottoscritto)",
        "receive": "accoglienza",
        "authorise_hours": "autorizzazione a un orario settimanale superiore",
        "hours_done": "ore dovute svolte",
        "attend": "sessione del registro presenze",
        "report": "relazione conclusiva del coordinatore",
        "report_overdue": "scadenza del termine per la relazione conclusiva",
        "breach": "segnalazione di violazione",
        "continue": "prosecuzione disposta dal giudice",
        "revoke": "revoca disposta dal giudice",
        "withdraw": "rinuncia dell'ente o mancata applicazione del lavoro",
        "end_with_probation": "cessazione per revoca della messa alla prova",
        "final_report": "termine per la relazione conclusiva",
        "final_report_reminder": "promemoria della relazione conclusiva",
    },
)

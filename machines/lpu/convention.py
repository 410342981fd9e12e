"""A host entity's convention for unpaid community work (art. 54 co. 6 d.lgs. 274/2000; art. 2
D.M. 26 marzo 2001): kind `lpu_convention`, references CLPU-YYYY-NNNNNN.

Drafted by the entity with the Ministry of Justice or, by its delegation, the President of the
Tribunal -> signed (in force from its first day to its last, at most five years; the activities,
the most people it takes at once, its coordinators, the insurance against accidents,
occupational disease and third-party liability at the entity's cost) -> expired at 00:00 after
its last day (a validity written on the act: no holiday extension), with a renewal notice 60
days before; or terminated earlier by either party.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from machines.calendar import TermRule, Unit, rome_date
from machines.spec import CaseMachine, Guard, GuardInput, Payload, Reminder, Term, Transition

DLGS = "d.lgs. 274/2000"
DM2001 = "D.M. 26 marzo 2001"
BASIS = f"art. 54 co. 6 {DLGS}; art. 2 {DM2001}"
MAX_YEARS = 5  # the longest a convention lasts (art. 2 co. 1 D.M. 26 marzo 2001)
RENEWAL_NOTICE_DAYS = 60
# Who may host (art. 54 co. 2 d.lgs. 274/2000): the State, regions, provinces, municipalities,
# bodies and organisations of social assistance or volunteering.
ENTITY_KINDS = {
    "state": "amministrazione dello Stato",
    "region": "regione",
    "province": "provincia",
    "municipality": "comune",
    "organisation": "ente od organizzazione di assistenza sociale o di volontariato",
}
# Insurance the entity takes out at its own cost (art. 2 co. 2 D.M. 26 marzo 2001).
INSURANCE = {
    "accident_insurance": "assicurazione contro gli infortuni",
    "occupational_disease_insurance": "assicurazione contro le malattie professionali",
    "liability_insurance": "assicurazione per la responsabilità civile verso terzi",
}


class Convention(StrEnum):
    DRAFTED = "drafted"
    IN_FORCE = "in_force"
    EXPIRED = "expired"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"


S = Convention
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


FIVE_YEARS = TermRule(
    12 * MAX_YEARS, Unit.MONTHS, extend_on_holiday=False, article=f"art. 2 co. 1 {DM2001}",
    counts_start_day=True,
)  # fmt: skip


def longest_until(valid_from: date) -> date:
    """The last day a convention starting on `valid_from` may have: five years, the first day
    counted (from 1 March 2026, 28 February 2031; from 29 February 2028, 28 February 2033)."""
    return FIVE_YEARS.last_day(valid_from)


class Opening(Payload):
    """The convention as drafted: the entity, the counterparty, what it offers and for how long.
    The coordinators are named by their role, never by name."""

    entity: Text = Field(description="Ente ospitante.")
    entity_kind: Literal["state", "region", "province", "municipality", "organisation"]
    counterparty: Literal["ministry", "tribunal_president"] = Field(
        description="Ministero della giustizia o, su delega, il Presidente del Tribunale."
    )
    tribunal: Text | None = Field(None, description="Tribunale, se stipulata su delega.")
    province: Text = Field(description="Provincia in cui si svolge il lavoro.")
    activities: list[Text] = Field(min_length=1, max_length=50)
    capacity: int = Field(ge=1, le=10000, description="Persone accolte al più nello stesso tempo.")
    coordinators: list[Text] = Field(
        min_length=1, max_length=50, description="Ruoli dei coordinatori (non i nomi)."
    )
    accident_insurance: bool = False
    occupational_disease_insurance: bool = False
    liability_insurance: bool = False
    valid_from: date
    valid_until: date
    days: int = Field(
        ge=1, le=366 * MAX_YEARS, description="Durata in giorni, primo e ultimo compresi."
    )

    @model_validator(mode="before")
    @classmethod
    def _duration(cls, given: Any) -> Any:
        """`days` is the span from `valid_from` to `valid_until`, both included: computed, and
        refused if given otherwise."""
        if not isinstance(given, dict):
            return given
        try:
            start = date.fromisoformat(str(given["valid_from"]))
            end = date.fromisoformat(str(given["valid_until"]))
        except (KeyError, ValueError):
            return given  # the fields' own validation names what is wrong
        days = (end - start).days + 1
        if "days" in given and str(given["days"]) != str(days):
            raise ValueError(
                f"durata di {given['days']} giorni, ma dal {start} al {end} sono {days}"
            )
        return {**given, "days": days}


class Termination(Payload):
    reason: Reason
    ended_on: date


def _within_five_years(given: GuardInput) -> str | None:
    start = date.fromisoformat(str(given.payload["valid_from"]))
    end = date.fromisoformat(str(given.payload["valid_until"]))
    if end < start:
        return f"termina il {end:%d/%m/%Y}, prima di iniziare ({start:%d/%m/%Y})"
    if end > longest_until(start):
        return (
            f"durata oltre {MAX_YEARS} anni: dal {start:%d/%m/%Y} al più fino al "
            f"{longest_until(start):%d/%m/%Y}"
        )
    return None


def _delegation_named(given: GuardInput) -> str | None:
    if given.payload.get("counterparty") == "tribunal_president" and not given.payload.get(
        "tribunal"
    ):
        return "stipulata su delega: da indicare il Tribunale"
    return None


def _insured(given: GuardInput) -> str | None:
    """Art. 2 co. 2 D.M. 26 marzo 2001: the three insurances, at the entity's cost."""
    missing = [label for key, label in INSURANCE.items() if given.case.data.get(key) is not True]
    return "; ".join(missing) or None


def _not_expired(given: GuardInput) -> str | None:
    until = date.fromisoformat(str(given.case.data["valid_until"]))
    today = rome_date(given.now)
    return None if today <= until else f"scaduta il {until:%d/%m/%Y}: si stipula una nuova"


def _ended_in_force(given: GuardInput) -> str | None:
    if given.payload.get("ended_on") is None:
        return "da indicare la data di cessazione"
    ended = date.fromisoformat(str(given.payload["ended_on"]))
    start = date.fromisoformat(str(given.case.data["valid_from"]))
    today = rome_date(given.now)
    if ended > today:
        return f"data {ended:%d/%m/%Y} successiva a oggi ({today:%d/%m/%Y})"
    if ended < start:
        return f"data {ended:%d/%m/%Y} anteriore alla decorrenza ({start:%d/%m/%Y})"
    return None


# The validity written on the act: from its first day to its last, no holiday extension.
VALIDITY = TermRule(1, Unit.DAYS, extend_on_holiday=False, article=BASIS, counts_start_day=True)

MACHINE = CaseMachine(
    kind="lpu_convention",
    prefix="CLPU",
    states=Convention,
    initial=S.DRAFTED,
    opening=Opening,
    opening_guards=(
        Guard("five_years", _within_five_years, f"art. 2 co. 1 {DM2001}", "valid_until"),
        Guard("delegation", _delegation_named, BASIS, "tribunal"),
    ),
    transitions=(
        Transition(
            "sign",
            (S.DRAFTED,),
            S.IN_FORCE,
            BASIS,
            guards=(
                Guard("insured", _insured, f"art. 2 co. 2 {DM2001}"),
                Guard("not_expired", _not_expired, BASIS),
            ),
        ),
        Transition("withdraw", (S.DRAFTED,), S.WITHDRAWN, BASIS),
        Transition("expire", (S.IN_FORCE,), S.EXPIRED, f"art. 2 co. 1 {DM2001}"),
        Transition(
            "terminate",
            (S.IN_FORCE,),
            S.TERMINATED,
            BASIS,
            guards=(Guard("ended_on", _ended_in_force, BASIS, "ended_on"),),
            records=("reason", "ended_on"),
            schema=Termination,
        ),
    ),
    terms=(
        Term(
            S.IN_FORCE,
            "convention_validity",
            VALIDITY,
            fires="expire",
            starts_on="valid_from",
            days_from="days",
        ),
    ),
    reminders=(
        Reminder(
            "convention_validity",
            "renewal_notice",
            RENEWAL_NOTICE_DAYS,
            "avviso_rinnovo_convenzione",
        ),
    ),
    awaits={S.DRAFTED: "office"},
    labels={
        "lpu_convention": "convenzione per il lavoro di pubblica utilità",
        S.DRAFTED: "predisposta",
        S.IN_FORCE: "in vigore",
        S.EXPIRED: "scaduta",
        S.TERMINATED: "risolta",
        S.WITHDRAWN: "non stipulata",
        "open": "predisposizione della convenzione",
        "sign": "stipula",
        "withdraw": "rinuncia alla stipula",
        "expire": "scadenza",
        "terminate": "risoluzione anticipata",
        "convention_validity": "durata della convenzione",
        "renewal_notice": "avviso di rinnovo",
    },
)

"""A small machine for exercising the engine: a request reviewed within a legal term.

It is a test fixture, not a procedure: the four procedures have machines of their own.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from machines.calendar import TermRule, Unit
from machines.spec import CaseMachine, Guard, GuardInput, Payload, Reminder, Term, Transition


class Demo(StrEnum):
    DRAFT = "draft"
    FILED = "filed"
    UNDER_REVIEW = "under_review"
    ON_HOLD = "on_hold"
    GRANTED = "granted"
    REJECTED = "rejected"
    LAPSED = "lapsed"
    CLOSED = "closed"


class Opening(Payload):
    eligible: bool = False
    explode: bool = False  # makes the lapse guard crash: the sweep's incidents
    prison: str | None = Field(None, max_length=40)


class Filing(Payload):
    protocol: str | None = Field(None, max_length=40)
    note: str | None = Field(None, max_length=200)


class Rejection(Payload):
    n: int | None = None


def _has_protocol(given: GuardInput) -> str | None:
    return None if given.payload.get("protocol") else "a protocol number is required"


def _eligible(given: GuardInput) -> str | None:
    return None if given.case.data.get("eligible") else "the applicant is not eligible"


def _not_sabotaged(given: GuardInput) -> str | None:
    if given.case.data.get("explode"):
        raise RuntimeError("the lapse check crashed")
    return None


REVIEW_TERM = TermRule(30, Unit.DAYS, extend_on_holiday=True, article="art. 172 c.p.p.")
VALIDITY = TermRule(2, Unit.MONTHS, extend_on_holiday=False, article="art. 2963 c.c.")

MACHINE = CaseMachine(
    kind="demo",
    prefix="DEM",
    states=Demo,
    initial=Demo.DRAFT,
    opening=Opening,
    transitions=(
        Transition(
            "file",
            (Demo.DRAFT,),
            Demo.FILED,
            "art. 1 demo",
            guards=(Guard("has_protocol", _has_protocol, "art. 1 co. 2 demo"),),
            records=("protocol",),
            schema=Filing,
        ),
        Transition("review", (Demo.FILED,), Demo.UNDER_REVIEW, "art. 2 demo"),
        Transition("suspend", (Demo.UNDER_REVIEW,), Demo.ON_HOLD, "art. 2 co. 2 demo"),
        Transition("resume", (Demo.ON_HOLD,), Demo.UNDER_REVIEW, "art. 2 co. 3 demo"),
        Transition(
            "grant",
            (Demo.UNDER_REVIEW,),
            Demo.GRANTED,
            "art. 3 demo",
            guards=(Guard("eligible", _eligible, "art. 3 co. 1 demo"),),
            notices=("notifica_cambio_stato",),
        ),
        Transition(
            "reject",
            (Demo.UNDER_REVIEW,),
            Demo.REJECTED,
            "art. 4 demo",
            notices=("notifica_cambio_stato",),
            signals=("reallocate",),
            schema=Rejection,
        ),
        Transition(
            "lapse",
            (Demo.UNDER_REVIEW, Demo.ON_HOLD),
            Demo.LAPSED,
            "art. 5 demo",
            guards=(Guard("not_sabotaged", _not_sabotaged),),
        ),
        Transition("close", (Demo.GRANTED, Demo.REJECTED, Demo.LAPSED), Demo.CLOSED, "art. 6 demo"),
    ),
    terms=(
        # The review term keeps running while the request is on hold.
        Term(
            Demo.UNDER_REVIEW,
            "review_deadline",
            REVIEW_TERM,
            fires="lapse",
            through=(Demo.ON_HOLD,),
        ),
        Term(Demo.GRANTED, "validity_end", VALIDITY, fires="close"),
    ),
    reminders=(Reminder("validity_end", "validity_warning", 10, "avviso_scadenza"),),
    labels={
        "demo": "istanza di prova",
        Demo.DRAFT: "bozza",
        Demo.FILED: "depositata",
        Demo.UNDER_REVIEW: "in istruttoria",
        Demo.ON_HOLD: "sospesa",
        Demo.GRANTED: "accolta",
        Demo.REJECTED: "respinta",
        Demo.LAPSED: "decaduta",
        Demo.CLOSED: "archiviata",
        "grant": "accoglimento",
        "reject": "rigetto",
        "lapse": "decadenza per decorrenza del termine",
        "validity_end": "validità dell'accoglimento",
    },
)

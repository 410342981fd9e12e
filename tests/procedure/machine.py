"""A small procedure that lives entirely under tests/: a leave permit asked by a detainee and
reviewed within ten days. It is not law; it proves that a procedure plugs in by configuration
alone (its machine with a term and a guard, an effect on a table of its own, a notice, a CLI
command, an API route), with no edit to shared code."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from machines.calendar import TermRule, Unit
from machines.spec import CaseMachine, Guard, GuardInput, Payload, Term, Transition

MAX_HOURS = 12


class Permit(StrEnum):
    REQUESTED = "requested"
    UNDER_REVIEW = "under_review"
    GRANTED = "granted"
    DENIED = "denied"
    EXPIRED = "expired"


class Request(Payload):
    prison: str = Field(min_length=1, max_length=20)


class Grant(Payload):
    hours: int = Field(ge=1, le=48)


def _within_the_hours(given: GuardInput) -> str | None:
    hours = int(given.payload["hours"])
    return None if hours <= MAX_HOURS else f"{hours} ore richieste, al massimo {MAX_HOURS}"


REVIEW = TermRule(10, Unit.DAYS, extend_on_holiday=True, article="art. 1 prova")

MACHINE = CaseMachine(
    kind="permit",
    prefix="PRM",
    states=Permit,
    initial=Permit.REQUESTED,
    opening=Request,
    transitions=(
        Transition("review", (Permit.REQUESTED,), Permit.UNDER_REVIEW, "art. 2 prova"),
        Transition(
            "grant",
            (Permit.UNDER_REVIEW,),
            Permit.GRANTED,
            "art. 3 prova",
            guards=(Guard("hours", _within_the_hours, "art. 3 co. 2 prova", "hours"),),
            notices=("permesso",),
            records=("hours",),
            schema=Grant,
        ),
        Transition("deny", (Permit.UNDER_REVIEW,), Permit.DENIED, "art. 4 prova"),
        Transition("expire", (Permit.UNDER_REVIEW,), Permit.EXPIRED, "art. 5 prova"),
    ),
    terms=(Term(Permit.UNDER_REVIEW, "review_term", REVIEW, fires="expire"),),
    labels={"permit": "permesso di prova", "grant": "concessione", "expire": "decadenza"},
)

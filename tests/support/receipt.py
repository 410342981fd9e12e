"""A machine whose terms count from a recorded receipt and last what an officer chose within
bounds (the shape of art. 5 D.M. 128/2025's terms): a test fixture of the engine."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from machines.calendar import TermRule, Unit
from machines.spec import CaseMachine, Payload, Term, Transition


class Notice(StrEnum):
    SENT = "sent"
    CLARIFYING = "clarifying"
    EXAMINING = "examining"
    DEFENDING = "defending"
    DECIDING = "deciding"


class Receipt(Payload):
    received_on: date


class Contest(Payload):
    defence_days: int = Field(ge=15, le=45, description="da 15 a 45 giorni")


CLARIFICATION = TermRule(30, Unit.DAYS, extend_on_holiday=True, article="art. 5 co. 2")
DEFENCE = TermRule(15, Unit.DAYS, extend_on_holiday=True, article="art. 5 co. 3")

MACHINE = CaseMachine(
    kind="receipt",
    prefix="RCT",
    states=Notice,
    initial=Notice.SENT,
    transitions=(
        Transition(
            "receipt", (Notice.SENT,), Notice.CLARIFYING, "art. 5 co. 2", schema=Receipt,
            records=("received_on",),
        ),
        Transition("clarification_expired", (Notice.CLARIFYING,), Notice.EXAMINING, "art. 5 co. 2"),
        Transition(
            "contest", (Notice.EXAMINING,), Notice.DEFENDING, "art. 5 co. 3", schema=Contest,
            records=("defence_days",),
        ),
        Transition("defence_expired", (Notice.DEFENDING,), Notice.DECIDING, "art. 5 co. 4"),
    ),
    terms=(
        Term(
            Notice.CLARIFYING, "clarification_term", CLARIFICATION,
            fires="clarification_expired", starts_on="received_on",
        ),
        Term(
            Notice.DEFENDING, "defence_term", DEFENCE, fires="defence_expired",
            days_from="defence_days",
        ),
    ),
)  # fmt: skip

"""Fictional reference data and helpers that drive placement applications to the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from machines.placements import EQUIPE_PARAMETERS, REQUIREMENTS
from services.clock import FixedClock
from services.context import Context
from services.placements import actors as placements
from services.placements import budget, reference
from services.placements.procedure import MODULES
from tests.support import register

# Placements and the register their facilities are on (FAC-RM-2 is suspended there).
PLACEMENTS = (register.REGISTER, *MODULES)
COURT_TO = "Tribunale di sorveglianza di Torino"
COURT_RM = "Tribunale di sorveglianza di Roma"

REFERENCE: dict[str, Any] = {
    "offices": [
        {
            "code": "UIEPE-TO",
            "name": "Ufficio interdistrettuale di esecuzione penale esterna di Torino",
            "place": "Torino",
            "territory": "Piemonte, Liguria e Valle d'Aosta",
            "detainees": 6000,
        },
        {
            "code": "UIEPE-RM",
            "name": "Ufficio interdistrettuale di esecuzione penale esterna di Roma",
            "place": "Roma",
            "territory": "Lazio, Abruzzo e Molise",
            "detainees": 4000,
        },
    ],
    "prisons": [
        {"code": "CC-TO", "name": "Casa circondariale di Torino", "office": "UIEPE-TO"},
        {"code": "CC-RM", "name": "Casa circondariale di Roma Rebibbia", "office": "UIEPE-RM"},
    ],
    "facilities": [
        {
            "code": "FAC-TO-1",
            "name": "Comunità Il Ponte",
            "operator": "Cooperativa sociale Il Ponte",
            "address": "Via Nizza 10, Torino",
            "section": "Piemonte",
        },
        {
            "code": "FAC-RM-1",
            "name": "Casa di accoglienza San Michele",
            "operator": "Associazione San Michele ETS",
            "address": "Via Tiburtina 100, Roma",
            "section": "Lazio",
        },
        {
            "code": "FAC-RM-2",
            "name": "Comunità La Sosta",
            "operator": "Fondazione La Sosta",
            "address": "Via Appia 5, Roma",
            "section": "Lazio",
        },
    ],
    "conventions": [
        {
            "code": "CONV-TO-1",
            "office": "UIEPE-TO",
            "facility": "FAC-TO-1",
            "daily_rate": "50.00",
            "places": 1,
            "valid_from": "2026-01-01",
            "valid_until": "2027-12-31",
        },
        {
            "code": "CONV-RM-1",
            "office": "UIEPE-RM",
            "facility": "FAC-RM-1",
            "daily_rate": "60.00",
            "places": 2,
            "valid_from": "2026-01-01",
            "valid_until": "2027-12-31",
        },
        {
            "code": "CONV-RM-2",
            "office": "UIEPE-RM",
            "facility": "FAC-RM-2",
            "daily_rate": "40.00",
            "places": 3,
            "valid_from": "2026-01-01",
            "valid_until": "2027-12-31",
        },
    ],
    "budget_years": [{"year": 2026}, {"year": 2027}],
}

# The Director's check with every requirement met (art. 11 co. 1-2, art. 12 co. 3).
ASSESSMENT: dict[str, Any] = {
    **dict.fromkeys(REQUIREMENTS, True),
    "equipe_report": dict.fromkeys(EQUIPE_PARAMETERS, True),
    "taxable_income": "9000.00",
    "cohabitants": 0,
}


def load_reference(ctx: Context, years: tuple[int, ...] = (2026, 2027)) -> None:
    """The reference data; their facilities registered, FAC-RM-2 then suspended during a
    cancellation procedure; the years' appropriations split."""
    reference.load(ctx, REFERENCE)
    enrolled = register.enrol_described(ctx)
    if "FAC-RM-2" in enrolled:  # loaded again: it is already suspended
        register.suspend(ctx, enrolled["FAC-RM-2"])
    for year in years:
        budget.split(ctx, year)


def queued(ctx: Context, prison: str = "CC-TO", court: str = COURT_TO) -> str:
    """A new application driven to the UIEPE's queue; the clock moves a minute per step, so
    protocol order is filing order."""
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    filed = placements.file_application(ctx, prison, court, "istituto")
    placements.director_review(ctx, filed.reference, ASSESSMENT, "direttore")
    clock.advance(timedelta(minutes=1))
    placements.intake(ctx, filed.reference, "uiepe")
    placements.formal_check(ctx, filed.reference, True, "uiepe")
    return filed.reference


# 10:00 in Rome on a Monday
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def placements_context(db: Engine, at: datetime = MONDAY) -> Context:
    """Placements alone, on `db`, with the fictional reference data, the clock at `at`."""
    ctx = Context.build(db, FixedClock(at), PLACEMENTS)
    load_reference(ctx)
    return ctx


def clock_of(ctx: Context) -> FixedClock:
    assert isinstance(ctx.clock, FixedClock)
    return ctx.clock

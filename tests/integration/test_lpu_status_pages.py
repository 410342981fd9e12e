"""The status page of both kinds of community work (the Prefect UI's `case-status` artifact,
`services/inspection.py`): a convention with its entity, validity, capacity and the people it
holds, and its renewal notice and expiry among the terms; a placement with its hours owed,
credited and left, and no private data (the breach's description)."""

from __future__ import annotations

from datetime import timedelta

from services import engine, inspection
from services.clock import FixedClock
from services.context import Context
from tests.integration.test_lpu_placements import (
    BREACH,
    ENTITY,
    MONDAY,
    RECEPTION,
    convention,
    declared,
    lctx,
    session,
)

__all__ = ["lctx"]


def test_a_conventions_page_shows_its_capacity_people_and_terms(lctx: Context) -> None:
    agreement = convention(lctx, capacity=2)
    engine.fire(lctx, declared(lctx, agreement), "receive", ENTITY, RECEPTION)
    page = inspection.case_status_markdown(lctx, agreement)
    assert "convenzione" in page.lower() and "`in_force`" in page
    assert "| ente | Comune di Torino |" in page  # the facts under their Italian names
    assert "| persone al lavoro | 1 |" in page and "| posti liberi | 1 |" in page
    assert "28 febbraio 2031" in page  # the last day of its validity, among the terms
    assert "| avviso di rinnovo | 30 dicembre 2030 |" in page  # 60 days before
    # asked what may happen now, each refusal is a reason, never an error
    assert "da indicare la data di cessazione" in page and "Error" not in page


def test_a_placements_page_shows_its_hours_and_no_private_data(lctx: Context) -> None:
    clock = lctx.clock
    assert isinstance(clock, FixedClock)
    placement = declared(lctx, convention(lctx), form="S", days=5, hours=10)
    engine.fire(lctx, placement, "receive", ENTITY, RECEPTION)
    clock.instant = MONDAY + timedelta(days=1)
    engine.fire(lctx, placement, "attend", ENTITY, session("2026-03-02", "09:00", "12:30"))
    engine.fire(lctx, placement, "breach", ENTITY, BREACH)
    page = inspection.case_status_markdown(lctx, placement)
    assert "`breach_reported`" in page and "violazione segnalata" in page
    assert "| ore dovute | 10 |" in page
    assert "| ore riconosciute | 3.50 |" in page and "| ore residue | 6.50 |" in page
    assert BREACH["description"] not in page

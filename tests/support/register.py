"""Facilities put on the register through its real path (expression of interest, review, DAP
opinion, registration), and suspended through a cancellation procedure: what the placements'
fixtures need now that the register owns a facility's standing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from machines.calendar import rome_date
from services import engine
from services.context import Context
from storage.placements.repository import PlacementRepository

REGISTER = "services.register.procedure"
DG = "direzione-generale"

# A public body running a community-type structure with every requirement of arts. 6-7.
SUITABLE: dict[str, Any] = {
    "operator_type": "a",
    "structure_type": "community",
    "housing_suitable": True,
    "hygiene_suitable": True,
    "residence_registration": True,
    "accommodation": True,
    "personal_assistance": True,
    "reintegration": True,
}
SECTION_OF = {"Piemonte": "Piemonte", "Lazio": "Lazio"}


def enrol(ctx: Context, code: str, name: str, operator: str, address: str, section: str) -> str:
    """The facility registered through the register's machine; its STR reference."""
    today = rome_date(ctx.clock.now())
    data = {
        **SUITABLE, "code": code, "name": name, "operator": operator, "address": address,
        "section": section, "places": 10, "filed_on": (today - timedelta(days=30)).isoformat(),
    }  # fmt: skip
    reference = engine.open_case(ctx, "facility", "ente-gestore", data).reference
    engine.fire(ctx, reference, "review", DG, {"people": []})
    opinion = {"opinion": "favourable", "given_on": today.isoformat()}
    engine.fire(ctx, reference, "dap_opinion", DG, opinion)
    engine.fire(ctx, reference, "register", DG)
    return reference


def enrol_described(ctx: Context) -> dict[str, str]:
    """Every facility the reference data describe and the register does not know, registered
    (code -> STR reference)."""
    with ctx.read() as uow:
        described = [
            (f.code, f.name, f.operator, f.address, f.section)
            for f in PlacementRepository.of(uow).facilities()
            if not f.registered and f.cancelled_on is None
        ]
    return {row[0]: enrol(ctx, *row) for row in described}


def suspend(ctx: Context, facility: str, facts: str = "Verifica in corso.") -> str:
    """A cancellation procedure opened on cause (b) and the facility suspended in it (art. 5
    co. 6); the procedure's reference."""
    opened = engine.open_case(
        ctx, "cancellation", DG, {"facility": facility, "causes": ["b"], "facts": facts}
    )
    engine.fire(ctx, opened.reference, "suspend", DG, {"reasons": facts})
    return opened.reference

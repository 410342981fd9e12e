"""Facilities put on the register through its real path (the register's own demo enrolment:
expression of interest, review, DAP opinion, registration), and suspended through a
cancellation procedure: what the placements' fixtures need now that the register owns a
facility's standing."""

from __future__ import annotations

from services import engine
from services.context import Context
from services.register.demo import enrol_demo_facilities
from storage.placements.repository import PlacementRepository

REGISTER = "services.register.procedure"
DG = "direzione-generale"


def enrol_described(ctx: Context) -> dict[str, str]:
    """Every facility the reference data describe and the register does not know, registered
    (code -> STR reference)."""
    with ctx.read() as uow:
        described = [
            {"code": f.code, "name": f.name, "operator": f.operator, "address": f.address,
             "section": f.section}
            for f in PlacementRepository.of(uow).facilities()
            if not f.registered and f.cancelled_on is None
        ]  # fmt: skip
    enrolled = enrol_demo_facilities(ctx, described)
    return {row["code"]: reference for row, reference in zip(described, enrolled, strict=True)}


def suspend(ctx: Context, facility: str, facts: str = "Verifica in corso.") -> str:
    """A cancellation procedure opened on cause (b) and the facility suspended in it (art. 5
    co. 6); the procedure's reference."""
    opened = engine.open_case(
        ctx, "cancellation", DG, {"facility": facility, "causes": ["b"], "facts": facts}
    )
    engine.fire(ctx, opened.reference, "suspend", DG, {"reasons": facts})
    return opened.reference

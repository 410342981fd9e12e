"""The register's part of a demo: the fictional facilities a demo describes, put on the register
through its real path (expression of interest of a public body with every requirement of arts.
6-7, review, a favourable DAP opinion, registration). Other procedures call it by name where
the register runs (`Procedure.provides`: `enrol_demo_facilities`); `demo` adds what a clerk
should find in the register on a new installation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from machines.calendar import rome_date
from machines.register import SECTIONS
from services import engine
from services.context import Context
from services.register import actors, publication

ENROL_DEMO_FACILITIES = "enrol_demo_facilities"

# A public body (art. 8 co. 1 a) running a community-type structure with every service.
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


def enrol_demo_facilities(ctx: Context, facilities: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each facility (code, name, operator, address, section, places) registered, filed a
    month before the context's day; their STR references. A section that is not a region of
    the register is refused, as on every path."""
    filed_on = rome_date(ctx.clock.now()) - timedelta(days=30)
    enrolled = []
    for facility in facilities:
        data = {
            **SUITABLE,
            **{key: facility[key] for key in ("code", "name", "operator", "address")},
            "section": str(facility["section"]),
            "places": int(facility.get("places", 10)),
            "filed_on": filed_on.isoformat(),
        }
        enrolled.append(actors.enrol(ctx, data))
    return enrolled


def demo(ctx: Context) -> str:
    """The register's part of `misure stack`'s demo, after the placements' (which registered
    their facilities): a new expression of interest under review, a cancellation procedure in
    its 30-day term on one facility, another facility suspended in its own procedure, and the
    register published. One line."""
    today = rome_date(ctx.clock.now())
    registered = [
        row.reference for row in engine.list_cases(ctx, kind="facility", state="registered")
    ]
    filed = actors.file_interest(
        ctx,
        {
            **SUITABLE, "operator_type": "d", "runts_registered": True,
            "statute_covers_accommodation": True, "code": "FAC-DEMO-1",
            "name": "Comunità residenziale La Rete", "operator": "Associazione La Rete ETS",
            "address": "Via Garibaldi 3, Torino", "section": "Piemonte", "places": 8,
            "filed_on": today.isoformat(),
        },
    ).reference  # fmt: skip
    actors.start_review(ctx, filed, [{"role": "representative"}, {"role": "director"}])
    if len(registered) < 2:
        return f"elenco: manifestazione {filed} in istruttoria"
    clarifying = actors.open_cancellation(
        ctx, registered[0], ["b"], "Idoneità igienico-sanitaria da verificare."
    ).reference
    actors.invite(ctx, clarifying)
    actors.record_receipt(ctx, clarifying, today)
    suspended = actors.open_cancellation(
        ctx, registered[1], ["c"], "Dati personali dei residenti diffusi sul sito dell'ente."
    ).reference
    actors.suspend(ctx, suspended, "Tutela dei residenti durante l'accertamento.")
    published = publication.publish(ctx, "pubblicazione iniziale dell'elenco")
    return (
        f"elenco: {published.entries} strutture pubblicate; {filed} in istruttoria; "
        f"{clarifying} in attesa di chiarimenti; {registered[1]} sospesa ({suspended})"
    )


__all__ = ["ENROL_DEMO_FACILITIES", "SECTIONS", "demo", "enrol_demo_facilities"]

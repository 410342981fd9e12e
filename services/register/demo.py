"""The register's part of a demo: the fictional facilities a demo describes, put on the register
through its real path (expression of interest of a public body with every requirement of arts.
6-7, review, a favourable DAP opinion, registration). Other procedures call it by name where
the register runs (`Procedure.provides`: `enrol_demo_facilities`); `demo` adds what a clerk
should find in the register on a new installation, with the letterhead of the Directorate-general
and the PEC of every facility it names (`load_demo_reference`)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from machines.calendar import rome_date
from machines.register import SECTIONS
from services import engine, letterheads
from services.context import Context
from services.procedure import PARTIES
from services.register import actors, publication
from services.register.notices import ISSUER
from storage.register.repository import RegisterRepository

ENROL_DEMO_FACILITIES = "enrol_demo_facilities"
DEMO_REFERENCE = Path(__file__).with_name("demo_reference.toml")

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
        return f"elenco: manifestazione {filed} in istruttoria; {_reference_line(ctx)}"
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
        f"{clarifying} in attesa di chiarimenti; {registered[1]} sospesa ({suspended}); "
        f"{_reference_line(ctx)}"
    )


def load_demo_reference(ctx: Context, path: Path = DEMO_REFERENCE) -> tuple[int, int]:
    """What the register's notices need to be full acts: the letterhead and signatory of the
    Directorate-general that issues them (code, name and seat as its notices give them,
    completed by the fictional data of `path`), its PEC, and the PEC of every facility on the
    register and of its operator (who receives the acts there). A letterhead or an address
    already registered is kept (a demo never overwrites reference data, nor what another
    procedure's demo registered). How many letterheads and addressees it added."""
    fixed = tomllib.loads(path.read_text(encoding="utf-8"))
    seat = fixed["directorate"]
    place = str(ISSUER["sede"])
    added_heads = 0
    if str(ISSUER["codice"]) not in {head.office for head in letterheads.letterheads(ctx)}:
        letterheads.set_letterhead(
            ctx,
            {
                "office": ISSUER["codice"],
                "name": ISSUER["nome"],
                "address": f"{seat['street']}, {seat['postcode']} {place}",
                "pec": seat["pec"],
                "phone": seat["phone"],
                "signer_name": seat["signer_name"],
                "signer_role": seat["signer_role"],
                "place": place,
            },
        )
        added_heads = 1
    pecs = {PARTIES["directorate"]: str(seat["pec"])}
    with ctx.read() as uow:
        for entry, _ in RegisterRepository.of(uow).entries():
            pec = f"{_mailbox(entry.operator)}@{fixed['operator_domain']}"
            pecs.setdefault(entry.operator, pec)
            pecs.setdefault(entry.name, pec)
    known = letterheads.addressees(ctx)
    added = {name: pec for name, pec in pecs.items() if name not in known}
    for name, pec in added.items():
        letterheads.set_addressee(ctx, name, pec)
    return added_heads, len(added)


def _reference_line(ctx: Context) -> str:
    heads, addressees = load_demo_reference(ctx)
    return f"carta intestata di {heads} uffici, PEC di {addressees} destinatari"


def _mailbox(name: str) -> str:
    """`name` as the local part of a PEC address: ASCII, lower case, words joined by dots."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ".".join(re.findall(r"[a-z0-9]+", ascii_.lower()))


__all__ = [
    "ENROL_DEMO_FACILITIES",
    "SECTIONS",
    "demo",
    "enrol_demo_facilities",
    "load_demo_reference",
]

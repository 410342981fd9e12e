"""Reallocation: each UIEPE's waiting applications get attestations strictly in protocol order
while places and coverage last (art. 12 co. 4-5 and 9, art. 13 co. 6 D.M. 128/2025).

One attestation per transaction. Each one locks the UIEPE's allocation row first (PostgreSQL;
SQLite's BEGIN IMMEDIATE already serializes writers), so two reallocations of one UIEPE take
turns and see each other's reservations; the database's partial unique indexes are the last
word on "one holder per place". The attestation is transmitted to the court in the same
transaction. Deterministic (the head of the queue, the first usable place by a fixed order)
and idempotent: a second run finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from machines.calendar import rome_date
from machines.placements import DM
from services import engine
from services.context import Context
from services.errors import UnknownReferenceData
from services.placements.effects import max_cost
from storage.placements.repository import FreePlace, PlacementRepository
from storage.repository import VersionConflict

ACTOR = "uiepe:riassegnazione"
TOPIC = "reallocate"  # a place was freed: its UIEPE's queue is served at once
QUEUE_TOPIC = "queue"  # an application joined the queue: served by the next scheduled run


@dataclass(frozen=True)
class Attested:
    reference: str
    office: str
    facility: str
    convention: str
    place: int
    protocol_number: int
    reassigned_from: str | None  # the case whose place this was, if it was freed


def attested_row(attested: Attested) -> dict[str, Any]:
    """An attestation as the artifacts and the CLI list it (Italian columns)."""
    return {
        "pratica": attested.reference,
        "UIEPE": attested.office,
        "protocollo": attested.protocol_number,
        "struttura": attested.facility,
        "posto": f"{attested.convention}/{attested.place}",
        "posto liberato da": attested.reassigned_from or "",
    }


@dataclass
class ReallocationReport:
    attested: list[Attested] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)  # office -> applications left queued
    # office -> why its queue stopped, in Italian with its article (the CLI and the
    # reallocate-freed-places flow show it as it is)
    stopped_by: dict[str, str] = field(default_factory=dict)
    signals: int = 0  # reallocate outbox rows consumed


def reallocate(
    ctx: Context,
    offices: list[str] | None = None,
    progress: Callable[[Attested], None] | None = None,
) -> ReallocationReport:
    """Serve the queues of `offices` (codes; None: every UIEPE with a queue)."""
    report = ReallocationReport()
    with ctx.read() as uow:
        repo = PlacementRepository.of(uow)
        if offices is None:
            ids = list(repo.offices_with_queue())
        else:
            ids = []
            for code in offices:
                office = repo.office(code)
                if office is None:
                    raise UnknownReferenceData(
                        f"UIEPE '{code}' non presente nei dati di riferimento"
                    )
                ids.append(office.id)
    for office_id in ids:
        _serve(ctx, office_id, report, progress)
    return report


def reallocate_signalled(
    ctx: Context, progress: Callable[[Attested], None] | None = None
) -> ReallocationReport:
    """Serve the UIEPEs whose queues a change signalled (a place freed, an application
    admitted), then mark those signals done. A crash before that leaves them pending: the next
    run serves the same queues again, which changes nothing already done."""
    with ctx.read() as uow:
        signals = PlacementRepository.of(uow).pending_signals(TOPIC, QUEUE_TOPIC)
    office_codes = sorted({code for _, code in signals})
    report = reallocate(ctx, office_codes, progress) if office_codes else ReallocationReport()
    with ctx.uow() as uow:
        uow.repo.mark_outbox_done_many([message_id for message_id, _ in signals], ctx.clock.now())
        uow.commit()
    report.signals = len(signals)
    return report


def _serve(
    ctx: Context,
    office_id: int,
    report: ReallocationReport,
    progress: Callable[[Attested], None] | None,
) -> None:
    while True:
        with ctx.uow() as uow:
            repo = PlacementRepository.of(uow)
            office = repo.office_by_id(office_id)
            today = rome_date(ctx.clock.now())
            allocation = repo.allocation(today.year, office_id, lock=True)
            head = repo.queue(office_id, limit=1)
            if not head:
                report.waiting[office.code] = 0
                return
            if allocation is None:
                report.stopped_by[office.code] = (
                    f"nessuna assegnazione di fondi per il {today.year} (art. 13 co. 1 {DM})"
                )
                report.waiting[office.code] = len(repo.queue(office_id))
                return
            application, reference = head[0]
            available = allocation.amount - repo.usage(today.year, office_id).committed
            places = repo.free_places(office_id, today)
            chosen = _first_covered(places, available)
            if chosen is None:
                report.stopped_by[office.code] = _stopped(places, available)
                report.waiting[office.code] = len(repo.queue(office_id))
                return
            freed = repo.last_release_of(chosen.convention.id, chosen.place)
            freed_from = None if freed is None else uow.repo.case_by_id(freed.case_id).reference
            payload = {
                "convention": chosen.convention.code,
                "facility": chosen.facility.code,
                "place": chosen.place,
            }
            # Keyed by the case's version: an application requeued after its facility was
            # cancelled is attested again, under a new key.
            case = uow.repo.case_for_update(reference)
            key = f"{reference}@{0 if case is None else case.version}"
            try:
                engine.fire_in(ctx, uow, reference, "attest", ACTOR, payload, f"attest:{key}")
                engine.fire_in(ctx, uow, reference, "transmit", ACTOR, {}, f"transmit:{key}")
            except VersionConflict:
                continue  # the case moved meanwhile (withdrawn?): look at the queue again
            uow.commit()
            assert application.protocol_number is not None
            attested = Attested(
                reference=reference,
                office=office.code,
                facility=chosen.facility.code,
                convention=chosen.convention.code,
                place=chosen.place,
                protocol_number=application.protocol_number,
                reassigned_from=freed_from,
            )
        report.attested.append(attested)
        if progress is not None:
            progress(attested)


def _stopped(places: list[FreePlace], available: Decimal) -> str:
    """Why no place can be attested: none free in a convention in force with a usable
    facility (art. 12 co. 4), or none whose maximum cost the allocation covers (art. 13 co. 6)."""
    if not places:
        return f"nessun posto libero in convenzione (art. 12 co. 4 {DM})"
    needed = min(max_cost(p.convention.daily_rate) for p in places)
    return (
        f"l'assegnazione non copre il costo di un posto: restano EUR {available}, il posto libero "
        f"meno costoso ne impegna EUR {needed} (art. 13 co. 6 {DM})"
    )


def _first_covered(places: list[FreePlace], available: Decimal) -> FreePlace | None:
    """The first free place, in the order `free_places` gives, whose maximum cost the
    allocation still covers (art. 13 co. 6)."""
    return next((p for p in places if max_cost(p.convention.daily_rate) <= available), None)

"""Each UIEPE's day, as the Prefect UI and `misure placement dashboard` show it: places
reserved, occupied and free, the queue in protocol order, the budget, and the days of current
stays the facilities have not reported (not paid, art. 13 co. 5 D.M. 128/2025). References
only: no names, no tax codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from documents.render import data_it, data_ora_it, euro
from machines.calendar import rome_date
from services.context import Context
from services.placements import budget
from services.placements.effects import attendance
from storage.placements.models import ReservationStatus
from storage.placements.repository import PlacementRepository


@dataclass(frozen=True)
class Waiting:
    protocol: str
    reference: str
    registered_at: datetime


@dataclass(frozen=True)
class Dashboard:
    """A UIEPE's day: places and who waits for them, and its money this year."""

    office: str
    name: str
    places: int  # in conventions in force with usable facilities
    reserved: int  # attested, awaiting the court or the entry
    occupied: int
    free: int
    queue: list[Waiting]
    allocated: Decimal
    committed: Decimal
    spent: Decimal
    # Days of current stays, from the entry to yesterday (never past the last funded day), that
    # the facility has not reported: not paid until reported present (art. 13 co. 5 D.M.
    # 128/2025).
    unreported: int = 0


def dashboards(ctx: Context) -> list[Dashboard]:
    today = rome_date(ctx.clock.now())
    offices, _ = budget.figures(ctx, today.year)
    money = {figures.scope: figures for figures in offices}
    found = []
    with ctx.read() as uow:
        repo = PlacementRepository.of(uow)
        for office in repo.offices():
            usable = [
                c
                for c in repo.conventions(office.id)
                if c.valid_from <= today <= c.valid_until
                and (c.ended_on is None or today < c.ended_on)
                and (f := repo.facility_by_id(c.facility_id)).registered
                and not f.suspended
            ]
            held = repo.reservations_of(office.id, ReservationStatus.ACTIVE)
            occupied = sum(r.entered_on is not None for r in held)
            unreported = sum(
                len(attendance(r, repo.presences(r.id), today).unreported)
                for r in held
                if r.entered_on is not None
            )
            places = sum(c.places for c in usable)
            queue = [
                Waiting(a.protocol, reference, a.protocol_at)
                for a, reference in repo.queue(office.id)
                if a.protocol is not None and a.protocol_at is not None
            ]
            figures = money[office.code]
            found.append(
                Dashboard(
                    office=office.code,
                    name=office.name,
                    places=places,
                    reserved=len(held) - occupied,
                    occupied=occupied,
                    free=max(places - len(held), 0),
                    queue=queue,
                    allocated=figures.allocated,
                    committed=figures.committed,
                    spent=figures.spent,
                    unreported=unreported,
                )
            )
    return found


def dashboard_markdown(board: Dashboard, today: date) -> str:
    lines = [
        f"# {board.name}",
        f"Situazione al {data_it(today)}",
        "",
        "| posti in convenzione | riservati | occupati | liberi |",
        "|---|---|---|---|",
        f"| {board.places} | {board.reserved} | {board.occupied} | {board.free} |",
        "",
        "| assegnato | impegnato | speso | disponibile |",
        "|---|---|---|---|",
        f"| {euro(board.allocated)} | {euro(board.committed)} | {euro(board.spent)} | "
        f"{euro(board.allocated - board.committed - board.spent)} |",
        "",
        "Giorni di permanenza in corso non rilevati dalla struttura fino a ieri (non liquidati, "
        f"art. 13 co. 5 D.M. 128/2025): {board.unreported}",
        "",
        f"## Istanze in attesa, in ordine di protocollo ({len(board.queue)})",
        "",
    ]
    if board.queue:
        lines += ["| # | protocollo | pratica | acquisita il |", "|---|---|---|---|"]
        lines += [
            f"| {n} | {w.protocol} | {w.reference} | {data_ora_it(w.registered_at)} |"
            for n, w in enumerate(board.queue, 1)
        ]
    else:
        lines.append("Nessuna istanza in attesa.")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

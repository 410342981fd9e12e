"""What staff read of the system in the Prefect UI: a case's status page and each UIEPE's
daily dashboard, as markdown. Pseudonymous references only: no names, no tax codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from documents.render import data_it, data_ora_it, euro
from machines.calendar import rome_date
from machines.diagram import mermaid
from services import budget, engine
from services.context import Context
from services.reservations import attendance
from storage.models import ReservationStatus


def case_status_markdown(ctx: Context, reference: str) -> str:
    """State, what can happen now (and why not), pending timers in Italian time, the full
    history and the machine's diagram with the current state highlighted."""
    detail = engine.describe(ctx, reference)
    case, machine = detail.case, ctx.machine(detail.case.kind)
    lines = [
        f"# Pratica {case.reference}",
        f"*{machine.label(case.kind)}*",
        "",
        f"**Stato attuale:** `{detail.state}` — {machine.label(detail.state)}  ",
        f"versione {case.version}, aggiornata il {data_ora_it(case.updated_at)}",
    ]
    for passed in detail.passed_terms:
        lines.append(
            f"\n> Termine **{machine.label(passed.timer)}** scaduto il "
            f"{data_ora_it(passed.due_at)}: `{passed.trigger}` → `{passed.to_state}` con "
            "effetto da quell'istante (non ancora registrato)."
        )
    if detail.facts:
        lines += ["", "## Dati della pratica", "| dato | valore |", "|---|---|"]
        lines += [
            f"| {name} | {_cell(str(value))} |"
            for name, value in detail.facts.items()
            if value is not None
        ]
    lines += [
        "",
        "## Cosa può accadere ora",
        "| evento | porta a | ammesso | perché no |",
        "|---|---|---|---|",
    ]
    for verdict in detail.verdicts:
        if verdict.dest is None:
            continue  # not a move from this state: listed in the diagram
        why = "; ".join(verdict.reasons) or "—"
        allowed = "sì" if verdict.allowed else "no"
        lines.append(
            f"| {machine.label(verdict.trigger)} (`{verdict.trigger}`) | "
            f"`{verdict.dest}` | {allowed} | {_cell(why)} |"
        )
    lines += ["", "## Termini in corso", ""]
    if detail.pending_timers:
        lines += [
            "| termine | ultimo giorno | scatta (ora italiana) | alla scadenza | computo |",
            "|---|---|---|---|---|",
        ]
        lapsed = {p.timer for p in detail.passed_terms}
        for timer in (t for t in detail.pending_timers if t.name not in lapsed):
            then = timer.fires or f"avviso {timer.notice}"
            last_day = rome_date(timer.due_at - timedelta(microseconds=1))
            lines.append(
                f"| {machine.label(timer.name)} | {data_it(last_day)} | "
                f"{data_ora_it(timer.due_at)} | `{then}` | {_cell(timer.legal_basis)} |"
            )
    else:
        lines.append("Nessun termine in corso.")
    lines += [
        "",
        "## Storico",
        "| # | data e ora | evento | da | a | attore | base normativa |",
        "|---|---|---|---|---|---|---|",
    ]
    for event in detail.history:
        lines.append(
            f"| {event.sequence} | {data_ora_it(event.effective_at)} | "
            f"{machine.label(event.trigger)} | `{event.from_state or '—'}` | `{event.to_state}` | "
            f"{_cell(event.actor)} | {_cell(event.legal_basis)} |"
        )
    lines += ["", "## Diagramma", "", "```mermaid", mermaid(machine, detail.state), "```", ""]
    return "\n".join(lines)


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
    with ctx.uow() as uow:
        repo = uow.placements
        for office in repo.offices():
            usable = [
                c
                for c in repo.conventions(office.id)
                if c.valid_from <= today <= c.valid_until
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
                Waiting(f"{a.protocol_number}/{a.protocol_year}", reference, a.protocol_at)
                for a, reference in repo.queue(office.id)
                if a.protocol_at is not None
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

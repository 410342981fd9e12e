"""The yearly appropriation of funded placements (art. 13 D.M. 128/2025; art. 8 co. 6 D.L.
92/2024): its split among UIEPEs, the quarterly monitoring, and the Directorate's stop on new
applications when the national limit is reached, even prospectively (art. 13 co. 7)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from documents.render import data_it, euro, render_notice
from machines.calendar import rome_date
from machines.placements.funding import split_pro_rata
from services.context import Context
from services.errors import BudgetRefused, InvalidInput
from services.placements.effects import max_cost
from services.placements.notices import TEMPLATES
from services.placements.reallocation import Attested, reallocate
from services.placements.reference import DEFAULT_APPROPRIATION, budget_year
from storage.placements.models import Allocation, BudgetYear, Report
from storage.placements.repository import PlacementRepository

NATIONAL = "NAZIONALE"
MONITORING = "monitoraggio_trimestrale"


@dataclass(frozen=True)
class Share:
    office: str
    detainees: int
    amount: Decimal


@dataclass(frozen=True)
class Split:
    shares: list[Share]
    attested: list[Attested]  # waiting applications the new money covered at once


def split(ctx: Context, year: int, appropriation: Decimal | str | None = None) -> Split:
    """Split `year`'s appropriation (given, or as recorded, else EUR 7,000,000) among the
    UIEPEs in proportion to their detainees, to the cent (art. 13 co. 1). Running it again
    during the year re-splits (co. 7); a UIEPE is never given less than it already holds.
    Money that becomes available serves the waiting applications at once (art. 12 co. 5).
    The year and the amount are bounded as `ref load` bounds them."""
    checked = budget_year(year, appropriation)
    amount = checked.appropriation if appropriation is not None else None
    shares = _split(ctx, checked.year, amount)
    return Split(shares, reallocate(ctx).attested)


def _split(ctx: Context, year: int, appropriation: Decimal | None) -> list[Share]:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        repo = PlacementRepository.of(uow)
        budget = repo.budget_year(year, lock=True)
        amount = appropriation
        if amount is None:
            amount = budget.appropriation if budget is not None else DEFAULT_APPROPRIATION
        repo.upsert(BudgetYear, {"year": year}, {"appropriation": amount})
        offices = repo.offices()
        if not offices:
            raise InvalidInput("nessun UIEPE nei dati di riferimento: non c'è nulla da ripartire")
        try:
            parts = split_pro_rata(amount, {office.code: office.detainees for office in offices})
        except ValueError as error:
            raise InvalidInput(f"impossibile ripartire EUR {amount}: {error}") from error
        short = [
            f"{office.code} ha già impegnato EUR {held}, più della nuova quota di EUR "
            f"{parts[office.code]}"
            for office in offices
            if (held := repo.usage(year, office.id).committed) > parts[office.code]
        ]
        if short:
            raise BudgetRefused(
                "nuova ripartizione rifiutata: a un UIEPE non si assegna meno di quanto ha già "
                f"impegnato (art. 13 co. 7 D.M. 128/2025): {'; '.join(short)}"
            )
        for office in offices:
            repo.upsert(
                Allocation,
                {"year": year, "office_id": office.id},
                {"amount": parts[office.code], "detainees": office.detainees, "split_at": now},
            )
        uow.commit()
        return [Share(o.code, o.detainees, parts[o.code]) for o in offices]


@dataclass(frozen=True)
class Figures:
    """Money of one UIEPE (or the nation) in a year, as the quarterly monitoring reports it."""

    scope: str
    allocated: Decimal
    committed: Decimal  # held by places not yet paid: reserved, or occupied and still to run
    spent: Decimal  # days of presence x rate
    projected: Decimal  # spent + committed: what the year costs if every held place is used
    reserved: int  # places attested, awaiting the court or the entry
    occupied: int
    waiting: int  # applications queued for a place

    @property
    def available(self) -> Decimal:
        return self.allocated - self.spent - self.committed


@dataclass(frozen=True)
class Monitoring:
    year: int
    quarter: int
    offices: list[Figures]
    national: Figures
    appropriation: Decimal
    stop: str | None  # why new applications are stopped, if they are


def figures(ctx: Context, year: int) -> tuple[list[Figures], Figures]:
    with ctx.read() as uow:
        return _figures(PlacementRepository.of(uow), year)


def monitor(ctx: Context, year: int, quarter: int) -> Monitoring:
    """The quarterly monitoring (art. 13 co. 7): per UIEPE and national figures, stored as
    reports with their documents (once per quarter: a second run returns the first). When the
    projection leaves less than one more placement at the cheapest rate in force, the national
    limit is reached prospectively and new applications are stopped (co. 7)."""
    if quarter not in (1, 2, 3, 4):
        raise InvalidInput(f"trimestre {quarter} non valido: da 1 a 4")
    now = ctx.clock.now()
    period = f"{year}-Q{quarter}"
    with ctx.uow() as uow:
        repo = PlacementRepository.of(uow)
        budget = repo.budget_year(year, lock=True)
        if budget is None:
            raise InvalidInput(f"nessuno stanziamento registrato per il {year}")
        offices, national = _figures(repo, year)
        stop = budget.stop_reason if budget.stopped_at is not None else None
        cheapest = repo.cheapest_rate(rome_date(now))
        left = budget.appropriation - national.projected
        if stop is None and (cheapest is None or left < max_cost(cheapest)):
            stop = (
                f"monitoraggio {period}: proiezione di spesa {euro(national.projected)} su "
                f"{euro(budget.appropriation)}; residuo {euro(left)} insufficiente per "
                "un'ulteriore permanenza finanziata"
            )
            repo.stop(year, now, stop)
        if repo.report(MONITORING, period, NATIONAL) is None:
            for scope in [*offices, national]:
                context = {
                    "period": period,
                    "year": year,
                    "quarter": quarter,
                    "figures": scope,
                    "offices": offices if scope is national else [scope],
                    "national": national,
                    "appropriation": budget.appropriation,
                    "stop": stop,
                    "emesso_il": now,
                    "ufficio": "Direzione generale per l'esecuzione penale esterna e di messa "
                    "alla prova",
                    "numero": f"MON-{period}-{scope.scope}",
                    "luogo_data": f"Roma, {data_it(now)}",
                }
                rendered = render_notice(MONITORING, context, (TEMPLATES,))
                repo.add_report(
                    Report(
                        kind=MONITORING,
                        period=period,
                        scope=scope.scope,
                        figures=_json(scope),
                        html=rendered.html,
                        pdf=rendered.pdf,
                        sha256=rendered.sha256,
                        created_at=now,
                    )
                )
        uow.commit()
        return Monitoring(year, quarter, offices, national, budget.appropriation, stop)


def lift_stop(ctx: Context, year: int) -> None:
    """The Directorate lets the UIEPEs accept new applications again."""
    with ctx.uow() as uow:
        if PlacementRepository.of(uow).budget_year(year, lock=True) is None:
            raise InvalidInput(f"nessuno stanziamento registrato per il {year}")
        PlacementRepository.of(uow).stop(year, None, None)
        uow.commit()


def stop(ctx: Context, year: int, reason: str) -> None:
    """The Directorate stops new applications (art. 13 co. 7)."""
    if not reason.strip():
        raise InvalidInput(
            "per sospendere le nuove istanze serve il motivo (art. 13 co. 7 D.M. 128/2025)"
        )
    with ctx.uow() as uow:
        if PlacementRepository.of(uow).budget_year(year, lock=True) is None:
            raise InvalidInput(f"nessuno stanziamento registrato per il {year}")
        PlacementRepository.of(uow).stop(year, ctx.clock.now(), reason)
        uow.commit()


@dataclass(frozen=True)
class StoredReport:
    """A monitoring report as stored: its scope (a UIEPE's code or NAZIONALE) and its PDF."""

    kind: str
    period: str
    scope: str
    sha256: str
    pdf: bytes


def monitoring_reports(ctx: Context, year: int, quarter: int) -> list[StoredReport]:
    with ctx.read() as uow:
        return [
            StoredReport(r.kind, r.period, r.scope, r.sha256, r.pdf)
            for r in PlacementRepository.of(uow).reports(MONITORING, f"{year}-Q{quarter}")
        ]


def _figures(repo: PlacementRepository, year: int) -> tuple[list[Figures], Figures]:
    rows = []
    for office in repo.offices():
        allocation = repo.allocation(year, office.id)
        usage = repo.usage(year, office.id)
        states = repo.state_counts(office.id)
        rows.append(
            Figures(
                scope=office.code,
                allocated=allocation.amount if allocation else Decimal("0.00"),
                committed=usage.outstanding,
                spent=usage.spent,
                projected=usage.committed,
                reserved=sum(states.get(s, 0) for s in ("attested", "at_court", "granted")),
                occupied=states.get("placed", 0),
                waiting=states.get("queued", 0),
            )
        )
    national = Figures(
        scope=NATIONAL,
        allocated=sum((r.allocated for r in rows), Decimal("0.00")),
        committed=sum((r.committed for r in rows), Decimal("0.00")),
        spent=sum((r.spent for r in rows), Decimal("0.00")),
        projected=sum((r.projected for r in rows), Decimal("0.00")),
        reserved=sum(r.reserved for r in rows),
        occupied=sum(r.occupied for r in rows),
        waiting=sum(r.waiting for r in rows),
    )
    return rows, national


def _json(figures: Figures) -> dict[str, object]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(figures).items()}

"""A year of funded placements for every UIEPE, simulated day by day through the real services
on an injected clock: fictional reference data, applications arriving at the prisons, court
decisions arriving late or never, stays ending early or at eight months.

For planning (does the appropriation last the year? how many attestations lapse?) and as the
workload that shows the system holds a national year; never run it on a live database.
"""

from __future__ import annotations

import random
import re
import time
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from machines.calendar import ROME, rome_date
from machines.placements import EQUIPE_PARAMETERS, REQUIREMENTS
from services import engine, letterheads, schema, timers
from services.clock import FixedClock
from services.context import Context
from services.errors import DomainError, InvalidInput
from services.placements import actors as placements
from services.placements import budget, reallocation, reference
from services.placements.actors import Outcome
from services.placements.procedure import MODULES
from services.procedure import PARTIES
from storage.database import make_engine
from storage.placements.models import Prison
from storage.placements.repository import PlacementRepository

# Eleven fictional UIEPEs with detainee counts in the proportions of the Italian territories.
OFFICES = (
    ("TO", "Torino", "Piemonte, Liguria e Valle d'Aosta", 7600),
    ("MI", "Milano", "Lombardia", 8700),
    ("VE", "Venezia", "Veneto, Friuli Venezia Giulia e Trentino-Alto Adige", 3900),
    ("BO", "Bologna", "Emilia-Romagna e Marche", 4300),
    ("FI", "Firenze", "Toscana e Umbria", 4000),
    ("RM", "Roma", "Lazio, Abruzzo e Molise", 8300),
    ("NA", "Napoli", "Campania", 7500),
    ("BA", "Bari", "Puglia e Basilicata", 4600),
    ("CZ", "Catanzaro", "Calabria", 3000),
    ("PA", "Palermo", "Sicilia", 6700),
    ("CA", "Cagliari", "Sardegna", 2100),
)
COURT = "Tribunale di sorveglianza di {}"
CITIES = {f"UIEPE-{code}": city for code, city, *_ in OFFICES}


def national_reference(
    year: int, rng: random.Random, last_year: int | None = None
) -> dict[str, Any]:
    """Fictional reference data: the eleven UIEPEs, two prisons each, and for each UIEPE
    facilities under convention with about one reserved place per 150 detainees."""
    document: dict[str, Any] = {
        "offices": [],
        "prisons": [],
        "facilities": [],
        "conventions": [],
        "budget_years": [{"year": y} for y in range(year, (last_year or year) + 1)],
    }
    for code, city, territory, detainees in OFFICES:
        office = f"UIEPE-{code}"
        document["offices"].append(
            {
                "code": office,
                "name": f"Ufficio interdistrettuale di esecuzione penale esterna di {city}",
                "place": city,
                "territory": territory,
                "detainees": detainees,
            }
        )
        for n in (1, 2):
            document["prisons"].append(
                {
                    "code": f"CC-{code}-{n}",
                    "name": f"Casa circondariale {city} {n}",
                    "office": office,
                }
            )
        places = max(4, detainees // 150)
        n = 0
        while places > 0:
            n += 1
            size = min(places, rng.randint(2, 6))
            places -= size
            facility = f"FAC-{code}-{n}"
            document["facilities"].append(
                {
                    "code": facility,
                    "name": f"Comunità residenziale {city} {n}",
                    "operator": f"Cooperativa sociale Accoglienza {city} {n}",
                    "address": f"Via dei Mille {n}, {city}",
                    "section": territory.split(",")[0].split(" e ")[0],
                }
            )
            document["conventions"].append(
                {
                    "code": f"CONV-{code}-{n}",
                    "office": office,
                    "facility": facility,
                    "daily_rate": f"{rng.randint(35, 70)}.00",
                    "places": size,
                    "valid_from": f"{year}-01-01",
                    "valid_until": f"{(last_year or year) + 1}-12-31",
                }
            )
    return document


ASSESSMENT: dict[str, Any] = {
    **dict.fromkeys(REQUIREMENTS, True),
    "equipe_report": dict.fromkeys(EQUIPE_PARAMETERS, True),
    "cohabitants": 0,
}


@dataclass
class YearReport:
    year: int
    applications: int = 0
    events: dict[str, int] = field(default_factory=dict)  # transitions made, by trigger
    reassigned: int = 0  # attestations of a place another case had freed
    refusals: dict[str, int] = field(default_factory=dict)  # service refusals, by error code
    states: dict[str, int] = field(default_factory=dict)  # cases by state at year end
    places: int = 0
    occupancy_mean: float = 0.0  # occupied places / places, mean over the days
    occupancy_peak: float = 0.0
    allocated: Decimal = Decimal("0.00")
    committed: Decimal = Decimal("0.00")
    spent: Decimal = Decimal("0.00")
    stopped_on: str | None = None  # the quarter end whose monitoring stopped new applications
    service_calls: int = 0
    seconds: float = 0.0


Step = Callable[[], None]


class _Year:
    """The calendar of things to do: day -> steps, run at 10:00 Italian time."""

    def __init__(self, ctx: Context, clock: FixedClock, year: int, seed: int) -> None:
        self.ctx, self.clock, self.year = ctx, clock, year
        self.rng = random.Random(seed)
        self.agenda: dict[date, list[Step]] = defaultdict(list)
        self.report = YearReport(year)
        self.refusals: Counter[str] = Counter()

    def at(self, day: date, step: Step) -> None:
        self.agenda[day].append(step)

    def call(self, action: Callable[..., Any], *args: Any) -> Any:
        """A service call as the actor makes it; a refusal (a late decision...) is counted,
        never hidden."""
        self.report.service_calls += 1
        try:
            return action(self.ctx, *args)
        except DomainError as error:
            self.refusals[error.code] += 1
            return None


def simulate_year(
    ctx: Context,
    clock: FixedClock,
    year: int,
    applications: int,
    seed: int = 1,
    progress: Callable[[date], None] | None = None,
) -> YearReport:
    """Run `year` on an empty database: load the reference data, split the default
    appropriation, and drive `applications` applications through the services."""
    return simulate(
        ctx, clock, date(year, 1, 2), date(year, 12, 31), applications, seed, progress, 330
    )


def load_demo(
    ctx: Context,
    clock: FixedClock,
    today: date,
    seed: int = 1,
    applications: int = 800,
    days: int = 90,
) -> YearReport:
    """A realistic demo ending yesterday: `days` (90) days of applications at the national
    yearly pace, so that cases are at every stage, some UIEPEs have queues and some
    attestations are about to lapse. Fictional data only."""
    return simulate(
        ctx, clock, today - timedelta(days=days), today - timedelta(days=1), applications, seed
    )


def simulate_on(
    url: str,
    year: int,
    applications: int,
    seed: int,
    progress: Callable[[date], None] | None = None,
) -> YearReport:
    """`simulate_year` on the database at `url`, which must hold no case: migrated, run on
    its own clock, closed."""
    clock = FixedClock(datetime(year, 1, 1, tzinfo=UTC))
    ctx = Context.build(make_engine(url), clock, MODULES)
    try:
        schema.upgrade(ctx.db, ctx.migration_folders, ctx.table_modules)
        if engine.has_cases(ctx):
            raise InvalidInput(
                "la simulazione richiede un database vuoto: questo contiene già pratiche",
                "database_url",
            )
        return simulate_year(ctx, clock, year, applications, seed, progress)
    finally:
        ctx.db.dispose()


def demo(ctx: Context, applications: int = 800, days: int = 90) -> str:
    """The procedure's demo for `misure stack` (an empty database): `load_demo` up to the
    context's day, then the letterheads and PEC addresses its notices need
    (`load_demo_reference`); what it loaded, in one line. `applications` and `days` make a
    smaller demo (tests)."""
    clock = ctx.clock
    if not isinstance(clock, FixedClock):
        raise TypeError("the demo moves the clock: give the context a FixedClock")
    report = load_demo(ctx, clock, rome_date(clock.now()), applications=applications, days=days)
    letterheads_, addressees_ = load_demo_reference(ctx)
    return (
        f"attestazioni: {days} giorni di istanze fittizie per {len(OFFICES)} UIEPE in "
        f"{report.seconds} s: {report.states}; carta intestata di {letterheads_} uffici, "
        f"PEC di {addressees_} destinatari"
    )


DEMO_REFERENCE = Path(__file__).with_name("demo_reference.toml")


def load_demo_reference(ctx: Context, path: Path = DEMO_REFERENCE) -> tuple[int, int]:
    """What the demo's notices need to be full acts, built from the rows the demo created and
    completed by the fictional data of `path`: each UIEPE's letterhead and signatory, the PEC
    of each party its cases have (the UIEPE, the court of its city the applications are
    filed before, its prisons, the facilities and their operators, the Directorate-general).
    A letterhead or an address already registered is kept (a demo never overwrites reference
    data). How many letterheads and addressees it added."""
    fixed = tomllib.loads(path.read_text(encoding="utf-8"))
    ministry, operators = fixed["ministry_domain"], fixed["operator_domain"]
    known_heads = {head.office for head in letterheads.letterheads(ctx)}
    known = letterheads.addressees(ctx)
    heads: list[dict[str, Any]] = []
    pecs: dict[str, str] = {PARTIES["directorate"]: fixed["directorate"]["pec"]}
    with ctx.read() as uow:
        repo = PlacementRepository.of(uow)
        for office in repo.offices():
            seat = {**fixed["default_office"], **fixed["offices"].get(office.place, {})}
            pec = f"{fixed['office_prefix']}.{_mailbox(office.place)}@{ministry}"
            heads.append(
                {
                    "office": office.code,
                    "name": office.name,
                    "address": f"{seat['street']}, {seat['postcode']} {office.place}",
                    "pec": pec,
                    "phone": seat["phone"],
                    "signer_name": seat["signer_name"],
                    "signer_role": seat["signer_role"],
                    "place": office.place,
                }
            )
            pecs[office.name] = pec
            court = f"{fixed['court_prefix']}.{_mailbox(office.place)}@{ministry}"
            pecs[COURT.format(office.place)] = court
        for prison in repo.session.scalars(select(Prison).order_by(Prison.code)):
            pecs[prison.name] = f"{_mailbox(prison.name)}@{ministry}"
        for facility in repo.facilities():
            # The operator receives the acts addressed to its facility.
            pec = f"{_mailbox(facility.operator)}@{operators}"
            pecs.setdefault(facility.operator, pec)
            pecs.setdefault(facility.name, pec)
    added_heads = [head for head in heads if head["office"] not in known_heads]
    for head in added_heads:
        letterheads.set_letterhead(ctx, head)
    added = {name: pec for name, pec in pecs.items() if name not in known}
    for name, pec in added.items():
        letterheads.set_addressee(ctx, name, pec)
    return len(added_heads), len(added)


def _mailbox(name: str) -> str:
    """`name` as the local part of a PEC address: ASCII, lower case, words joined by dots."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ".".join(re.findall(r"[a-z0-9]+", ascii_.lower()))


def simulate(
    ctx: Context,
    clock: FixedClock,
    first: date,
    last: date,
    applications: int,
    seed: int = 1,
    progress: Callable[[date], None] | None = None,
    filing_days: int | None = None,
) -> YearReport:
    """Load the reference data and split the appropriations of the years from `first` to
    `last`, then run those days, `applications` filed over the first `filing_days` of them."""
    started = time.perf_counter()
    sim = _Year(ctx, clock, first.year, seed)
    rng = sim.rng
    document = national_reference(first.year, rng, last.year)
    clock.instant = _ten(first)  # the facilities are on the register from the first day
    reference.load(ctx, document)
    enrol = ctx.provided("enrol_demo_facilities")  # where a register of facilities runs
    if enrol is not None:
        enrol(ctx, document["facilities"])
    for year in range(first.year, last.year + 1):
        clock.instant = _ten(max(first, date(year, 1, 1)))
        budget.split(ctx, year)
    weights = [detainees for *_, detainees in OFFICES]
    span = filing_days or (last - first).days + 1
    for _ in range(applications):
        office = rng.choices(OFFICES, weights)[0]
        day = first + timedelta(days=rng.randrange(0, span))
        sim.at(day, _filing(sim, office[0], office[1]))
    day = first
    occupancy: list[float] = []
    with ctx.read() as uow:
        places = sum(c.places for c in PlacementRepository.of(uow).conventions())
    while day <= last:
        clock.instant = _midnight(day)
        timers.sweep(ctx, clock.now())  # the legal terms lapse at 00:00
        clock.instant = _ten(day)
        for step in sim.agenda.pop(day, []):
            step()
        for attested in reallocation.reallocate_signalled(ctx).attested:
            _attested(sim, attested)
        if day.month in (3, 6, 9, 12) and (day + timedelta(days=1)).month != day.month:
            monitoring = budget.monitor(ctx, day.year, day.month // 3)
            if monitoring.stop and sim.report.stopped_on is None:
                sim.report.stopped_on = day.isoformat()
        with ctx.read() as uow:
            occupied = PlacementRepository.of(uow).state_counts().get("placed", 0)
        occupancy.append(occupied / places)
        if progress is not None:
            progress(day)
        day += timedelta(days=1)
    report = sim.report
    report.places = places
    report.occupancy_mean = round(sum(occupancy) / len(occupancy), 3)
    report.occupancy_peak = round(max(occupancy), 3)
    _, national = budget.figures(ctx, last.year)
    report.allocated, report.committed, report.spent = (
        national.allocated,
        national.committed,
        national.spent,
    )
    with ctx.read() as uow:
        report.states = dict(sorted(PlacementRepository.of(uow).state_counts().items()))
        report.events = dict(sorted(PlacementRepository.of(uow).trigger_counts().items()))
    report.refusals = dict(sorted(sim.refusals.items()))
    report.seconds = round(time.perf_counter() - started, 1)
    return report


def _filing(sim: _Year, office: str, city: str) -> Step:
    def step() -> None:
        rng = sim.rng
        prison = f"CC-{office}-{rng.randint(1, 2)}"
        filed = sim.call(placements.file_application, prison, COURT.format(city), "istituto")
        if filed is None:
            return
        sim.report.applications += 1
        reference_ = filed.reference
        income = "15000.00" if rng.random() < 0.08 else f"{rng.randint(0, 12000)}.00"
        result = sim.call(
            placements.director_review,
            reference_,
            {**ASSESSMENT, "taxable_income": income},
            "direttore",
        )
        if result is None or result.to_state == "refused":
            sim.at(_today(sim) + timedelta(days=3), lambda: _close(sim, reference_))
            return

        def intake() -> None:
            registered = sim.call(placements.intake, reference_, "uiepe")
            if registered is None or registered.to_state == "refused":
                return
            compliant = rng.random() > 0.04
            checked = sim.call(
                placements.formal_check,
                reference_,
                compliant,
                "uiepe",
                None if compliant else "documentazione incompleta",
            )
            if checked is not None and checked.to_state == "queued" and rng.random() < 0.05:
                sim.at(
                    _today(sim) + timedelta(days=rng.randint(5, 60)),
                    lambda: _withdraw(sim, reference_),
                )

        sim.at(_today(sim) + timedelta(days=rng.randint(1, 5)), intake)

    return step


def _attested(sim: _Year, attested: reallocation.Attested) -> None:
    rng = sim.rng
    sim.report.reassigned += attested.reassigned_from is not None
    reference_ = attested.reference
    delay = rng.randint(5, 75)  # beyond two months the attestation will have lapsed first
    outcome = Outcome.GRANTED if rng.random() < 0.75 else Outcome.REJECTED
    decided_on = _today(sim) + timedelta(days=delay)
    court = COURT.format(CITIES[attested.office])

    def decide() -> None:
        result = sim.call(
            placements.record_decision, reference_, outcome, decided_on, court, "cancelleria"
        )
        if result is None:  # late: the attestation lapsed first
            return
        if outcome is Outcome.REJECTED:
            sim.at(decided_on + timedelta(days=2), lambda: _close(sim, reference_))
            return
        sim.at(decided_on + timedelta(days=rng.randint(1, 10)), lambda: _enter(sim, reference_))

    sim.at(decided_on, decide)


def _enter(sim: _Year, reference_: str) -> None:
    if sim.call(placements.record_entry, reference_, True, "struttura") is None:
        return
    rng = sim.rng
    entered = _today(sim)
    stay = rng.randint(20, 240) if rng.random() < 0.35 else None  # None: to the 8-month end
    for month in range(1, 9):
        sim.at(
            entered + timedelta(days=30 * month),
            partial(_presence, sim, reference_, entered, month),
        )
    if stay is not None:
        sim.at(entered + timedelta(days=stay), lambda: _leave(sim, reference_))


def _presence(sim: _Year, reference_: str, entered: date, month: int) -> None:
    today = _today(sim)
    start = entered + timedelta(days=30 * (month - 1))
    end = min(today - timedelta(days=1), entered + timedelta(days=30 * month - 1))
    if end < start:
        return
    absences = {
        start + timedelta(days=n) for n in range((end - start).days + 1) if sim.rng.random() < 0.02
    }
    sim.call(placements.record_presence, reference_, start, end, absences)


def _leave(sim: _Year, reference_: str) -> None:
    if sim.call(placements.record_exit, reference_, _today(sim), "struttura") is not None:
        sim.at(_today(sim) + timedelta(days=5), lambda: _close(sim, reference_))


def _withdraw(sim: _Year, reference_: str) -> None:
    sim.call(placements.withdraw, reference_, "istituto")


def _close(sim: _Year, reference_: str) -> None:
    sim.call(placements.close, reference_, "uiepe")


def _today(sim: _Year) -> date:
    return rome_date(sim.clock.now())


def _ten(day: date) -> datetime:
    return datetime.combine(day, clock_time(10, 0), ROME).astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, clock_time(0, 0), ROME).astimezone(UTC)

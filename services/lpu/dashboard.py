"""Unpaid community work at a glance (art. 54 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001), as the
Prefect UI (flow `lpu-dashboard`) and `misure lpu dashboard` show it: per host entity its
conventions in force with their capacity, the seats held (the people at work) and the places
left; the placements in progress (breaches reported included) with the hours owed, credited and
left; the placements to receive; and the incidents: conventions that end within 60 days with no
renewal signed (the renewal notice's days, art. 2 co. 1 D.M. 26 marzo 2001), final reports past
their term, breaches awaiting the judge.

Every case in its state in law: a term already passed counts even before a sweep records it (a
convention past its last day is expired, a completed placement past the report's term is
overdue). Entities and case references only: no person (a placement's reference is the
person's pseudonym).

An entity's capacity and places left are those of its conventions in force today (a renewal
signed ahead, from a later day, is listed but not counted); its people at work are the seats
held under any of its conventions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from documents.render import data_it
from machines.calendar import rome_date
from machines.lpu.convention import DM2001, RENEWAL_NOTICE_DAYS, Convention
from machines.lpu.convention import MACHINE as CONVENTION
from machines.lpu.placement import BASIS, BREACH_STATES, REPORT_DAYS, LpuPlacement
from machines.lpu.placement import MACHINE as PLACEMENT
from machines.spec import CaseMachine
from services import engine
from services.context import Context
from storage.lpu.models import LpuConvention
from storage.lpu.repository import LpuRepository
from storage.models import Case, Timer
from storage.repository import Repository

S = LpuPlacement
RENEWAL_ARTICLE = f"art. 2 co. 1 {DM2001}"
REPORT_ARTICLE = f"{REPORT_DAYS} giorni dalle ore svolte; seme 003: conclusione"
BREACH_ARTICLE = BASIS
UNKNOWN_ENTITY = "ente non noto (convenzione non registrata)"
AT_WORK = (S.IN_PROGRESS, *BREACH_STATES)
# Stored states that are, or that a passed term may have moved to, what the dashboard shows.
_STORED = (S.TO_RECEIVE, *AT_WORK, S.COMPLETED, S.REPORT_OVERDUE)
_INSTANT = timedelta(microseconds=1)
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ConventionInForce:
    """A convention in force: its validity and its capacity, the seats held (the people at
    work under it) and the places left."""

    reference: str  # CLPU-...
    province: str
    valid_from: date
    valid_until: date
    started: bool  # in force today (a renewal signed ahead starts later)
    capacity: int
    held: int
    left: int


@dataclass(frozen=True)
class PlacementAtWork:
    """A placement in progress, or whose breach was reported: the hours the sentence owes, those
    the attendance register credits and those still to do."""

    reference: str  # LPU-...
    convention: str
    form: str | None
    state: str
    state_label: str
    owed: int
    credited: Decimal
    left: Decimal


@dataclass(frozen=True)
class PlacementToReceive:
    """A placement whose sentence is final, waiting for its reception at the entity."""

    reference: str
    convention: str
    form: str | None
    final_on: date | None
    owed: int


@dataclass(frozen=True)
class EntityFigures:
    """A host entity: its conventions in force, its people at work and its placements."""

    entity: str
    conventions: tuple[ConventionInForce, ...]
    capacity: int  # of its conventions in force today
    at_work: int  # seats held under any of its conventions
    capacity_left: int  # places left in its conventions in force today
    placements: tuple[PlacementAtWork, ...]
    to_receive: tuple[PlacementToReceive, ...]
    hours_owed: int
    hours_credited: Decimal
    hours_left: Decimal


@dataclass(frozen=True)
class ExpiringConvention:
    """A convention in force whose last day is within the renewal notice's days, with no
    other convention of its entity signed to last beyond it."""

    reference: str
    entity: str
    valid_until: date
    days_left: int  # days until it no longer holds (00:00 after its last day)
    renewal_drafted: str | None  # a renewal drafted, not yet signed


@dataclass(frozen=True)
class OverdueReport:
    """A placement whose hours are done and whose final report is past its term."""

    reference: str
    entity: str
    convention: str
    last_day: date | None  # the term's last day (Italian time)
    days_late: int | None


@dataclass(frozen=True)
class BreachAwaitingJudge:
    """A placement whose breach was reported and on which the judge has not ruled."""

    reference: str
    entity: str
    convention: str
    state: str
    state_label: str
    occurred_on: date | None
    days: int | None  # since the breach


@dataclass(frozen=True)
class LpuDashboard:
    """Community work at `at`: figures per entity and the incidents."""

    at: datetime
    today: date
    entities: tuple[EntityFigures, ...]
    expiring: tuple[ExpiringConvention, ...]
    overdue_reports: tuple[OverdueReport, ...]
    breaches: tuple[BreachAwaitingJudge, ...]
    incidents: tuple[str, ...]


def lpu_dashboard(ctx: Context) -> LpuDashboard:
    """Community work as it stands at the context's instant."""
    now = ctx.clock.now()
    today = rome_date(now)
    conventions, placements = ctx.machine(CONVENTION.kind), ctx.machine(PLACEMENT.kind)
    with ctx.read() as uow:
        lpu = LpuRepository.of(uow)
        rows = lpu.conventions()
        cases = lpu.placements(PLACEMENT.kind, [str(s) for s in _STORED])
        overdue = _by_case(
            uow.repo.overdue_timers_of([c.id for _, c in rows] + [c.id for c in cases], now)
        )
        held = lpu.seats_held()
        credited = lpu.credited_of([c.id for c in cases])
        agreements = [
            (row, case, engine.state_in_law(conventions, case.state, overdue.get(case.id, ()), now))
            for row, case in rows
        ]
        in_law = [
            (case, engine.state_in_law(placements, case.state, overdue.get(case.id, ()), now))
            for case in cases
        ]
        entity_of = {case.reference: row.entity for row, case, _ in agreements}
        reports = tuple(
            _overdue_report(uow.repo, case, entity_of, today)
            for case, state in in_law
            if state == S.REPORT_OVERDUE
        )
        in_force = [(row, case) for row, case, state in agreements if state == Convention.IN_FORCE]
        entities = _entities(
            in_force, agreements, in_law, placements, entity_of, held, credited, today
        )
        expiring = _expiring(in_force, agreements, today)
        breaches = tuple(
            sorted(
                (
                    _breach(case, state, placements, entity_of, today)
                    for case, state in in_law
                    if state in BREACH_STATES
                ),
                key=lambda b: (b.occurred_on or today, b.reference),
            )
        )
    incidents = (
        *(_expiring_incident(e) for e in expiring),
        *(_report_incident(r) for r in reports),
        *(_breach_incident(b) for b in breaches),
    )
    return LpuDashboard(
        at=now,
        today=today,
        entities=entities,
        expiring=expiring,
        overdue_reports=reports,
        breaches=breaches,
        incidents=tuple(incidents),
    )


def dashboard_markdown(board: LpuDashboard, today: date) -> str:
    """The dashboard in Italian, as the artifact `lpu-dashboard` shows it."""
    lines = [
        f"# Lavoro di pubblica utilità: situazione al {data_it(today)}",
        "",
        f"## Anomalie ({len(board.incidents)})",
        "",
    ]
    lines += [f"- {_cell(i)}" for i in board.incidents] or ["Nessuna anomalia."]
    lines += ["", f"## Enti ospitanti ({len(board.entities)})", ""]
    if board.entities:
        lines += [
            "| ente | convenzioni in vigore | capienza | persone al lavoro | posti liberi | "
            "inserimenti in corso | da accogliere | ore dovute | ore svolte | ore residue |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(e.entity)} | {len(e.conventions)} | {e.capacity} | {e.at_work} | "
            f"{e.capacity_left} | {len(e.placements)} | {len(e.to_receive)} | "
            f"{_hours(e.hours_owed)} | {_hours(e.hours_credited)} | {_hours(e.hours_left)} |"
            for e in board.entities
        ]
        entities = board.entities
        lines.append(
            f"| **totale** | {sum(len(e.conventions) for e in entities)} | "
            f"{sum(e.capacity for e in entities)} | {sum(e.at_work for e in entities)} | "
            f"{sum(e.capacity_left for e in entities)} | "
            f"{sum(len(e.placements) for e in entities)} | "
            f"{sum(len(e.to_receive) for e in entities)} | "
            f"{_hours(sum(e.hours_owed for e in entities))} | "
            f"{_hours(sum((e.hours_credited for e in entities), _ZERO))} | "
            f"{_hours(sum((e.hours_left for e in entities), _ZERO))} |"
        )
    else:
        lines.append("Nessun ente con convenzioni in vigore o persone inserite.")
    for entity in board.entities:
        lines += _entity_lines(entity)
    lines += [
        "",
        f"## Convenzioni in scadenza senza rinnovo ({len(board.expiring)}; avviso "
        f"{RENEWAL_NOTICE_DAYS} giorni prima, {RENEWAL_ARTICLE})",
        "",
    ]
    if board.expiring:
        lines += [
            "| convenzione | ente | in vigore fino al | giorni alla cessazione | rinnovo |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {e.reference} | {_cell(e.entity)} | {data_it(e.valid_until)} | {e.days_left} | "
            f"{_renewal(e)} |"
            for e in board.expiring
        ]
    else:
        lines.append("Nessuna convenzione in scadenza senza rinnovo.")
    lines += [
        "",
        f"## Relazioni conclusive in ritardo ({len(board.overdue_reports)}; {REPORT_ARTICLE})",
        "",
    ]
    if board.overdue_reports:
        lines += [
            "| pratica | ente | convenzione | termine | giorni di ritardo |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.reference} | {_cell(r.entity)} | {r.convention} | "
            f"{'—' if r.last_day is None else data_it(r.last_day)} | "
            f"{'—' if r.days_late is None else r.days_late} |"
            for r in board.overdue_reports
        ]
    else:
        lines.append("Nessuna relazione conclusiva in ritardo.")
    lines += [
        "",
        f"## Violazioni in attesa della decisione del giudice ({len(board.breaches)}; "
        f"{BREACH_ARTICLE})",
        "",
    ]
    if board.breaches:
        lines += [
            "| pratica | ente | convenzione | stato | violazione del | giorni trascorsi |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {b.reference} | {_cell(b.entity)} | {b.convention} | {_cell(b.state_label)} | "
            f"{'—' if b.occurred_on is None else data_it(b.occurred_on)} | "
            f"{'—' if b.days is None else b.days} |"
            for b in board.breaches
        ]
    else:
        lines.append("Nessuna violazione in attesa di decisione.")
    return "\n".join(lines) + "\n"


# the work ---------------------------------------------------------------------------------------
def _by_case(timers: Sequence[Timer]) -> dict[int, list[Timer]]:
    found: dict[int, list[Timer]] = {}
    for timer in timers:
        found.setdefault(timer.case_id, []).append(timer)
    return found


def _entities(
    in_force: Sequence[tuple[LpuConvention, Case]],
    agreements: Sequence[tuple[LpuConvention, Case, str]],
    in_law: Sequence[tuple[Case, str]],
    machine: CaseMachine,
    entity_of: dict[str, str],
    held: dict[int, int],
    credited: dict[int, Decimal],
    today: date,
) -> tuple[EntityFigures, ...]:
    """Per entity (by name): its conventions in force, the seats held under any of its
    conventions, its placements at work and to receive. An entity with none of them is left
    out."""
    conventions: dict[str, list[ConventionInForce]] = {}
    for row, case in in_force:
        taken = held.get(case.id, 0)
        conventions.setdefault(row.entity, []).append(
            ConventionInForce(
                reference=case.reference,
                province=row.province,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                started=row.valid_from <= today,
                capacity=row.capacity,
                held=taken,
                left=max(row.capacity - taken, 0),
            )
        )
    at_work: dict[str, int] = {}
    for row, case, _ in agreements:
        at_work[row.entity] = at_work.get(row.entity, 0) + held.get(case.id, 0)
    working: dict[str, list[PlacementAtWork]] = {}
    waiting: dict[str, list[PlacementToReceive]] = {}
    for case, state in in_law:
        convention = str(case.data.get("convention", ""))
        entity = entity_of.get(convention, UNKNOWN_ENTITY)
        owed = int(case.data.get("owed_hours", 0))
        form = None if case.data.get("form") is None else str(case.data["form"])
        if state in AT_WORK:
            done = credited.get(case.id, _ZERO).quantize(_ZERO)
            working.setdefault(entity, []).append(
                PlacementAtWork(
                    reference=case.reference,
                    convention=convention,
                    form=form,
                    state=state,
                    state_label=machine.label(state),
                    owed=owed,
                    credited=done,
                    left=max(Decimal(owed) - done, _ZERO).quantize(_ZERO),
                )
            )
        elif state == S.TO_RECEIVE:
            final = case.data.get("final_on")
            waiting.setdefault(entity, []).append(
                PlacementToReceive(
                    reference=case.reference,
                    convention=convention,
                    form=form,
                    final_on=None if final is None else date.fromisoformat(str(final)),
                    owed=owed,
                )
            )
    names = sorted({*conventions, *working, *waiting} | {e for e, n in at_work.items() if n > 0})
    figures = []
    for name in names:
        mine = tuple(conventions.get(name, ()))
        current = [c for c in mine if c.started]
        work = tuple(working.get(name, ()))
        figures.append(
            EntityFigures(
                entity=name,
                conventions=mine,
                capacity=sum(c.capacity for c in current),
                at_work=at_work.get(name, 0),
                capacity_left=sum(c.left for c in current),
                placements=work,
                to_receive=tuple(waiting.get(name, ())),
                hours_owed=sum(p.owed for p in work),
                hours_credited=sum((p.credited for p in work), _ZERO),
                hours_left=sum((p.left for p in work), _ZERO),
            )
        )
    return tuple(figures)


def _expiring(
    in_force: Sequence[tuple[LpuConvention, Case]],
    agreements: Sequence[tuple[LpuConvention, Case, str]],
    today: date,
) -> tuple[ExpiringConvention, ...]:
    """Conventions in force that stop holding within the renewal notice's days (the day the
    notice goes included), unless another convention of the entity is in force beyond them."""
    found = []
    for row, case in in_force:
        days_left = (row.valid_until + timedelta(days=1) - today).days
        if days_left > RENEWAL_NOTICE_DAYS:
            continue
        others = [
            (other, other_case.reference, state)
            for other, other_case, state in agreements
            if other.entity == row.entity
            and other_case.id != case.id
            and other.valid_until > row.valid_until
        ]
        if any(state == Convention.IN_FORCE for _, _, state in others):
            continue
        drafted = sorted(
            (o.valid_from, reference)
            for o, reference, state in others
            if state == Convention.DRAFTED
        )
        found.append(
            ExpiringConvention(
                reference=case.reference,
                entity=row.entity,
                valid_until=row.valid_until,
                days_left=days_left,
                renewal_drafted=drafted[0][1] if drafted else None,
            )
        )
    return tuple(sorted(found, key=lambda e: (e.valid_until, e.reference)))


def _overdue_report(
    repo: Repository, case: Case, entity_of: dict[str, str], today: date
) -> OverdueReport:
    """The final report's term: its latest timer, pending (lapsed in law, no sweep yet) or
    fired."""
    convention = str(case.data.get("convention", ""))
    terms = [t for t in repo.timers_of(case.id) if t.name == "final_report"]
    term = max(terms, key=lambda t: (t.due_at, t.id)) if terms else None
    last_day = None if term is None else rome_date(term.due_at - _INSTANT)
    return OverdueReport(
        reference=case.reference,
        entity=entity_of.get(convention, UNKNOWN_ENTITY),
        convention=convention,
        last_day=last_day,
        days_late=None if last_day is None else (today - last_day).days,
    )


def _breach(
    case: Case, state: str, machine: CaseMachine, entity_of: dict[str, str], today: date
) -> BreachAwaitingJudge:
    convention = str(case.data.get("convention", ""))
    occurred = case.data.get("occurred_on")
    day = None if occurred is None else date.fromisoformat(str(occurred))
    return BreachAwaitingJudge(
        reference=case.reference,
        entity=entity_of.get(convention, UNKNOWN_ENTITY),
        convention=convention,
        state=state,
        state_label=machine.label(state),
        occurred_on=day,
        days=None if day is None else (today - day).days,
    )


def _expiring_incident(e: ExpiringConvention) -> str:
    renewal = (
        f"rinnovo {e.renewal_drafted} predisposto, non stipulato"
        if e.renewal_drafted
        else "nessun rinnovo"
    )
    return (
        f"{e.reference} ({e.entity}): convenzione in vigore fino al {data_it(e.valid_until)}, "
        f"cessa {'domani' if e.days_left == 1 else f'tra {e.days_left} giorni'}; {renewal} "
        f"({RENEWAL_ARTICLE})"
    )


def _report_incident(r: OverdueReport) -> str:
    when = (
        "termine scaduto"
        if r.last_day is None
        else f"termine scaduto il {data_it(r.last_day)}, {_days(r.days_late)} di ritardo"
    )
    return f"{r.reference} ({r.entity}): relazione conclusiva non pervenuta, {when}"


def _breach_incident(b: BreachAwaitingJudge) -> str:
    when = "" if b.occurred_on is None else f" del {data_it(b.occurred_on)}"
    return (
        f"{b.reference} ({b.entity}): violazione{when} segnalata, in attesa della decisione "
        f"del giudice ({b.state_label})"
    )


def _entity_lines(e: EntityFigures) -> list[str]:
    lines = ["", f"### {_cell(e.entity)}", ""]
    if e.conventions:
        lines += [
            "| convenzione | provincia | in vigore | capienza | persone al lavoro | posti liberi |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {c.reference} | {_cell(c.province)} | dal {data_it(c.valid_from)} al "
            f"{data_it(c.valid_until)}{'' if c.started else ' (non ancora iniziata)'} | "
            f"{c.capacity} | {c.held} | {c.left} |"
            for c in e.conventions
        ]
    else:
        lines.append("Nessuna convenzione in vigore.")
    lines += ["", f"Inserimenti in corso ({len(e.placements)}):", ""]
    if e.placements:
        lines += [
            "| pratica | convenzione | forma | stato | ore dovute | ore svolte | ore residue |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {p.reference} | {p.convention} | {p.form or '—'} | {_cell(p.state_label)} | "
            f"{_hours(p.owed)} | {_hours(p.credited)} | {_hours(p.left)} |"
            for p in e.placements
        ]
    else:
        lines.append("Nessuno.")
    lines += ["", f"Da accogliere ({len(e.to_receive)}):", ""]
    if e.to_receive:
        lines += [
            "| pratica | convenzione | forma | irrevocabile dal | ore dovute |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {p.reference} | {p.convention} | {p.form or '—'} | "
            f"{'—' if p.final_on is None else data_it(p.final_on)} | {_hours(p.owed)} |"
            for p in e.to_receive
        ]
    else:
        lines.append("Nessuno.")
    return lines


def _renewal(e: ExpiringConvention) -> str:
    return "—" if e.renewal_drafted is None else f"{e.renewal_drafted} (predisposto)"


def _hours(value: Decimal | int) -> str:
    """Hours as an Italian reads them: 4, 2,5, 16,25."""
    text = f"{Decimal(value).quantize(_ZERO):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _days(days: int | None) -> str:
    return "1 giorno" if days == 1 else f"{days} giorni"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

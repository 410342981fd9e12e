"""The register of residential facilities at a glance (D.M. 128/2025 arts. 3-10), as the Prefect
UI (flow `register-dashboard`) and `misure register dashboard` show it: per section the
facilities registered, suspended and cancelled and the applications still to decide; the
cancellation procedures in progress with their next term; the applications awaiting a decision;
and the incidents: a register left unpublished for six months (art. 3 co. 6), prescriptions on
the services past their deadline with no outcome recorded (art. 5 co. 1 d, art. 7 co. 2), and
facilities the UIEPE's penitentiary police unit has not visited as often as the Head of
Department's guidelines ask (art. 10 co. 2: `Settings.visit_every_days`).

Every case in its state in law: a term already passed counts even before a sweep records it.
Facilities, operators and case references only: no person, no resident (art. 15)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from documents.render import data_it, data_ora_it
from machines.calendar import rome_date
from machines.register import (
    CANCELLATION,
    DM,
    FACILITY,
    ON_REGISTER,
    PENDING_APPLICATION,
    Facility,
)
from machines.spec import CaseMachine
from services import engine
from services.context import Context
from services.errors import InvalidInput
from services.register import publication
from services.settings import Settings
from storage.models import Case, Timer, TimerStatus
from storage.register.models import Procedure, RegisterEntry
from storage.register.repository import RegisterRepository
from storage.repository import Repository

VISITS_ARTICLE = f"art. 10 co. 2 {DM}"
PRESCRIPTIONS_ARTICLE = f"art. 5 co. 1 d, art. 7 co. 2 {DM}"
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class SectionFigures:
    """A section of the register (a region, art. 3 co. 4): its facilities by standing."""

    section: str
    registered: int
    suspended: int
    cancelled: int
    pending: int  # applications (expressions of interest) not yet decided


@dataclass(frozen=True)
class CancellationInProgress:
    """A cancellation procedure in progress (art. 5) and its next term, if one runs."""

    reference: str  # CANC-...
    facility: str  # STR-...
    code: str
    section: str
    causes: tuple[str, ...]  # art. 5 co. 1 a-d
    state: str
    state_label: str
    opened_at: datetime
    term: str | None  # the next term's label
    term_legal_basis: str | None
    last_day: date | None  # the term's last day (Italian time)
    lapses_at: datetime | None  # the instant it lapses: the pending timer's due instant


@dataclass(frozen=True)
class PendingApplication:
    """An expression of interest not yet decided (art. 3 co. 2-4)."""

    reference: str
    code: str
    name: str
    section: str
    filed_on: date
    state: str
    state_label: str


@dataclass(frozen=True)
class OverduePrescription:
    """A prescription on the art. 7 services past its deadline with no outcome recorded."""

    facility: str
    code: str
    section: str
    number: int
    service: str  # art. 7 co. 2 a-c
    due_on: date
    days_late: int


@dataclass(frozen=True)
class OverdueVisit:
    """A facility on the register not visited for longer than the guidelines allow: `since`
    is its last visit, or its registration if it was never visited."""

    facility: str
    code: str
    name: str
    section: str
    last_visit: date | None
    since: date
    due_by: date
    days: int  # since `since`


@dataclass(frozen=True)
class RegisterDashboard:
    """The register at `at`: counts by section, procedures, applications and incidents."""

    at: datetime
    today: date
    visit_every_days: int
    sections: tuple[SectionFigures, ...]
    procedures: tuple[CancellationInProgress, ...]
    applications: tuple[PendingApplication, ...]
    overdue_prescriptions: tuple[OverduePrescription, ...]
    overdue_visits: tuple[OverdueVisit, ...]
    last_published_at: datetime | None
    publication_due_by: date | None  # last day for the next publication (art. 3 co. 6)
    publication_stale: bool
    incidents: tuple[str, ...]


def register_dashboard(ctx: Context, visit_every_days: int | None = None) -> RegisterDashboard:
    """The register as it stands at the context's instant. `visit_every_days`: the days
    between two supervision visits (art. 10 co. 2), else `Settings().visit_every_days`."""
    every = Settings().visit_every_days if visit_every_days is None else visit_every_days
    if not 1 <= every <= 3660:
        raise InvalidInput("giorni tra due visite di vigilanza: da 1 a 3660", "visit_every_days")
    now = ctx.clock.now()
    today = rome_date(now)
    stale = publication.staleness(ctx, now)
    facilities, cancellations = ctx.machine(FACILITY.kind), ctx.machine(CANCELLATION.kind)
    with ctx.read() as uow:
        register = RegisterRepository.of(uow)
        entries = register.entries()
        overdue = _by_case(uow.repo.overdue_timers_of([case.id for _, case in entries], now))
        facts = [
            (
                entry,
                case,
                engine.state_in_law(facilities, case.state, overdue.get(case.id, ()), now),
            )
            for entry, case in entries
        ]
        on_register = [(e, c, s) for e, c, s in facts if s in ON_REGISTER]
        procedures = []
        for entry, facility, _ in on_register:
            running = register.procedure_in_progress(facility.id)
            if running is not None:
                procedures.append(
                    _procedure(uow.repo, cancellations, running, entry, facility, now)
                )
        listed = {case.reference: entry for entry, case, _ in on_register}
        prescriptions = tuple(
            OverduePrescription(
                facility=reference,
                code=on.code,
                section=on.section,
                number=p.number,
                service=p.service,
                due_on=p.due_on,
                days_late=(today - p.due_on).days,
            )
            for p, reference in register.open_prescriptions()
            if p.due_on < today and (on := listed.get(reference)) is not None
        )
        visits = _overdue_visits(on_register, register.last_visits(), today, every)
        applications = tuple(
            sorted(
                (
                    PendingApplication(
                        reference=case.reference,
                        code=entry.code,
                        name=entry.name,
                        section=entry.section,
                        filed_on=entry.filed_on,
                        state=state,
                        state_label=facilities.label(state),
                    )
                    for entry, case, state in facts
                    if state in PENDING_APPLICATION
                ),
                key=lambda a: (a.filed_on, a.reference),
            )
        )
        sections = _sections(facts)
    incidents = (
        *publication.incidents_of(stale),
        *(_prescription_incident(p) for p in prescriptions),
        *(_visit_incident(v, every) for v in visits),
    )
    return RegisterDashboard(
        at=now,
        today=today,
        visit_every_days=every,
        sections=sections,
        procedures=tuple(sorted(procedures, key=lambda p: (p.opened_at, p.reference))),
        applications=applications,
        overdue_prescriptions=prescriptions,
        overdue_visits=visits,
        last_published_at=stale.last_published_at,
        publication_due_by=stale.due_by,
        publication_stale=stale.stale,
        incidents=tuple(incidents),
    )


def dashboard_markdown(board: RegisterDashboard, today: date) -> str:
    """The dashboard in Italian, as the artifact `register-dashboard` shows it."""
    lines = [
        f"# Elenco delle strutture residenziali: situazione al {data_it(today)}",
        "",
        f"## Anomalie ({len(board.incidents)})",
        "",
    ]
    lines += [f"- {_cell(i)}" for i in board.incidents] or ["Nessuna anomalia."]
    lines += ["", "## Pubblicazione dell'elenco (art. 3 co. 6 D.M. 128/2025)", ""]
    if board.last_published_at is None:
        lines.append("L'elenco non è mai stato pubblicato.")
    else:
        due = "" if board.publication_due_by is None else data_it(board.publication_due_by)
        late = " (termine scaduto)" if board.publication_stale else ""
        lines.append(
            f"Ultima pubblicazione: {data_ora_it(board.last_published_at)}; da ripubblicare "
            f"comunque entro il {due}{late}."
        )
    lines += ["", "## Strutture per sezione", ""]
    if board.sections:
        lines += [
            "| sezione | iscritte | sospese | cancellate | manifestazioni da decidere |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(s.section)} | {s.registered} | {s.suspended} | {s.cancelled} | {s.pending} |"
            for s in board.sections
        ]
        lines.append(
            f"| **totale** | {sum(s.registered for s in board.sections)} | "
            f"{sum(s.suspended for s in board.sections)} | "
            f"{sum(s.cancelled for s in board.sections)} | "
            f"{sum(s.pending for s in board.sections)} |"
        )
    else:
        lines.append("Nessuna struttura nell'elenco.")
    lines += ["", f"## Procedimenti di cancellazione in corso ({len(board.procedures)})", ""]
    if board.procedures:
        lines += [
            "| procedimento | struttura | cause (art. 5 co. 1) | stato | prossimo termine | "
            "ultimo giorno | scade il |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {p.reference} | {p.facility} ({_cell(p.code)}) | {', '.join(p.causes)} | "
            f"{_cell(p.state_label)} | {_cell(p.term or '—')} | "
            f"{'—' if p.last_day is None else data_it(p.last_day)} | "
            f"{'—' if p.lapses_at is None else data_ora_it(p.lapses_at)} |"
            for p in board.procedures
        ]
    else:
        lines.append("Nessun procedimento in corso.")
    lines += [
        "",
        f"## Manifestazioni di interesse in attesa di decisione ({len(board.applications)})",
        "",
    ]
    if board.applications:
        lines += [
            "| pratica | struttura | sezione | presentata il | stato |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {a.reference} | {_cell(a.code)} {_cell(a.name)} | {_cell(a.section)} | "
            f"{data_it(a.filed_on)} | {_cell(a.state_label)} |"
            for a in board.applications
        ]
    else:
        lines.append("Nessuna manifestazione in attesa.")
    lines += [
        "",
        f"## Prescrizioni scadute senza esito ({len(board.overdue_prescriptions)}; "
        f"{PRESCRIPTIONS_ARTICLE})",
        "",
    ]
    if board.overdue_prescriptions:
        lines += [
            "| struttura | sezione | n. | servizio (art. 7 co. 2) | termine | giorni di ritardo |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {p.facility} ({_cell(p.code)}) | {_cell(p.section)} | {p.number} | {p.service} | "
            f"{data_it(p.due_on)} | {p.days_late} |"
            for p in board.overdue_prescriptions
        ]
    else:
        lines.append("Nessuna prescrizione scaduta senza esito.")
    lines += [
        "",
        f"## Visite di vigilanza scadute ({len(board.overdue_visits)}; una ogni "
        f"{board.visit_every_days} giorni, {VISITS_ARTICLE})",
        "",
    ]
    if board.overdue_visits:
        lines += [
            "| struttura | sezione | ultima visita | da visitare entro | giorni trascorsi |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {v.facility} ({_cell(v.code)} {_cell(v.name)}) | {_cell(v.section)} | "
            f"{_last_visit(v)} | {data_it(v.due_by)} | {v.days} |"
            for v in board.overdue_visits
        ]
    else:
        lines.append("Nessuna visita scaduta.")
    return "\n".join(lines) + "\n"


# the work ---------------------------------------------------------------------------------------
def _by_case(timers: Sequence[Timer]) -> dict[int, list[Timer]]:
    found: dict[int, list[Timer]] = {}
    for timer in timers:
        found.setdefault(timer.case_id, []).append(timer)
    return found


def _procedure(
    repo: Repository,
    machine: CaseMachine,
    procedure: Procedure,
    entry: RegisterEntry,
    facility: Case,
    now: datetime,
) -> CancellationInProgress:
    """The procedure in its state in law, with the next of its terms still running (the
    earliest pending timer that fires a trigger)."""
    case = repo.case_by_id(procedure.case_id)
    pending = [t for t in repo.timers_of(case.id, TimerStatus.PENDING) if t.fires is not None]
    state = engine.state_in_law(machine, case.state, pending, now)
    running = [t for t in pending if t.due_at > now and machine.runs_in(t.name, state)]
    term = min(running, key=lambda t: (t.due_at, t.id)) if running else None
    return CancellationInProgress(
        reference=case.reference,
        facility=facility.reference,
        code=entry.code,
        section=entry.section,
        causes=tuple(str(c) for c in procedure.causes),
        state=state,
        state_label=machine.label(state),
        opened_at=procedure.opened_at,
        term=None if term is None else machine.label(term.name),
        term_legal_basis=None if term is None else term.legal_basis,
        last_day=None if term is None else rome_date(term.due_at - _INSTANT),
        lapses_at=None if term is None else term.due_at,
    )


def _overdue_visits(
    on_register: Sequence[tuple[RegisterEntry, Case, str]],
    last_visits: dict[int, date],
    today: date,
    every: int,
) -> tuple[OverdueVisit, ...]:
    """Facilities on the register whose last visit (or registration, if never visited) is
    more than `every` days old, longest waiting first."""
    found = []
    for entry, case, _ in on_register:
        last = last_visits.get(case.id)
        since = last or entry.registered_on or entry.filed_on
        days = (today - since).days
        if days > every:
            found.append(
                OverdueVisit(
                    facility=case.reference,
                    code=entry.code,
                    name=entry.name,
                    section=entry.section,
                    last_visit=last,
                    since=since,
                    due_by=since + timedelta(days=every),
                    days=days,
                )
            )
    return tuple(sorted(found, key=lambda v: (v.since, v.facility)))


def _sections(facts: Sequence[tuple[RegisterEntry, Case, str]]) -> tuple[SectionFigures, ...]:
    counts: dict[str, Counter[str]] = {}
    for entry, _, state in facts:
        kind = "pending" if state in PENDING_APPLICATION else state
        counts.setdefault(entry.section, Counter())[kind] += 1
    figures = (
        SectionFigures(
            section=section,
            registered=found[Facility.REGISTERED],
            suspended=found[Facility.SUSPENDED],
            cancelled=found[Facility.CANCELLED],
            pending=found["pending"],
        )
        for section, found in sorted(counts.items())
    )
    return tuple(s for s in figures if s.registered or s.suspended or s.cancelled or s.pending)


def _prescription_incident(p: OverduePrescription) -> str:
    return (
        f"{p.facility} ({p.code}): prescrizione n. {p.number} scaduta il {data_it(p.due_on)} "
        f"senza esito registrato ({PRESCRIPTIONS_ARTICLE})"
    )


def _visit_incident(v: OverdueVisit, every: int) -> str:
    last = (
        f"ultima il {data_it(v.last_visit)}"
        if v.last_visit is not None
        else f"mai visitata, iscritta il {data_it(v.since)}"
    )
    return (
        f"{v.facility} ({v.code}): nessuna visita di vigilanza da {v.days} giorni ({last}; "
        f"una ogni {every} giorni, {VISITS_ARTICLE})"
    )


def _last_visit(v: OverdueVisit) -> str:
    return "mai" if v.last_visit is None else data_it(v.last_visit)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

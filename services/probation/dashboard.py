"""Each UEPE's probations at a glance, as the Prefect UI (flow `probation-dashboard`) and
`misure probation dashboard` show them: per office the probations running (revocation hearings
pending among them), the programmes before the judge and the records to sign; the reports due
this month (periodic, art. 141-ter co. 5 disp. att. c.p.p.; final, ten days before the hearing);
the hearings in the next 30 days (final and revocation); and the incidents: periodic reports not
received by their term, final reports past theirs.

Every case in its state in law: a term already passed counts even before a sweep records it.
Offices and case references only: no person (a probation's reference is the pseudonym)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from documents.render import data_it
from machines.calendar import rome_date
from machines.probation.machine import MACHINE, Probation
from services import engine
from services.context import Context
from storage.probation.repository import ProbationRepository

S = Probation
HEARINGS_AHEAD_DAYS = 30
# Stored states the dashboard shows, or that a passed term may have moved to one it shows.
_OPEN = (
    S.REQUESTED, S.INQUIRY, S.SENT, S.ADMITTED, S.RUNNING, S.REVOCATION_HEARING,
    S.PERIOD_ENDED, S.HEARING_SET, S.REPORT_OVERDUE, S.REPORTED,
)  # fmt: skip
_INSTANT = timedelta(microseconds=1)
DUE_TERMS = {"periodic_report": "relazione periodica", "final_report": "relazione finale"}


@dataclass(frozen=True)
class OfficeFigures:
    uepe: str
    running: int  # the probation record signed, not yet ended (revocation hearings included)
    revocation_pending: int
    before_the_judge: int  # programme sent, no order yet
    to_sign: int  # admitted, record not yet signed
    in_inquiry: int  # requests and inquiries


@dataclass(frozen=True)
class ReportDue:
    reference: str
    uepe: str
    report: str  # "relazione periodica" or "relazione finale"
    last_day: date


@dataclass(frozen=True)
class HearingAhead:
    reference: str
    uepe: str
    hearing: str  # "udienza finale" or "udienza di revoca"
    on: date


@dataclass(frozen=True)
class ProbationDashboard:
    at: datetime
    today: date
    offices: tuple[OfficeFigures, ...]
    reports_due: tuple[ReportDue, ...]  # this month, in date order
    hearings: tuple[HearingAhead, ...]  # in the next 30 days, in date order
    incidents: tuple[str, ...]


def probation_dashboard(ctx: Context) -> ProbationDashboard:
    """The probations as they stand at the context's instant."""
    now = ctx.clock.now()
    today = rome_date(now)
    machine = ctx.machine(MACHINE.kind)
    with ctx.read() as uow:
        probation = ProbationRepository.of(uow)
        cases = probation.open_cases([str(s) for s in _OPEN])
        timers = probation.pending_timers([c.id for c in cases])
    states: Counter[tuple[str, str]] = Counter()
    due, hearings, incidents = [], [], []
    month_end = _month_end(today)
    for case in cases:
        pending = timers.get(case.id, [])
        overdue = [t for t in pending if t.fires is not None and t.due_at <= now]
        state = engine.state_in_law(machine, case.state, overdue, now)
        uepe = str(case.data.get("uepe", "UEPE non indicato"))
        states[(uepe, state)] += 1
        for timer in pending:
            last_day = rome_date(timer.due_at - _INSTANT)
            if timer.name in DUE_TERMS and timer.due_at > now and last_day <= month_end:
                due.append(ReportDue(case.reference, uepe, DUE_TERMS[timer.name], last_day))
        for field, label, when in (
            ("hearing_on", "udienza finale", (S.HEARING_SET, S.REPORT_OVERDUE, S.REPORTED)),
            ("revocation_hearing_on", "udienza di revoca", (S.REVOCATION_HEARING,)),
        ):
            on = case.data.get(field)
            if state in when and on is not None:
                day = date.fromisoformat(str(on))
                if today <= day <= today + timedelta(days=HEARINGS_AHEAD_DAYS):
                    hearings.append(HearingAhead(case.reference, uepe, label, day))
        if state == S.REPORT_OVERDUE:
            incidents.append(
                f"{uepe}: relazione finale di {case.reference} non depositata nel termine "
                f"(udienza del {data_it(date.fromisoformat(str(case.data['hearing_on'])))})"
            )
        if state in (S.RUNNING, S.REVOCATION_HEARING) and not any(
            t.name == "periodic_report" and t.due_at > now for t in pending
        ):
            incidents.append(
                f"{uepe}: relazione periodica di {case.reference} non pervenuta nel termine "
                "(art. 141-ter co. 5 disp. att. c.p.p.)"
            )
    offices = tuple(
        OfficeFigures(
            uepe=uepe,
            running=states[(uepe, S.RUNNING)] + states[(uepe, S.REVOCATION_HEARING)],
            revocation_pending=states[(uepe, S.REVOCATION_HEARING)],
            before_the_judge=states[(uepe, S.SENT)],
            to_sign=states[(uepe, S.ADMITTED)],
            in_inquiry=states[(uepe, S.REQUESTED)] + states[(uepe, S.INQUIRY)],
        )
        for uepe in sorted({uepe for uepe, _ in states})
    )
    return ProbationDashboard(
        at=now,
        today=today,
        offices=offices,
        reports_due=tuple(sorted(due, key=lambda d: (d.last_day, d.reference))),
        hearings=tuple(sorted(hearings, key=lambda h: (h.on, h.reference))),
        incidents=tuple(incidents),
    )


def _month_end(day: date) -> date:
    following = day.replace(day=28) + timedelta(days=4)
    return following - timedelta(days=following.day)


def dashboard_markdown(board: ProbationDashboard) -> str:
    """The dashboard in Italian, for the Prefect UI's artifact and the CLI."""
    lines = [
        f"# Messe alla prova al {data_it(board.today)}",
        "",
        "## Per ufficio",
        "| UEPE | in corso | di cui udienza di revoca | al giudice | verbale da firmare | "
        "in istruttoria |",
        "|---|---|---|---|---|---|",
        *(
            f"| {o.uepe} | {o.running} | {o.revocation_pending} | {o.before_the_judge} | "
            f"{o.to_sign} | {o.in_inquiry} |"
            for o in board.offices
        ),
        "",
        "## Relazioni in scadenza questo mese",
    ]
    if board.reports_due:
        lines += ["| pratica | UEPE | relazione | ultimo giorno |", "|---|---|---|---|"]
        lines += [
            f"| {d.reference} | {d.uepe} | {d.report} | {data_it(d.last_day)} |"
            for d in board.reports_due
        ]
    else:
        lines.append("Nessuna relazione in scadenza.")
    lines += ["", f"## Udienze nei prossimi {HEARINGS_AHEAD_DAYS} giorni"]
    if board.hearings:
        lines += ["| pratica | UEPE | udienza | data |", "|---|---|---|---|"]
        lines += [
            f"| {h.reference} | {h.uepe} | {h.hearing} | {data_it(h.on)} |" for h in board.hearings
        ]
    else:
        lines.append("Nessuna udienza.")
    lines += ["", "## Anomalie"]
    lines += [f"- {incident}" for incident in board.incidents] or ["Nessuna anomalia."]
    return "\n".join(lines) + "\n"

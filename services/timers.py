"""Durable timers: the sweep that fires due timers (ARCHITECTURE.md rule 2).

A timer fires at most once: it is claimed in the transaction that fires it (FOR UPDATE SKIP LOCKED
on PostgreSQL), marked fired by the same write that moves its case, and its firing carries the
idempotency key `timer:<id>`. A crash before the commit rolls everything back: the timer is still
pending for the next sweep. A firing that raises is retried with exponential backoff, then marked
failed: an incident, listed, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from machines.calendar import rome_date
from machines.spec import CaseMachine, CaseView
from services.applied import NOTICE_TOPIC
from services.context import Context
from services.engine import (
    TIMER_ACTOR,
    applied,
    apply_effects,
    build_change,
    fire_machine_on,
    signals_of,
    timer_payload,
)
from services.records import TimerRecord
from storage.repository import DueTimer, NewOutbox, Repository, VersionConflict, Write
from storage.unit_of_work import UnitOfWork

MAX_ATTEMPTS = 5
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)


class SweepMode(StrEnum):
    EACH = "each"  # one transaction per firing (default)
    BATCHED = "batched"  # one transaction per batch; a failing firing rolls back only itself


@dataclass(frozen=True)
class Handled:
    """What a sweep did with one timer: the trigger it fired, `reminder`, `cancelled`,
    `retry` or `failed`."""

    reference: str
    timer: str
    due_at: datetime
    outcome: str


@dataclass
class SweepReport:
    fired: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    incidents: list[str] = field(default_factory=list)
    handled_timers: list[Handled] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)  # topics the fired transitions emitted

    def note(self, timer: DueTimer, outcome: str) -> None:
        self.handled_timers.append(Handled(timer.reference, timer.name, timer.due_at, outcome))

    def emitted(self, write: Write) -> None:
        self.signals += [s for s in signals_of(write.change) if s not in self.signals]

    @property
    def handled(self) -> int:
        return self.fired + self.cancelled + self.retried + self.failed


Progress = Callable[[int], None]


def backoff(attempt: int) -> timedelta:
    """Delay before retry number `attempt` (1, 2, ...): 1, 2, 4 ... minutes, at most an hour."""
    delay: timedelta = FIRST_BACKOFF * 2 ** (attempt - 1)
    return min(delay, MAX_BACKOFF)


def count_due(ctx: Context, now: datetime) -> int:
    with ctx.read() as uow:
        return uow.repo.count_due(now)


def sweep(
    ctx: Context,
    now: datetime,
    batch: int = 500,
    mode: SweepMode = SweepMode.EACH,
    limit: int | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    progress: Progress | None = None,
) -> SweepReport:
    """Fire every timer due at `now`, `batch` claims at a time, until none is left (or `limit`
    timers were handled). `progress` is told how many were handled after each batch."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    report = SweepReport()
    step = _sweep_each if mode is SweepMode.EACH else _sweep_batched
    while limit is None or report.handled < limit:
        size = batch if limit is None else min(batch, limit - report.handled)
        done = step(ctx, now, size, max_attempts, report)
        if progress is not None and done:
            progress(done)
        if done == 0:
            break
    return report


def incidents(ctx: Context) -> list[tuple[TimerRecord, str]]:
    """Timers that failed all their attempts, with their case reference."""
    with ctx.read() as uow:
        return [(TimerRecord.of(timer), reference) for timer, reference in uow.repo.incidents()]


def _sweep_each(
    ctx: Context, now: datetime, size: int, max_attempts: int, report: SweepReport
) -> int:
    """Up to `size` firings, each claiming its timer in its own transaction."""
    done = 0
    while done < size:
        with ctx.uow() as uow:
            claimed = uow.repo.claim_due_timers(now, 1)
            if not claimed:
                return done
            timer = claimed[0]
            try:
                decided = _decide(ctx, uow.repo, timer, now)
                if isinstance(decided, Write):
                    _write(ctx, uow, [(timer, decided)])
                else:
                    _without_move(uow.repo, timer, decided, now)
                uow.commit()
            except VersionConflict:
                continue  # its case moved under us: claim again on fresh data
            except Exception as error:
                uow.rollback()
                _record_failure(uow.repo, timer, error, now, max_attempts, report)
                uow.commit()
                done += 1
                continue
        if decided is None:
            report.cancelled += 1
        else:
            report.fired += 1
        if isinstance(decided, Write):
            report.emitted(decided)
        report.note(timer, _outcome(decided))
        done += 1
    return done


def _sweep_batched(
    ctx: Context, now: datetime, size: int, max_attempts: int, report: SweepReport
) -> int:
    """Up to `size` firings committed together, a failure undoing only itself.

    Each firing is decided on its own (a guard that raises fails only its timer). The writes go
    in one statement under a savepoint; if that statement fails, each write is redone in a
    savepoint of its own, so only the failing one is rolled back and recorded. One timer per
    case per batch: a second timer of the same case waits for the next batch and sees the state
    the first one left. A timer whose case moved meanwhile stays pending for the next batch."""
    with ctx.uow() as uow:
        repo = uow.repo
        cancelled = reminded = failures = 0
        decided: list[tuple[DueTimer, Write]] = []
        for timer in _one_per_case(repo.claim_due_timers(now, size)):
            try:
                outcome = _decide(ctx, repo, timer, now)
            except Exception as error:
                _record_failure(repo, timer, error, now, max_attempts, report)
                failures += 1
                continue
            if isinstance(outcome, Write):
                decided.append((timer, outcome))
                continue
            _without_move(repo, timer, outcome, now)
            report.note(timer, _outcome(outcome))
            if outcome is None:
                cancelled += 1
            else:
                reminded += 1
        written, write_failures = _write_isolated(ctx, uow, decided, now, max_attempts, report)
        uow.commit()
    fired = len(written)
    for timer, write in decided:
        if timer.case_id in written:
            report.note(timer, write.change.trigger)
            report.emitted(write)
    report.fired += fired + reminded
    report.cancelled += cancelled
    return fired + reminded + cancelled + failures + write_failures


def _without_move(
    repo: Repository, timer: DueTimer, notice: NewOutbox | None, now: datetime
) -> None:
    """A due timer that moves no case: a reminder issues its notice; a timer whose case left
    the states it runs in is cancelled (`notice` None)."""
    if notice is None:
        repo.cancel_timer(timer.id, f"case left state {timer.state}", now)
    else:
        repo.fire_reminder(timer, notice, now)


def _one_per_case(claimed: list[DueTimer]) -> list[DueTimer]:
    first: dict[int, DueTimer] = {}
    for timer in claimed:
        first.setdefault(timer.case_id, timer)
    return list(first.values())


def _write_isolated(
    ctx: Context,
    uow: UnitOfWork,
    decided: list[tuple[DueTimer, Write]],
    now: datetime,
    max_attempts: int,
    report: SweepReport,
) -> tuple[set[int], int]:
    """Write the decided firings with their effects; return (the cases written, failed
    writes)."""
    try:
        with uow.session.begin_nested():
            return _write(ctx, uow, decided), 0
    except Exception:
        pass  # one of them is bad: find it, each write under its own savepoint
    written: set[int] = set()
    failed = 0
    for timer, write in decided:
        try:
            with uow.session.begin_nested():
                written |= _write(ctx, uow, [(timer, write)])
        except VersionConflict:
            continue  # its case moved since the claim: the timer stays pending
        except Exception as error:
            _record_failure(uow.repo, timer, error, now, max_attempts, report)
            failed += 1
    return written, failed


def _write(ctx: Context, uow: UnitOfWork, decided: list[tuple[DueTimer, Write]]) -> set[int]:
    """Write the firings (one statement on PostgreSQL) and apply their kinds' effects (and the
    transitions those ask of other cases, whose signals stay in the outbox for the scheduled
    runs); return the ids of the cases written. A single firing whose case moved raises
    `VersionConflict`."""
    written = uow.repo.write_transitions([write for _, write in decided])
    if len(decided) == 1 and not written:
        raise VersionConflict(decided[0][1].case_id)
    for timer, write in decided:
        if write.case_id in written:
            apply_effects(
                ctx,
                uow,
                applied(
                    timer.case_id,
                    timer.reference,
                    timer.kind,
                    timer.data,
                    write.change,
                    written[write.case_id],
                ),
            )
    return set(written)


def _outcome(decided: Write | NewOutbox | None) -> str:
    if decided is None:
        return "cancelled"
    if isinstance(decided, NewOutbox):
        return "reminder"
    return decided.change.trigger


def _decide(
    ctx: Context, repo: Repository, timer: DueTimer, now: datetime
) -> Write | NewOutbox | None:
    """What a due timer does: the transition it fires, effective at its due instant; or, for a
    reminder, the notice it issues; or None if its case already left the states the timer
    runs in. Raises whatever the machine raises (a refusal, a crashing guard)."""
    machine = ctx.machine(timer.kind)
    if not machine.runs_in(timer.name, timer.case_state):
        return None
    if timer.fires is None:
        return _reminder_notice(machine, timer)
    payload = timer_payload(timer.name, timer.due_at, timer.legal_basis)
    view = CaseView(reference=timer.reference, state=timer.case_state, data=timer.data)
    facts = ctx.facts(repo, timer.kind, timer.case_id, now)
    fired = fire_machine_on(machine, view, timer.fires, payload, now, facts)
    change = build_change(
        machine,
        fired,
        TIMER_ACTOR,
        payload,
        f"timer:{timer.id}",
        now,
        timer.reference,
        timer.data,
        effective_at=timer.due_at,
    )
    return Write(timer.case_id, timer.version, change, fired_timer_id=timer.id)


def _reminder_notice(machine: CaseMachine, timer: DueTimer) -> NewOutbox:
    """The notice of a reminder, with the term it warns of and that term's last day."""
    reminder = machine.reminder(timer.name)
    last_day = rome_date(timer.due_at) + timedelta(days=reminder.days - 1)
    return NewOutbox(
        NOTICE_TOPIC,
        {
            "template": reminder.notice,
            "reference": timer.reference,
            "term": machine.label(reminder.of),
            "last_day": last_day.isoformat(),
            "days": reminder.days,
            "legal_basis": timer.legal_basis,
            "dated": timer.due_at.isoformat(),  # the act is dated when the reminder is due
        },
    )


def _record_failure(
    repo: Repository,
    timer: DueTimer,
    error: Exception,
    now: datetime,
    max_attempts: int,
    report: SweepReport,
) -> None:
    attempt = timer.attempts + 1
    message = f"{type(error).__name__}: {error}"
    if attempt >= max_attempts:
        repo.record_timer_failure(timer.id, message, None, now)
        report.failed += 1
        report.note(timer, "failed")
        report.incidents.append(f"{timer.reference} {timer.name}: {message}")
    else:
        repo.record_timer_failure(timer.id, message, now + backoff(attempt), now)
        report.retried += 1
        report.note(timer, "retry")

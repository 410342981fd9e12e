"""The case engine: open a case, fire a trigger, tell what can happen now.

One transaction per change (ARCHITECTURE.md rule 3): the new state with a version bump, the event,
the timers of the state left (resolved) and entered (scheduled), and the outbox rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from machines.calendar import rome_date
from machines.spec import (
    CaseMachine,
    CaseView,
    Fired,
    GuardInput,
    GuardRefused,
    TriggerNotAllowed,
    Verdict,
)
from services.applied import NOTICE_TOPIC, Applied
from services.context import Context
from services.effects import apply_effects
from services.errors import (
    GuardFailed,
    IdempotencyConflict,
    InvalidInput,
    StaleVersion,
    TransitionNotAllowed,
    UnknownCase,
)
from storage.models import Case, CaseEvent, Timer, TimerStatus
from storage.repository import Change, NewOutbox, NewTimer, Repository, VersionConflict
from storage.unit_of_work import UnitOfWork

OPEN_TRIGGER = "open"
WRITE_ATTEMPTS = 3
T = TypeVar("T")


def in_fresh_transactions(
    ctx: Context,
    subject: str,
    work: Callable[[UnitOfWork], T],
    retry_on: tuple[type[Exception], ...] = (VersionConflict,),
) -> T:
    """Run `work`, which commits, in a unit of work; if it meets a stale read (or another of
    `retry_on`, such as the same key committed meanwhile), again in a fresh one, on fresh data:
    at most `WRITE_ATTEMPTS` times, then `StaleVersion` on `subject`."""
    for _ in range(WRITE_ATTEMPTS):
        with ctx.uow() as uow:
            try:
                return work(uow)
            except retry_on:
                continue
    raise StaleVersion(subject, WRITE_ATTEMPTS)


def _retry_on(idempotency_key: str | None) -> tuple[type[Exception], ...]:
    """With a key, a unique violation is the same key committed meanwhile: the next round
    answers with its result. Without one, it is an error."""
    return (VersionConflict, IntegrityError) if idempotency_key else (VersionConflict,)


@dataclass(frozen=True)
class FireResult:
    """The outcome of a change; `replayed` when an idempotency key had already made it."""

    reference: str
    trigger: str
    from_state: str | None
    to_state: str
    sequence: int
    event_id: int
    occurred_at: datetime
    replayed: bool = False

    @classmethod
    def of(cls, event: CaseEvent, reference: str, replayed: bool) -> FireResult:
        return cls(
            reference=reference,
            trigger=event.trigger,
            from_state=event.from_state,
            to_state=event.to_state,
            sequence=event.sequence,
            event_id=event.id,
            occurred_at=event.occurred_at,
            replayed=replayed,
        )


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    verdicts: tuple[Verdict, ...]
    pending_timers: tuple[Timer, ...]
    history: tuple[CaseEvent, ...]


def open_case(
    ctx: Context,
    kind: str,
    actor: str,
    data: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> FireResult:
    """Open a case of `kind` in its initial state, with reference PREFIX-YEAR-NNNNNN."""
    machine = ctx.machine(kind)
    attributes = _json_object(data or {}, "data")
    now = ctx.clock.now()

    def work(uow: UnitOfWork) -> FireResult:
        replay = _replay(uow.repo, idempotency_key, None, OPEN_TRIGGER)
        if replay is not None:
            return replay
        year = rome_date(now).year
        reference = f"{machine.prefix}-{year}-{uow.repo.next_number(machine.prefix, year):06d}"
        change = Change(
            trigger=OPEN_TRIGGER,
            from_state=None,
            to_state=machine.initial.value,
            actor=actor,
            payload=attributes,
            legal_basis="apertura della pratica",
            idempotency_key=idempotency_key,
            at=now,
            timers=_timers_starting(machine, None, machine.initial, now),
        )
        case_id, event_id = uow.repo.add_case(kind, reference, attributes, change)
        apply_effects(uow.repo, applied(case_id, reference, kind, attributes, change, event_id))
        uow.commit()
        return FireResult(reference, OPEN_TRIGGER, None, change.to_state, 1, event_id, now)

    return in_fresh_transactions(ctx, idempotency_key or kind, work, _retry_on(idempotency_key))


def fire(
    ctx: Context,
    reference: str,
    trigger: str,
    actor: str,
    payload: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> FireResult:
    """Fire `trigger` on case `reference`: all of the change, or nothing.

    A stale read (another writer moved the case) is retried on fresh data; after
    `WRITE_ATTEMPTS` it fails with `StaleVersion`. The same idempotency key twice is one change.
    """
    given_payload = _json_object(payload or {}, "payload")

    def work(uow: UnitOfWork) -> FireResult:
        result = fire_in(ctx, uow, reference, trigger, actor, given_payload, idempotency_key)
        if not result.replayed:
            uow.commit()
        return result

    return in_fresh_transactions(ctx, reference, work, _retry_on(idempotency_key))


def fire_in(
    ctx: Context,
    uow: UnitOfWork,
    reference: str,
    trigger: str,
    actor: str,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
    case: Case | None = None,
) -> FireResult:
    """`fire` inside an open unit of work, which the caller commits: for services that write
    more in the same transaction (`case`: the case, if they read it in it). Raises
    `VersionConflict` on a stale read."""
    now = ctx.clock.now()
    replay = _replay(uow.repo, idempotency_key, reference, trigger)
    if replay is not None:
        return replay
    case = case or uow.repo.case_by_reference(reference)
    if case is None:
        raise UnknownCase(reference)
    machine = ctx.machine(case.kind)
    try:
        fired = fire_machine_on(machine, _view(case), trigger, payload, now)
    except (TransitionNotAllowed, GuardFailed):
        # The same key may have committed since the check above, moving the case: the answer
        # is then its first result, not a refusal.
        replay = _replay(uow.repo, idempotency_key, reference, trigger)
        if replay is not None:
            return replay
        raise
    change = build_change(
        machine, fired, actor, payload, idempotency_key, now, case.reference, case.data
    )
    event_id = uow.repo.write_transition(case.id, case.version, change)
    apply_effects(
        uow.repo, applied(case.id, case.reference, case.kind, case.data, change, event_id)
    )
    return FireResult(
        case.reference, trigger, change.from_state, change.to_state, case.version + 1, event_id, now
    )


def applied(
    case_id: int,
    reference: str,
    kind: str,
    data: Mapping[str, Any],
    change: Change,
    event_id: int,
) -> Applied:
    """What the effects of a kind are told of a change just written."""
    return Applied(
        case_id=case_id,
        reference=reference,
        kind=kind,
        trigger=change.trigger,
        from_state=change.from_state,
        to_state=change.to_state,
        payload=change.payload,
        data=change.data if change.data is not None else data,
        event_id=event_id,
        at=change.at,
    )


def record_message(
    ctx: Context,
    uow: UnitOfWork,
    case: Case,
    trigger: str,
    actor: str,
    payload: dict[str, Any],
    legal_basis: str,
    idempotency_key: str | None = None,
) -> FireResult:
    """Put a message that changes nothing (a court decision arriving after the lapse) in the
    case's history: an event whose state before and after is the same; its timers run on.
    Raises `VersionConflict` if the case moved since it was read."""
    now = ctx.clock.now()
    running = tuple(timer.name for timer in uow.repo.timers_of(case.id, TimerStatus.PENDING))
    change = Change(
        trigger=trigger,
        from_state=case.state,
        to_state=case.state,
        actor=actor,
        payload=payload,
        legal_basis=legal_basis,
        idempotency_key=idempotency_key,
        at=now,
        keep_timers=running,
    )
    event_id = uow.repo.write_transition(case.id, case.version, change)
    return FireResult(
        case.reference, trigger, case.state, case.state, case.version + 1, event_id, now
    )


def describe(ctx: Context, reference: str) -> CaseDetail:
    """The case, what can happen now (each trigger, allowed or why not), its pending timers and
    its full history."""
    with ctx.uow() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        machine = ctx.machine(case.kind)
        given = GuardInput(_view(case), {}, ctx.clock.now())
        return CaseDetail(
            case=case,
            verdicts=machine.verdicts(given),
            pending_timers=tuple(uow.repo.timers_of(case.id, TimerStatus.PENDING)),
            history=tuple(uow.repo.history(case.id)),
        )


def list_cases(
    ctx: Context, kind: str | None = None, state: str | None = None, limit: int = 500
) -> list[Case]:
    if kind is not None:
        ctx.machine(kind)
    with ctx.uow() as uow:
        return list(uow.repo.cases(kind, state, limit))


def build_change(
    machine: CaseMachine,
    fired: Fired,
    actor: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    now: datetime,
    reference: str,
    case_data: Mapping[str, Any],
) -> Change:
    """The rows a fired transition writes: its event, the timers of the state entered, the
    notices and signals the transition declares, and the payload fields it records."""
    transition = fired.transition
    recorded = {key: payload[key] for key in transition.records if key in payload}
    outbox = [
        NewOutbox(NOTICE_TOPIC, {"template": template, "reference": reference})
        for template in transition.notices
    ] + [NewOutbox(signal, {"reference": reference}) for signal in transition.signals]
    return Change(
        trigger=transition.trigger,
        from_state=fired.source.value,
        to_state=fired.dest.value,
        actor=actor,
        payload=payload,
        legal_basis=transition.article,
        idempotency_key=idempotency_key,
        at=now,
        timers=_timers_starting(machine, fired.source, fired.dest, now),
        keep_timers=machine.kept_terms(fired.source, fired.dest),
        outbox=outbox,
        data={**case_data, **recorded} if recorded else None,
    )


def fire_machine_on(
    machine: CaseMachine,
    view: CaseView,
    trigger: str,
    payload: Mapping[str, Any],
    now: datetime,
) -> Fired:
    """Ask the machine; its refusals become domain errors."""
    try:
        return machine.fire(trigger, GuardInput(view, payload, now))
    except TriggerNotAllowed as refusal:
        raise TransitionNotAllowed(str(refusal)) from refusal
    except GuardRefused as refusal:
        raise GuardFailed(str(refusal), refusal.reasons) from refusal


def _view(case: Case) -> CaseView:
    return CaseView(reference=case.reference, state=case.state, data=dict(case.data))


def _timers_starting(
    machine: CaseMachine, source: Enum | None, dest: Enum, now: datetime
) -> list[NewTimer]:
    """Entering a state schedules its terms (those not already running) and their reminders,
    counted from today's date in Italian time."""
    start = rome_date(now)
    timers = []
    for term in machine.starting_terms(source, dest):
        basis = term.rule.describe()
        timers.append(NewTimer(term.name, dest.value, basis, term.rule.due_at(start), term.fires))
        timers += [
            NewTimer(
                reminder.name,
                dest.value,
                f"{reminder.days} giorni prima della scadenza: {basis}",
                reminder.due_at(term, start),
                notice=reminder.notice,
            )
            for reminder in machine.reminders_of(term)
        ]
    return timers


def _replay(
    repo: Repository, key: str | None, reference: str | None, trigger: str
) -> FireResult | None:
    """The first result for an idempotency key already used; a conflict if it was for another
    case or trigger."""
    if key is None:
        return None
    found = repo.event_by_key(key)
    if found is None:
        return None
    event, event_reference = found
    if event.trigger != trigger or (reference is not None and event_reference != reference):
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used for {event.trigger} on {event_reference}"
        )
    return FireResult.of(event, event_reference, replayed=True)


def _json_object(value: Mapping[str, Any], what: str) -> dict[str, Any]:
    try:
        copied: dict[str, Any] = json.loads(json.dumps(dict(value)))
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"{what} is not a JSON object: {error}") from error
    return copied

"""The case engine: open a case, fire a trigger, tell what can happen now.

One transaction per change (ARCHITECTURE.md rule 3): the new state with a version bump, the event,
the timers of the state left (resolved) and entered (scheduled), and the outbox rows.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from machines.calendar import lapse_instant, rome_date
from machines.spec import (
    CaseMachine,
    CaseView,
    Fired,
    GuardInput,
    GuardRefused,
    PayloadRefused,
    TermNotLapsed,
    Transition,
    TriggerNotAllowed,
    Verdict,
    payload_refusal,
)
from services import reasons
from services.applied import NOTICE_TOPIC, Applied
from services.context import Context
from services.errors import (
    DomainError,
    GuardFailed,
    IdempotencyConflict,
    InvalidInput,
    StaleVersion,
    TransitionNotAllowed,
    UnknownCase,
)
from services.records import CaseRecord, EventRecord, TimerRecord
from storage.models import ACTOR_LENGTH, KEY_LENGTH, Case, CaseEvent, Timer, TimerStatus
from storage.repository import Change, NewOutbox, NewTimer, Repository, VersionConflict
from storage.unit_of_work import UnitOfWork

OPEN_TRIGGER = "open"
TIMER_ACTOR = "timer"
SYSTEM_ACTOR = "sistema"  # a transition another case's change caused (`Applied.then`)
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
    """The outcome of a change; `replayed` when an idempotency key had already made it.

    `occurred_at` is when it was recorded, `effective_at` when it took effect in law.
    `signals` are the outbox topics it emitted (a place freed: `reallocate`), those of the
    overdue terms fired before it included; entry points act on them. `caught_up` names the
    transitions those overdue terms caused first, in the same transaction."""

    reference: str
    trigger: str
    from_state: str | None
    to_state: str
    sequence: int
    event_id: int
    occurred_at: datetime
    replayed: bool = False
    effective_at: datetime | None = None
    signals: tuple[str, ...] = ()
    caught_up: tuple[str, ...] = ()

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
            effective_at=event.effective_at,
        )


@dataclass(frozen=True)
class PassedTerm:
    """A term whose instant has passed but whose timer has not run yet: in law the case has
    already moved, at `due_at`."""

    timer: str
    due_at: datetime
    trigger: str
    to_state: str


@dataclass(frozen=True)
class CaseDetail:
    """`state` is the state in law: the stored one, moved on by the terms already passed
    (`passed_terms`), which the next sweep or message records."""

    case: CaseRecord
    state: str
    verdicts: tuple[Verdict, ...]
    pending_timers: tuple[TimerRecord, ...]
    passed_terms: tuple[PassedTerm, ...]
    history: tuple[EventRecord, ...]
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Live:
    """The case as this transaction has moved it so far."""

    id: int
    reference: str
    kind: str
    state: str
    version: int
    data: dict[str, Any]

    @classmethod
    def of(cls, case: Case) -> _Live:
        return cls(case.id, case.reference, case.kind, case.state, case.version, dict(case.data))

    def view(self) -> CaseView:
        return CaseView(reference=self.reference, state=self.state, data=self.data)


def check_bounds(actor: str, idempotency_key: str | None) -> None:
    """What every write takes from outside, bounded the same on every database."""
    if not actor.strip() or len(actor) > ACTOR_LENGTH:
        raise InvalidInput(f"l'autore (actor) deve avere da 1 a {ACTOR_LENGTH} caratteri", "actor")
    if actor != actor.strip() or not actor.isprintable():
        # a label on one line, as the trail and every view show it (art. 15: no free text)
        raise InvalidInput(
            "l'autore (actor) va scritto su una riga, con caratteri stampabili e senza spazi "
            "all'inizio o alla fine",
            "actor",
        )
    if idempotency_key is not None and not 0 < len(idempotency_key) <= KEY_LENGTH:
        raise InvalidInput(
            f"la chiave di idempotenza deve avere da 1 a {KEY_LENGTH} caratteri", "idempotency_key"
        )


def open_case(
    ctx: Context,
    kind: str,
    actor: str,
    data: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> FireResult:
    """Open a case of `kind` in its initial state, with reference PREFIX-YEAR-NNNNNN."""
    machine = ctx.machine(kind)
    check_bounds(actor, idempotency_key)
    now = ctx.clock.now()
    attributes = validated(machine, OPEN_TRIGGER, _json_object(data or {}, "data"))
    given = GuardInput(CaseView(reference="", state="", data={}), attributes, now)
    try:
        machine.judge_opening(given)
    except GuardRefused as refusal:
        raise GuardFailed(str(refusal), refusal.reasons, refusal.field) from refusal

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
            timers=_timers_starting(machine, None, machine.initial, now, attributes),
        )
        case_id, event_id = uow.repo.add_case(kind, reference, attributes, change)
        effect = applied(case_id, reference, kind, attributes, change, event_id)
        signals = apply_effects(ctx, uow, effect)
        uow.commit()
        return FireResult(
            reference, OPEN_TRIGGER, None, change.to_state, 1, event_id, now, effective_at=now,
            signals=signals,
        )  # fmt: skip

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
        try:
            result = fire_in(ctx, uow, reference, trigger, actor, given_payload, idempotency_key)
        except DomainError as refusal:
            if refusal.caught_up:  # the terms that lapsed before it stand
                uow.commit()
            raise
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
    `VersionConflict` on a stale read.

    A term takes effect at its legal instant: the case's overdue timers fire first, in this
    transaction, each effective at its due instant; only then is `trigger` judged. If it is
    refused, what those terms did stays in the transaction (the refusal's `caught_up` names
    it) and the caller commits it."""
    now = ctx.clock.now()
    check_bounds(actor, idempotency_key)
    replay = _replay(uow.repo, idempotency_key, reference, trigger)
    if replay is not None:
        return replay
    if case is None:
        case, next_due = uow.repo.case_and_next_due(reference)
    else:
        next_due = uow.repo.next_due(case.id)
    if case is None:
        raise UnknownCase(reference)
    machine = ctx.machine(case.kind)
    validated_payload = validated(machine, trigger, payload)
    live = _Live.of(case)
    overdue = next_due is not None and next_due <= now
    caught = catch_up_in(ctx, uow, machine, live, now) if overdue else []
    try:
        with uow.session.begin_nested() if caught else nullcontext():
            result = _fire_live(
                ctx, uow, machine, live, trigger, actor, validated_payload, idempotency_key
            )
    except DomainError as refusal:
        # The same key may have committed since the check above, moving the case: the answer
        # is then its first result, not a refusal.
        if isinstance(refusal, TransitionNotAllowed | GuardFailed):
            replay = _replay(uow.repo, idempotency_key, reference, trigger)
            if replay is not None:
                return replay
        refusal.caught_up = tuple(c.trigger for c in caught)
        refusal.signals = tuple(s for c in caught for s in c.signals)
        raise
    if not caught:
        return result
    return replace(
        result,
        signals=tuple(s for c in caught for s in c.signals) + result.signals,
        caught_up=tuple(c.trigger for c in caught),
    )


def catch_up_in(
    ctx: Context, uow: UnitOfWork, machine: CaseMachine, live: _Live, now: datetime
) -> list[FireResult]:
    """Fire the case's timers whose due instant has passed, oldest first, each effective at
    that instant and under a savepoint of its own. One that fails is left to the sweep, which
    retries it and reports it; the case stays where the law has taken it so far."""
    done: list[FireResult] = []
    for timer in uow.repo.overdue_timers(live.id, now):
        if timer.fires is None or not machine.runs_in(timer.name, live.state):
            continue
        payload = timer_payload(timer.name, timer.due_at, timer.legal_basis)
        try:
            with uow.session.begin_nested():
                done.append(
                    _fire_live(
                        ctx, uow, machine, live, timer.fires, TIMER_ACTOR, payload,
                        f"timer:{timer.id}", timer_id=timer.id, effective_at=timer.due_at,
                    )
                )  # fmt: skip
        except DomainError:
            break
    return done


def timer_payload(name: str, due_at: datetime, legal_basis: str) -> dict[str, Any]:
    return {"timer": name, "due_at": due_at.isoformat(), "term": legal_basis}


def _fire_live(
    ctx: Context,
    uow: UnitOfWork,
    machine: CaseMachine,
    live: _Live,
    trigger: str,
    actor: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    timer_id: int | None = None,
    effective_at: datetime | None = None,
) -> FireResult:
    """Judge `trigger` on the case as it stands in this transaction, write the change and its
    effects, and move `live` on. Only the case's own timer fires a transition its term
    causes."""
    now = ctx.clock.now()
    source = machine.state(live.state)
    term = machine.term_firing(trigger, source)
    if term is not None and timer_id is None:
        raise TransitionNotAllowed(str(TermNotLapsed(trigger, term.name)))
    facts = ctx.facts(uow.repo, live.kind, live.id, now)
    fired = fire_machine_on(machine, live.view(), trigger, payload, now, facts)
    change = build_change(
        machine, fired, actor, payload, idempotency_key, now, live.reference, live.data,
        effective_at,
    )  # fmt: skip
    event_id = uow.repo.write_transition(live.id, live.version, change, timer_id)
    effect = applied(live.id, live.reference, live.kind, live.data, change, event_id)
    live.state, live.version = change.to_state, live.version + 1
    if change.data is not None:
        live.data = change.data
    caused = apply_effects(ctx, uow, effect)
    return FireResult(
        live.reference, trigger, change.from_state, change.to_state, live.version, event_id,
        now, effective_at=change.effective, signals=signals_of(change) + caused,
    )  # fmt: skip


def apply_effects(ctx: Context, uow: UnitOfWork, effect: Applied) -> tuple[str, ...]:
    """The change's effects and the reactions to what they announced, then the transitions
    they asked of other cases (`Applied.then`), each judged by its own machine and fired by
    the system in this transaction; a refusal there refuses the whole change. Returns the
    signals those transitions emitted."""
    ctx.apply_effects(uow.repo, effect)
    signals: list[str] = []
    for follow in effect.follow_ups:
        key = f"{follow.trigger}:{follow.reference}:after:{effect.event_id}"
        result = fire_in(
            ctx, uow, follow.reference, follow.trigger, SYSTEM_ACTOR, dict(follow.payload), key
        )
        signals += result.signals
    return tuple(signals)


def signals_of(change: Change) -> tuple[str, ...]:
    return tuple(message.topic for message in change.outbox if message.topic != NOTICE_TOPIC)


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
        at=change.effective,
        recorded_at=change.at,
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
    The same message again is counted on that event, not appended (`replayed`). Raises
    `VersionConflict` if the case moved since it was read."""
    now = ctx.clock.now()
    kept = uow.repo.same_message(case.id, case.state, trigger, actor, payload)
    if kept is not None:
        uow.repo.count_repeat(kept.id, now)
        return FireResult.of(kept, case.reference, replayed=True)
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
    """The case in law (terms already passed move it on, at their instants, even before a
    sweep records them), what can happen now (each trigger, allowed or why not), its pending
    timers, its full history and what its procedure knows of it."""
    now = ctx.clock.now()
    with ctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        machine = ctx.machine(case.kind)
        pending = tuple(uow.repo.timers_of(case.id, TimerStatus.PENDING))
        passed = _passed_terms(machine, case.state, pending, now)
        state = passed[-1].to_state if passed else case.state
        view = CaseView(reference=case.reference, state=state, data=dict(case.data))
        facts = ctx.facts(uow.repo, case.kind, case.id, now)
        repeats = uow.repo.repeats(case.id)
        return CaseDetail(
            case=CaseRecord.of(case),
            state=state,
            verdicts=machine.verdicts(GuardInput(view, {}, now, facts)),
            pending_timers=tuple(TimerRecord.of(timer) for timer in pending),
            passed_terms=passed,
            history=tuple(
                EventRecord.of(event, repeats.get(event.id, 0))
                for event in uow.repo.history(case.id)
            ),
            facts=ctx.summary(uow.repo, case.kind, case.id, dict(case.data)),
        )


def state_in_law(machine: CaseMachine, state: str, pending: Sequence[Timer], now: datetime) -> str:
    """The stored `state` moved on by the terms among `pending` already passed at `now`."""
    passed = _passed_terms(machine, state, pending, now)
    return passed[-1].to_state if passed else state


def _passed_terms(
    machine: CaseMachine, state: str, pending: Sequence[Timer], now: datetime
) -> tuple[PassedTerm, ...]:
    passed: list[PassedTerm] = []
    for timer in sorted(pending, key=lambda t: (t.due_at, t.id)):
        if timer.fires is None or timer.due_at > now or not machine.runs_in(timer.name, state):
            continue
        dest = machine.dest_of(timer.fires, state)
        if dest is None:
            continue
        passed.append(PassedTerm(timer.name, timer.due_at, timer.fires, dest))
        state = dest
    return tuple(passed)


@dataclass(frozen=True)
class CaseRow:
    """A case as a list shows it: `state` in law (terms already passed included),
    `recorded_state` as stored."""

    reference: str
    kind: str
    state: str
    recorded_state: str
    version: int
    opened_at: datetime
    updated_at: datetime


def has_cases(ctx: Context) -> bool:
    """Whether the database holds any case (a demo is loaded only into an empty one)."""
    with ctx.read() as uow:
        return bool(uow.repo.cases(None, None, 1, ctx.clock.now()))


def example_case(ctx: Context) -> str | None:
    """A case with a running term (the most distant), to show at once in the UI."""
    with ctx.read() as uow:
        return uow.repo.case_with_running_term()


@dataclass(frozen=True)
class CaseListPage:
    """A page of a list of cases: `rows`, and `next`, the reference after which the list goes
    on (None: nothing after these)."""

    rows: list[CaseRow]
    next: str | None


def list_cases(
    ctx: Context,
    kind: str | None = None,
    state: str | None = None,
    limit: int = 500,
    after: str | None = None,
) -> list[CaseRow]:
    """Cases oldest first, each in its state in law; `state` filters on it."""
    return list_page(ctx, kind, state, limit, after).rows


def list_page(
    ctx: Context,
    kind: str | None = None,
    state: str | None = None,
    limit: int = 500,
    after: str | None = None,
) -> CaseListPage:
    """Up to `limit` cases oldest first, after case `after`, each in its state in law;
    `state` filters on it. Of `limit` cases looked at, those in another state in law are left
    out: a page may hold fewer and still be followed by more."""
    if kind is not None:
        ctx.machine(kind)
    now = ctx.clock.now()
    with ctx.read() as uow:
        after_id = None
        if after is not None:
            found = uow.repo.case_by_reference(after)
            if found is None:
                raise UnknownCase(after)
            after_id = found.id
        cases = list(uow.repo.cases(kind, state, limit + 1, now, after_id))
        more = len(cases) > limit
        cases = cases[:limit]
        overdue: dict[int, list[Timer]] = {}
        for timer in uow.repo.overdue_timers_of([case.id for case in cases], now):
            overdue.setdefault(timer.case_id, []).append(timer)
    rows = []
    for case in cases:
        passed = _passed_terms(ctx.machine(case.kind), case.state, overdue.get(case.id, []), now)
        in_law = passed[-1].to_state if passed else case.state
        if state is None or in_law == state:
            rows.append(
                CaseRow(case.reference, case.kind, in_law, case.state, case.version,
                        case.opened_at, case.updated_at)
            )  # fmt: skip
    return CaseListPage(rows, cases[-1].reference if more else None)


def build_change(
    machine: CaseMachine,
    fired: Fired,
    actor: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    now: datetime,
    reference: str,
    case_data: Mapping[str, Any],
    effective_at: datetime | None = None,
) -> Change:
    """The rows a fired transition writes: its event, the timers of the state entered, the
    notices and signals the transition declares, and the payload fields it records. The terms
    it starts run from the day it took effect (`effective_at`, else `now`), or from the date a
    term names."""
    transition = fired.transition
    values = {**case_data, **payload}  # what the terms started may count from
    recorded = {key: payload[key] for key in transition.records if key in payload}
    payload, private = _kept_private(transition, payload, case_data)
    if private is not None:
        recorded["private"] = private
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
        timers=_timers_starting(
            machine, fired.source, fired.dest, effective_at or now, values, transition.restarts
        ),
        keep_timers=machine.kept_terms(fired.source, fired.dest, transition.restarts),
        outbox=outbox,
        data={**case_data, **recorded} if recorded else None,
        effective_at=effective_at,
    )


def _kept_private(
    transition: Transition, payload: dict[str, Any], case_data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The event's payload without the transition's private fields, which go to the case's
    data (`private`, by trigger, with the salt of the digest the event carries instead)."""
    kept = {key: payload[key] for key in transition.private if key in payload}
    if not kept:
        return payload, None
    salt = secrets.token_hex(16)
    public = {key: value for key, value in payload.items() if key not in kept}
    public["private"] = {"fields": sorted(kept), "digest": private_digest(salt, kept)}
    private = {**case_data.get("private", {}), transition.trigger: {"salt": salt, **kept}}
    return public, private


def private_digest(salt: str, kept: Mapping[str, Any]) -> str:
    """What the trail keeps of personal data: a digest no one can invert without the salt,
    which only the case's data holds."""
    return hashlib.sha256(
        (salt + json.dumps(kept, sort_keys=True, default=str)).encode()
    ).hexdigest()


def fire_machine_on(
    machine: CaseMachine,
    view: CaseView,
    trigger: str,
    payload: Mapping[str, Any],
    now: datetime,
    facts: Mapping[str, Any] | None = None,
) -> Fired:
    """Ask the machine; its refusals become domain errors."""
    try:
        return machine.fire(trigger, GuardInput(view, payload, now, facts or {}))
    except TriggerNotAllowed as refusal:
        raise TransitionNotAllowed(str(refusal)) from refusal
    except GuardRefused as refusal:
        raise GuardFailed(str(refusal), refusal.reasons, refusal.field) from refusal


def judge_guards(
    ctx: Context, uow: UnitOfWork, case: Case, trigger: str, payload: Mapping[str, Any]
) -> None:
    """`GuardFailed` if a guard of `trigger` refuses, whatever the case's state: for a message
    recorded without being applied (a late decision), which must still be one the case may
    receive (its court, its date)."""
    machine = ctx.machine(case.kind)
    now = ctx.clock.now()
    view = CaseView(reference=case.reference, state=case.state, data=dict(case.data))
    facts = ctx.facts(uow.repo, case.kind, case.id, now)
    try:
        machine.judge_guards(trigger, GuardInput(view, payload, now, facts))
    except GuardRefused as refusal:
        raise GuardFailed(str(refusal), refusal.reasons, refusal.field) from refusal


def validated(machine: CaseMachine, trigger: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as the transition's schema reads it, before anything is written."""
    try:
        if trigger == OPEN_TRIGGER:
            return machine.validate_opening(payload)
        if trigger not in machine.triggers:
            return dict(payload)  # the machine refuses the trigger itself, naming it
        return machine.validate(trigger, payload)
    except PayloadRefused as refusal:
        why = refusal.reason if refusal.error is None else reasons.reason(refusal.error)
        message = payload_refusal(refusal.trigger, refusal.field, why)
        raise InvalidInput(message, refusal.field) from refusal


def _timers_starting(
    machine: CaseMachine,
    source: Enum | None,
    dest: Enum,
    now: datetime,
    values: Mapping[str, Any],
    restarts: tuple[str, ...] = (),
) -> list[NewTimer]:
    """Entering a state schedules its terms (those not already running, or those the
    transition `restarts`) and their reminders, counted from the day in Italian time it took
    effect, or from the date a term names in `values` (the payload over the case's data), for
    the length it names there if it does, or to the last day its `ends` computes."""
    timers = []
    for term in machine.starting_terms(source, dest, restarts):
        last_day = term.last_day_for(values, rome_date(now))
        basis = term.rule_for(values).describe() if term.ends is None else term.rule.article
        timers.append(NewTimer(term.name, dest.value, basis, lapse_instant(last_day), term.fires))
        timers += [
            NewTimer(
                reminder.name,
                dest.value,
                f"{reminder.days} giorni prima della scadenza: {basis}",
                reminder.due_before(last_day),
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
            f"la chiave di idempotenza {key!r} è già stata usata per '{event.trigger}' "
            f"su {event_reference}"
        )
    return FireResult.of(event, event_reference, replayed=True)


def _json_object(value: Mapping[str, Any], what: str) -> dict[str, Any]:
    try:
        copied: dict[str, Any] = json.loads(json.dumps(dict(value)))
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"{what} non è un oggetto JSON: {error}") from error
    return copied

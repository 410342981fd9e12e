"""Queries and writes on cases, events, timers and the outbox; it never commits.

The write of a transition is Core SQL on purpose: it is the hot path of every sweep, and its
`UPDATE ... WHERE version = :seen` is the optimistic lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import (
    Case,
    CaseEvent,
    Document,
    OutboxMessage,
    OutboxStatus,
    ReferenceCounter,
    Timer,
    TimerStatus,
)


def _table(model: type[object]) -> Table:
    table = getattr(model, "__table__")  # noqa: B009 - typed as FromClause by the ORM
    assert isinstance(table, Table)
    return table


CASES = _table(Case)
EVENTS = _table(CaseEvent)
TIMERS = _table(Timer)
OUTBOX = _table(OutboxMessage)
COUNTERS = _table(ReferenceCounter)


class VersionConflict(Exception):
    """The case changed since it was read: the writer must reload, never overwrite."""


@dataclass(frozen=True)
class NewTimer:
    name: str
    state: str
    fires: str
    legal_basis: str
    due_at: datetime


@dataclass(frozen=True)
class NewOutbox:
    topic: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """Everything one transition writes besides the case row."""

    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    payload: dict[str, Any]
    legal_basis: str
    idempotency_key: str | None
    at: datetime
    timers: Sequence[NewTimer] = ()
    outbox: Sequence[NewOutbox] = ()


@dataclass(frozen=True)
class DueTimer:
    """A claimed timer with the state of its case as read in the claiming transaction."""

    id: int
    name: str
    state: str
    fires: str
    legal_basis: str
    due_at: datetime
    attempts: int
    case_id: int
    reference: str
    kind: str
    case_state: str
    version: int
    data: dict[str, Any]


class Repository:
    def __init__(self, session: Session, postgresql: bool) -> None:
        self.session = session
        self.postgresql = postgresql

    # cases ------------------------------------------------------------------------------------
    def case_by_reference(self, reference: str) -> Case | None:
        return self.session.scalars(select(Case).where(Case.reference == reference)).one_or_none()

    def cases(self, kind: str | None, state: str | None, limit: int) -> Sequence[Case]:
        query = select(Case).order_by(Case.id).limit(limit)
        if kind:
            query = query.where(Case.kind == kind)
        if state:
            query = query.where(Case.state == state)
        return self.session.scalars(query).all()

    def next_number(self, prefix: str, year: int) -> int:
        """The next reference number for `prefix` in `year`, atomically (upsert ... returning)."""
        dialect_insert = pg_insert if self.postgresql else sqlite_insert
        table = COUNTERS
        statement = (
            dialect_insert(table)
            .values(prefix=prefix, year=year, last=1)
            .on_conflict_do_update(
                index_elements=[table.c.prefix, table.c.year], set_={"last": table.c.last + 1}
            )
            .returning(table.c.last)
        )
        return int(self.session.execute(statement).scalar_one())

    def add_case(
        self, kind: str, reference: str, data: dict[str, Any], change: Change
    ) -> tuple[int, int]:
        """Insert a case in its initial state with its first event; return (case id, event id)."""
        case_id = self.session.execute(
            insert(CASES)
            .values(
                kind=kind,
                reference=reference,
                state=change.to_state,
                version=1,
                data=data,
                opened_at=change.at,
                updated_at=change.at,
            )
            .returning(CASES.c.id)
        ).scalar_one()
        event_id = self._write_change(case_id, 1, change, fired_timer_id=None)
        return case_id, event_id

    def write_transition(
        self,
        case_id: int,
        seen_version: int,
        change: Change,
        fired_timer_id: int | None = None,
    ) -> int:
        """Move the case, bump its version, append the event, resolve and schedule timers and
        write the outbox; return the event id. `VersionConflict` if the case moved meanwhile."""
        moved = self.session.execute(
            update(CASES)
            .where(and_(CASES.c.id == case_id, CASES.c.version == seen_version))
            .values(state=change.to_state, version=seen_version + 1, updated_at=change.at)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise VersionConflict(case_id)
        return self._write_change(case_id, seen_version + 1, change, fired_timer_id)

    def _write_change(
        self, case_id: int, sequence: int, change: Change, fired_timer_id: int | None
    ) -> int:
        event_id = int(
            self.session.execute(
                insert(EVENTS)
                .values(
                    case_id=case_id,
                    sequence=sequence,
                    trigger=change.trigger,
                    from_state=change.from_state,
                    to_state=change.to_state,
                    actor=change.actor,
                    payload=change.payload,
                    legal_basis=change.legal_basis,
                    idempotency_key=change.idempotency_key,
                    occurred_at=change.at,
                )
                .returning(EVENTS.c.id)
            ).scalar_one()
        )
        if change.from_state is not None:
            # Leaving a state resolves its timers: the one that fired, the others cancelled.
            status = (
                case(
                    (TIMERS.c.id == fired_timer_id, TimerStatus.FIRED.value),
                    else_=TimerStatus.CANCELLED.value,
                )
                if fired_timer_id is not None
                else TimerStatus.CANCELLED.value
            )
            self.session.execute(
                update(TIMERS)
                .where(and_(TIMERS.c.case_id == case_id, TIMERS.c.status == TimerStatus.PENDING))
                .values(status=status, resolved_by_event_id=event_id, resolved_at=change.at)
            )
        if change.timers:
            self.session.execute(
                insert(TIMERS),
                [
                    {
                        "case_id": case_id,
                        "name": timer.name,
                        "state": timer.state,
                        "fires": timer.fires,
                        "legal_basis": timer.legal_basis,
                        "due_at": timer.due_at,
                        "run_at": timer.due_at,
                        "status": TimerStatus.PENDING.value,
                        "attempts": 0,
                        "created_by_event_id": event_id,
                    }
                    for timer in change.timers
                ],
            )
        if change.outbox:
            self.session.execute(
                insert(OUTBOX),
                [
                    {
                        "case_id": case_id,
                        "event_id": event_id,
                        "topic": message.topic,
                        "payload": message.payload,
                        "status": OutboxStatus.PENDING.value,
                        "attempts": 0,
                        "created_at": change.at,
                    }
                    for message in change.outbox
                ],
            )
        return event_id

    # events -----------------------------------------------------------------------------------
    def event_by_key(self, key: str) -> tuple[CaseEvent, str] | None:
        row = self.session.execute(
            select(CaseEvent, Case.reference)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.idempotency_key == key)
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    def event(self, event_id: int) -> CaseEvent:
        return self.session.get_one(CaseEvent, event_id)

    def history(self, case_id: int) -> Sequence[CaseEvent]:
        return self.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.sequence)
        ).all()

    # timers -----------------------------------------------------------------------------------
    def timers_of(self, case_id: int, status: TimerStatus | None = None) -> Sequence[Timer]:
        query = select(Timer).where(Timer.case_id == case_id).order_by(Timer.due_at, Timer.id)
        if status is not None:
            query = query.where(Timer.status == status)
        return self.session.scalars(query).all()

    def claim_due_timers(self, now: datetime, limit: int) -> list[DueTimer]:
        """Lock up to `limit` due pending timers that no other sweeper holds (SKIP LOCKED on
        PostgreSQL; SQLite's BEGIN IMMEDIATE already excludes other writers)."""
        query = (
            select(
                TIMERS.c.id,
                TIMERS.c.name,
                TIMERS.c.state,
                TIMERS.c.fires,
                TIMERS.c.legal_basis,
                TIMERS.c.due_at,
                TIMERS.c.attempts,
                CASES.c.id.label("case_id"),
                CASES.c.reference,
                CASES.c.kind,
                CASES.c.state.label("case_state"),
                CASES.c.version,
                CASES.c.data,
            )
            .join(CASES, CASES.c.id == TIMERS.c.case_id)
            .where(and_(TIMERS.c.status == TimerStatus.PENDING, TIMERS.c.run_at <= now))
            .order_by(TIMERS.c.run_at, TIMERS.c.id)
            .limit(limit)
        )
        if self.postgresql:
            query = query.with_for_update(skip_locked=True, of=TIMERS)
        return [DueTimer(**row._mapping) for row in self.session.execute(query)]

    def cancel_timer(self, timer_id: int, reason: str, at: datetime) -> None:
        self.session.execute(
            update(TIMERS)
            .where(TIMERS.c.id == timer_id)
            .values(status=TimerStatus.CANCELLED, last_error=reason, resolved_at=at)
        )

    def record_timer_failure(
        self, timer_id: int, error: str, retry_at: datetime | None, at: datetime
    ) -> None:
        """Count a failed attempt: retry at `retry_at`, or mark the timer failed (an incident)."""
        values: dict[str, Any] = {"attempts": TIMERS.c.attempts + 1, "last_error": error[:2000]}
        if retry_at is None:
            values.update(status=TimerStatus.FAILED, resolved_at=at)
        else:
            values["run_at"] = retry_at
        self.session.execute(
            update(TIMERS)
            .where(and_(TIMERS.c.id == timer_id, TIMERS.c.status == TimerStatus.PENDING))
            .values(**values)
        )

    def incidents(self) -> Sequence[tuple[Timer, str]]:
        rows = self.session.execute(
            select(Timer, Case.reference)
            .join(Case, Case.id == Timer.case_id)
            .where(Timer.status == TimerStatus.FAILED)
            .order_by(Timer.resolved_at, Timer.id)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def count_due(self, now: datetime) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(TIMERS)
                .where(and_(TIMERS.c.status == TimerStatus.PENDING, TIMERS.c.run_at <= now))
            )
            or 0
        )

    # outbox and documents ---------------------------------------------------------------------
    def claim_outbox(self, topic: str, limit: int) -> Sequence[OutboxMessage]:
        query = (
            select(OutboxMessage)
            .where(and_(OutboxMessage.topic == topic, OutboxMessage.status == OutboxStatus.PENDING))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if self.postgresql:
            query = query.with_for_update(skip_locked=True)
        return self.session.scalars(query).all()

    def documents_of(self, case_id: int) -> Sequence[Document]:
        return self.session.scalars(
            select(Document).where(Document.case_id == case_id).order_by(Document.id)
        ).all()

    def claim_outbox_after(self, topic: str, after_id: int) -> OutboxMessage | None:
        """Lock the first pending message of `topic` with id above `after_id` that no other
        worker holds, so that one pass tries each message once."""
        query = (
            select(OutboxMessage)
            .where(
                and_(
                    OutboxMessage.topic == topic,
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.id > after_id,
                )
            )
            .order_by(OutboxMessage.id)
            .limit(1)
        )
        if self.postgresql:
            query = query.with_for_update(skip_locked=True)
        return self.session.scalars(query).one_or_none()

    def case_by_id(self, case_id: int) -> Case:
        return self.session.get_one(Case, case_id)

    def add_document(self, document: Document) -> None:
        """Insert a rendered document; `IntegrityError` if its outbox message already has one."""
        self.session.add(document)
        self.session.flush()

    def document_of_outbox(self, outbox_id: int) -> Document | None:
        return self.session.scalars(
            select(Document).where(Document.outbox_id == outbox_id)
        ).one_or_none()

    def mark_outbox_done(self, outbox_id: int, at: datetime) -> None:
        self.session.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.id == outbox_id, OUTBOX.c.status == OutboxStatus.PENDING))
            .values(status=OutboxStatus.DONE, processed_at=at)
        )

    def record_outbox_failure(self, outbox_id: int, error: str, give_up: bool, at: datetime) -> None:
        """Count a failed attempt on a pending message; `give_up` marks it failed for good."""
        values: dict[str, Any] = {"attempts": OUTBOX.c.attempts + 1, "last_error": error[:2000]}
        if give_up:
            values.update(status=OutboxStatus.FAILED, processed_at=at)
        self.session.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.id == outbox_id, OUTBOX.c.status == OutboxStatus.PENDING))
            .values(**values)
        )

"""Queries and writes on cases, events, timers and the outbox; it never commits.

The write of a transition is Core SQL on purpose: it is the hot path of every sweep, and its
`UPDATE ... WHERE version = :seen` is the optimistic lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Table,
    and_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from storage import chain
from storage.models import (
    Case,
    CaseEvent,
    Document,
    EventRepeat,
    Json,
    OutboxMessage,
    OutboxStatus,
    ReferenceCounter,
    Timer,
    TimerStatus,
    UTCDateTime,
)


def _table(model: type[object]) -> Table:
    table = getattr(model, "__table__")  # noqa: B009 - typed as FromClause by the ORM
    assert isinstance(table, Table)
    return table


CASES = _table(Case)
EVENTS = _table(CaseEvent)
TIMERS = _table(Timer)
OUTBOX = _table(OutboxMessage)
REPEATS = _table(EventRepeat)
COUNTERS = _table(ReferenceCounter)

# Reads on every change, built once: building a statement and its cache key costs about as
# much as running it.
_CASE_BY_REFERENCE = (
    select(Case)
    .where(Case.reference == bindparam("reference"))
    .execution_options(populate_existing=True)
)
# The case's next legal instant: the earliest pending timer that fires a trigger (a literal
# 'pending', for the generic plan), read with the case in one round trip where it can be.
_NEXT_DUE = (
    select(func.min(Timer.due_at))
    .where(
        Timer.case_id == Case.id,
        text("timers.status = 'pending'"),
        Timer.fires.is_not(None),
    )
    .correlate(Case)
    .scalar_subquery()
)
_CASE_AND_NEXT_DUE = (
    select(Case, _NEXT_DUE)
    .where(Case.reference == bindparam("reference"))
    .execution_options(populate_existing=True)
)
# What a change reads on PostgreSQL: the case locked until the transaction ends, so that
# concurrent changes of one case queue, each judged on the case its predecessor left.
_CASE_FOR_UPDATE = _CASE_BY_REFERENCE.with_for_update(of=Case)
_CASE_AND_NEXT_DUE_FOR_UPDATE = _CASE_AND_NEXT_DUE.with_for_update(of=Case)
_NEXT_DUE_OF = select(func.min(Timer.due_at)).where(
    Timer.case_id == bindparam("case_id"),
    text("timers.status = 'pending'"),
    Timer.fires.is_not(None),
)
_EVENT_BY_KEY = (
    select(CaseEvent, Case.reference)
    .join(Case, Case.id == CaseEvent.case_id)
    .where(CaseEvent.idempotency_key == bindparam("key"))
)

# The hot path's statements, built once. Leaving a state resolves its pending timers: the one
# that fired is marked fired, the others cancelled, but for those that run on into the new state.
_CHANGE_BINDS = (
    bindparam("at", type_=UTCDateTime()),
    bindparam("effective_at", type_=UTCDateTime()),
    bindparam("payload", type_=Json),
)
_MOVE_CASE = text(
    "UPDATE cases SET state = :to_state, version = :sequence, updated_at = :at,"
    " data = COALESCE(:data, data) WHERE id = :case_id AND version = :seen"
).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("data", type_=Json))
_INSERT_EVENT = text(
    "INSERT INTO case_events (case_id, sequence, trigger, from_state, to_state, actor, payload,"
    " legal_basis, idempotency_key, occurred_at, effective_at, prev_hash, hash)"
    " VALUES (:case_id, :sequence, :trigger, :from_state, :to_state, :actor, :payload,"
    " :legal_basis, :idempotency_key, :at, :effective_at, :prev_hash, :hash) RETURNING id"
).bindparams(*_CHANGE_BINDS)
_EVENT_HASH = text("SELECT hash FROM case_events WHERE case_id = :case_id AND sequence = :sequence")
_RESOLVE_TIMERS = text(  # SQLite only: PostgreSQL resolves timers inside _PG_TRANSITIONS
    "UPDATE timers SET status = CASE WHEN id = :fired_timer_id THEN 'fired' ELSE 'cancelled' END,"
    " resolved_by_event_id = :event_id, resolved_at = :at"
    " WHERE case_id = :case_id AND status = 'pending'"
    " AND (id = :fired_timer_id OR name NOT IN (SELECT value FROM json_each(:keep)))"
).bindparams(bindparam("at", type_=UTCDateTime()))
_INSERT_TIMER = text(
    "INSERT INTO timers (case_id, name, state, fires, notice, legal_basis, due_at, run_at,"
    " status, attempts, created_by_event_id) VALUES (:case_id, :name, :state, :fires, :notice,"
    " :legal_basis, :due_at, :due_at, 'pending', 0, :event_id)"
).bindparams(bindparam("due_at", type_=UTCDateTime()))
_INSERT_OUTBOX = text(
    "INSERT INTO outbox (case_id, event_id, topic, payload, status, attempts, created_at)"
    " VALUES (:case_id, :event_id, :topic, :payload, 'pending', 0, :at)"
).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("payload", type_=Json))
_PG_TRANSITIONS = text(
    """
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(:changes) AS c(
            case_id bigint, seen integer, fired_timer_id bigint, trigger text, from_state text,
            to_state text, actor text, payload jsonb, legal_basis text, idempotency_key text,
            occurred_at timestamptz, effective_at timestamptz, timers jsonb, outbox jsonb,
            keep jsonb, data jsonb, content text)
    ), moved AS (
        UPDATE cases
        SET state = input.to_state, version = input.seen + 1, updated_at = input.occurred_at,
            data = COALESCE(input.data, cases.data)
        FROM input
        WHERE cases.id = ANY(:case_ids) AND cases.id = input.case_id
          AND cases.version = input.seen
        RETURNING cases.id
    ), event AS (
        INSERT INTO case_events (case_id, sequence, trigger, from_state, to_state, actor,
                                 payload, legal_basis, idempotency_key, occurred_at,
                                 effective_at, prev_hash, hash)
        SELECT input.case_id, input.seen + 1, input.trigger, input.from_state, input.to_state,
               input.actor, input.payload, input.legal_basis, input.idempotency_key,
               input.occurred_at, input.effective_at, previous.hash,
               encode(sha256(convert_to(previous.hash || input.content, 'UTF8')), 'hex')
        FROM input JOIN moved ON moved.id = input.case_id
        -- the chain's link (storage/chain.py); a missing predecessor leaves the hash NULL,
        -- which the NOT NULL column refuses
        LEFT JOIN case_events previous
               ON previous.case_id = input.case_id AND previous.sequence = input.seen
        RETURNING id, case_id
    ), resolved AS (
        UPDATE timers
        SET status = CASE WHEN timers.id = input.fired_timer_id THEN 'fired'
                          ELSE 'cancelled' END,
            resolved_by_event_id = event.id, resolved_at = input.occurred_at
        FROM input JOIN event ON event.case_id = input.case_id
        WHERE timers.case_id = input.case_id AND timers.status = 'pending'
          AND (timers.id = input.fired_timer_id
               OR NOT timers.name = ANY (ARRAY(SELECT jsonb_array_elements_text(input.keep))))
    ), scheduled AS (
        INSERT INTO timers (case_id, name, state, fires, notice, legal_basis, due_at, run_at,
                            status, attempts, created_by_event_id)
        SELECT input.case_id, t.name, t.state, t.fires, t.notice, t.legal_basis, t.due_at,
               t.due_at, 'pending', 0, event.id
        FROM input JOIN event ON event.case_id = input.case_id,
             jsonb_to_recordset(input.timers) AS t(name text, state text, fires text,
                                                   notice text, legal_basis text,
                                                   due_at timestamptz)
    ), queued AS (
        INSERT INTO outbox (case_id, event_id, topic, payload, status, attempts, created_at)
        SELECT input.case_id, event.id, o.topic, o.payload, 'pending', 0, input.occurred_at
        FROM input JOIN event ON event.case_id = input.case_id,
             jsonb_to_recordset(input.outbox) AS o(topic text, payload jsonb)
    )
    SELECT case_id, id FROM event
    """
).bindparams(bindparam("changes", type_=JSONB()), bindparam("case_ids", type_=ARRAY(BigInteger())))


_CLAIM_COLUMNS = (
    TIMERS.c.id,
    TIMERS.c.name,
    TIMERS.c.state,
    TIMERS.c.fires,
    TIMERS.c.notice,
    TIMERS.c.legal_basis,
    TIMERS.c.due_at,
    TIMERS.c.attempts,
    TIMERS.c.created_by_event_id,
    CASES.c.id.label("case_id"),
    CASES.c.reference,
    CASES.c.kind,
    CASES.c.state.label("case_state"),
    CASES.c.version,
    CASES.c.data,
)
_CLAIM = (
    select(*_CLAIM_COLUMNS)
    .join(CASES, CASES.c.id == TIMERS.c.case_id)
    # A literal 'pending', not a parameter: only then can a prepared (generic) plan use the
    # partial index on pending timers.
    .where(text("timers.status = 'pending'"), TIMERS.c.run_at <= bindparam("now"))
    .order_by(TIMERS.c.run_at, TIMERS.c.id)
    .limit(bindparam("limit", type_=Integer(), literal_execute=True))
    # The case is locked with its timer, in the order every transition takes them (case, then
    # timers): a decision moving the case meanwhile makes the claim skip this timer instead of
    # deadlocking with it.
    .with_for_update(skip_locked=True, of=(TIMERS, CASES))
)
# The same claim for SQLite's driver (BEGIN IMMEDIATE already excludes other writers).
_SQLITE_CLAIM = (
    "SELECT timers.id, timers.name, timers.state, timers.fires, timers.notice,"
    " timers.legal_basis, timers.due_at, timers.attempts, timers.created_by_event_id,"
    " cases.id AS case_id, cases.reference, cases.kind, cases.state AS case_state,"
    " cases.version, cases.data FROM timers JOIN cases ON cases.id = timers.case_id"
    " WHERE timers.status = 'pending' AND timers.run_at <= :now"
    " ORDER BY timers.run_at, timers.id LIMIT :limit"
)
# How SQLAlchemy stores a DateTime on SQLite: naive UTC text, microseconds always written, so
# that comparing the text compares the instants.
SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"


def _sqlite_value(value: Any) -> Any:
    """A parameter as SQLAlchemy's types would bind it on SQLite (UTCDateTime, JSON)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_INSTANT)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


@contextmanager
def _as_sqlalchemy_error(statement: TextClause) -> Iterator[None]:
    """Driver errors as SQLAlchemy raises them (IntegrityError ...), whichever path ran."""
    try:
        yield
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement.text, None, error, sqlite3.Error) from error


def _aware(value: datetime | str | None) -> datetime | None:
    """An instant from an aggregate, which comes back untyped: as UTCDateTime reads it."""
    if value is None:
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def _sqlite_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _sqlite_value(value) for key, value in params.items()}


def _pg_write(write: Write) -> dict[str, Any]:
    """One change as a JSON record for `_PG_TRANSITIONS` (instants as ISO 8601 with offset)."""
    change = write.change
    params = _change_params(change)
    del params["at"], params["effective_at"]
    return {
        "case_id": write.case_id,
        "seen": write.seen_version,
        "fired_timer_id": write.fired_timer_id,
        **params,
        "occurred_at": change.at.isoformat(),
        "effective_at": change.effective.isoformat(),
        "timers": [
            {**asdict(timer), "due_at": timer.due_at.isoformat()} for timer in change.timers
        ],
        "outbox": [asdict(message) for message in change.outbox],
        "keep": list(change.keep_timers),
        "data": change.data,
        "content": _content(write.case_id, write.seen_version + 1, change),
    }


def _content(case_id: int, sequence: int, change: Change) -> str:
    """The change's event as the chain hashes it."""
    return chain.event_content(
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
        effective_at=change.effective,
    )


def _change_params(change: Change) -> dict[str, Any]:
    return {
        "trigger": change.trigger,
        "from_state": change.from_state,
        "to_state": change.to_state,
        "actor": change.actor,
        "payload": change.payload,
        "legal_basis": change.legal_basis,
        "idempotency_key": change.idempotency_key,
        "at": change.at,
        "effective_at": change.effective,
    }


class VersionConflict(Exception):
    """The case changed since it was read: the writer must reload, never overwrite."""


@dataclass(frozen=True)
class NewTimer:
    """A timer to schedule: it fires a trigger, or (a reminder) issues a notice."""

    name: str
    state: str
    legal_basis: str
    due_at: datetime
    fires: str | None = None
    notice: str | None = None


@dataclass(frozen=True)
class NewOutbox:
    topic: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """Everything one transition writes besides the case row. `at` is when it is recorded;
    `effective_at`, when it took effect in law (a term's due instant), if earlier."""

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
    keep_timers: Sequence[str] = ()  # names of pending timers that run on into the new state
    data: dict[str, Any] | None = None  # the case's data after the change; None: unchanged
    effective_at: datetime | None = None

    @property
    def effective(self) -> datetime:
        return self.at if self.effective_at is None else self.effective_at


@dataclass(frozen=True)
class Write:
    """A transition to write on a case last read at `seen_version`."""

    case_id: int
    seen_version: int
    change: Change
    fired_timer_id: int | None = None


@dataclass(frozen=True)
class DueTimer:
    """A claimed timer with the state of its case as read in the claiming transaction."""

    id: int
    name: str
    state: str
    fires: str | None
    notice: str | None
    legal_basis: str
    due_at: datetime
    attempts: int
    created_by_event_id: int
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
        """The case as stored now (a row read earlier in the session is refreshed)."""
        return self.session.scalars(_CASE_BY_REFERENCE, {"reference": reference}).one_or_none()

    def case_for_update(self, reference: str) -> Case | None:
        """The case as stored now, to change it: locked on PostgreSQL (SQLite has one writer)."""
        query = _CASE_FOR_UPDATE if self.postgresql else _CASE_BY_REFERENCE
        return self.session.scalars(query, {"reference": reference}).one_or_none()

    def case_and_next_due(self, reference: str) -> tuple[Case | None, datetime | None]:
        """The case as stored now, to change it (locked, as `case_for_update`), and the due
        instant of its earliest pending timer that fires a trigger (None if none runs)."""
        query = _CASE_AND_NEXT_DUE_FOR_UPDATE if self.postgresql else _CASE_AND_NEXT_DUE
        row = self.session.execute(query, {"reference": reference}).one_or_none()
        return (None, None) if row is None else (row[0], _aware(row[1]))

    def next_due(self, case_id: int) -> datetime | None:
        """The due instant of the case's earliest pending timer that fires a trigger."""
        return _aware(self.session.scalar(_NEXT_DUE_OF, {"case_id": case_id}))

    def cases(
        self,
        kind: str | None,
        state: str | None,
        limit: int,
        now: datetime,
        after_id: int | None = None,
    ) -> Sequence[Case]:
        """Cases of `kind` stored in `state`, and (with a state) those a passed term may have
        moved there since: the caller judges them in law. Oldest first, after `after_id`."""
        query = select(Case).order_by(Case.id).limit(limit)
        if after_id is not None:
            query = query.where(Case.id > after_id)
        if kind:
            query = query.where(Case.kind == kind)
        if state:
            overdue = select(Timer.case_id).where(
                Timer.status == TimerStatus.PENDING, Timer.fires.is_not(None), Timer.due_at <= now
            )
            query = query.where((Case.state == state) | Case.id.in_(overdue))
        return self.session.scalars(query).all()

    def case_with_running_term(self) -> str | None:
        return self.session.scalar(
            select(Case.reference)
            .join(Timer, Timer.case_id == Case.id)
            .where(Timer.status == TimerStatus.PENDING, Timer.fires.is_not(None))
            .order_by(Timer.due_at.desc())
            .limit(1)
        )

    def overdue_timers_of(self, case_ids: Sequence[int], now: datetime) -> Sequence[Timer]:
        """The pending timers of `case_ids` whose legal instant has passed and that fire a
        trigger, oldest first."""
        if not case_ids:
            return []
        return self.session.scalars(
            select(Timer)
            .where(
                Timer.case_id.in_(case_ids),
                Timer.status == TimerStatus.PENDING,
                Timer.fires.is_not(None),
                Timer.due_at <= now,
            )
            .order_by(Timer.due_at, Timer.id)
        ).all()

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
        event_id = self._write_change(case_id, 1, change, None, chain.genesis(reference))
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
        written = self.write_transitions([Write(case_id, seen_version, change, fired_timer_id)])
        if case_id not in written:
            raise VersionConflict(case_id)
        return written[case_id]

    def write_transitions(self, writes: Sequence[Write]) -> dict[int, int]:
        """Write several transitions (one per case); return {case id: event id} for those whose
        case was still at the version seen. The others are left untouched (stale reads).

        On PostgreSQL all of it is one statement (data-modifying CTEs): one round trip."""
        if len({write.case_id for write in writes}) != len(writes):
            raise ValueError("one transition per case per write")
        if not writes:
            return {}
        if self.postgresql:
            # The ids again as an array: their estimate (unlike the JSON's) steers the planner to
            # the primary key instead of a scan of all cases.
            rows = self.session.execute(
                _PG_TRANSITIONS,
                {
                    "changes": [_pg_write(write) for write in writes],
                    "case_ids": [write.case_id for write in writes],
                },
            )
            return {int(case_id): int(event_id) for case_id, event_id in rows}
        written: dict[int, int] = {}
        for write in writes:
            params = {
                "case_id": write.case_id,
                "seen": write.seen_version,
                "sequence": write.seen_version + 1,
                "data": write.change.data,
                **_change_params(write.change),
            }
            if self._rowcount(_MOVE_CASE, params) == 1:
                written[write.case_id] = self._write_change(
                    write.case_id, write.seen_version + 1, write.change, write.fired_timer_id
                )
        return written

    def _write_change(
        self,
        case_id: int,
        sequence: int,
        change: Change,
        fired_timer_id: int | None,
        previous: str | None = None,
    ) -> int:
        """The event and what hangs on it, one statement each (the portable path). The event
        follows `previous` in the chain, or the case's last event."""
        if previous is None:
            previous = self._scalar(_EVENT_HASH, {"case_id": case_id, "sequence": sequence - 1})
        params = {
            "case_id": case_id,
            "sequence": sequence,
            **_change_params(change),
            "prev_hash": previous,
            "hash": chain.link(previous, _content(case_id, sequence, change)),
        }
        event_id = int(self._scalar(_INSERT_EVENT, params))
        if change.from_state is not None:
            self._rowcount(
                _RESOLVE_TIMERS,
                {
                    "case_id": case_id,
                    "event_id": event_id,
                    "fired_timer_id": fired_timer_id,
                    "at": change.at,
                    "keep": list(change.keep_timers),
                },
            )
        if change.timers:
            self._many(
                _INSERT_TIMER,
                [
                    {"case_id": case_id, "event_id": event_id, **asdict(timer)}
                    for timer in change.timers
                ],
            )
        if change.outbox:
            self._many(
                _INSERT_OUTBOX,
                [
                    {
                        "case_id": case_id,
                        "event_id": event_id,
                        "at": change.at,
                        **asdict(message),
                    }
                    for message in change.outbox
                ],
            )
        return event_id

    # The hot path's statements run on SQLite's driver directly: SQLAlchemy's per-statement
    # work costs more than SQLite's own. Same SQL text, same stored values (`_sqlite_value`).
    def _driver(self) -> sqlite3.Connection:
        """SQLite's connection, inside the session's transaction (`session.connection()`
        begins it, with BEGIN IMMEDIATE, when none is open)."""
        connection = self.session.connection().connection.driver_connection
        assert isinstance(connection, sqlite3.Connection)
        return connection

    def _scalar(self, statement: TextClause, params: dict[str, Any]) -> Any:
        if self.postgresql:
            return self.session.execute(statement, params).scalar_one()
        with _as_sqlalchemy_error(statement):
            row = self._driver().execute(statement.text, _sqlite_params(params)).fetchone()
        assert row is not None
        return row[0]

    def _rowcount(self, statement: TextClause, params: dict[str, Any]) -> int:
        if self.postgresql:
            return int(self.session.execute(statement, params).rowcount)  # type: ignore[attr-defined]
        with _as_sqlalchemy_error(statement):
            return self._driver().execute(statement.text, _sqlite_params(params)).rowcount

    def _many(self, statement: TextClause, rows: list[dict[str, Any]]) -> None:
        if self.postgresql:
            self.session.execute(statement, rows)
            return
        with _as_sqlalchemy_error(statement):
            self._driver().executemany(statement.text, [_sqlite_params(row) for row in rows])

    # events -----------------------------------------------------------------------------------
    def event_by_key(self, key: str) -> tuple[CaseEvent, str] | None:
        row = self.session.execute(_EVENT_BY_KEY, {"key": key}).one_or_none()
        return None if row is None else (row[0], row[1])

    def event(self, event_id: int) -> CaseEvent:
        return self.session.get_one(CaseEvent, event_id)

    def same_message(
        self, case_id: int, state: str, trigger: str, actor: str, payload: dict[str, Any]
    ) -> CaseEvent | None:
        """The event that already recorded this message on the case in `state`, if any."""
        kept = self.session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id,
                CaseEvent.trigger == trigger,
                CaseEvent.from_state == state,
                CaseEvent.to_state == state,
                CaseEvent.actor == actor,
            )
        )
        return next((event for event in kept if event.payload == payload), None)

    def count_repeat(self, event_id: int, at: datetime) -> None:
        """One more receipt of the message `event_id` recorded."""
        insert_ = pg_insert if self.postgresql else sqlite_insert
        table = REPEATS
        self.session.execute(
            insert_(table)
            .values(event_id=event_id, count=1, last_at=at)
            .on_conflict_do_update(
                index_elements=[table.c.event_id],
                set_={"count": table.c.count + 1, "last_at": at},
            )
        )

    def repeats(self, case_id: int) -> dict[int, int]:
        """{event id: further receipts} of the case's messages received more than once."""
        rows = self.session.execute(
            select(EventRepeat.event_id, EventRepeat.count)
            .join(CaseEvent, CaseEvent.id == EventRepeat.event_id)
            .where(CaseEvent.case_id == case_id)
        )
        return {int(event_id): int(count) for event_id, count in rows}

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

    def overdue_timers(self, case_id: int, now: datetime) -> Sequence[Timer]:
        """The case's pending timers that fire a trigger and whose legal instant has passed,
        oldest first (whatever their retry time)."""
        return self.overdue_timers_of([case_id], now)

    def claim_due_timers(self, now: datetime, limit: int) -> list[DueTimer]:
        """Lock up to `limit` due pending timers that no other sweeper holds (SKIP LOCKED on
        PostgreSQL; SQLite's BEGIN IMMEDIATE already excludes other writers)."""
        if self.postgresql:
            rows = self.session.execute(_CLAIM, {"now": now, "limit": limit}).mappings()
            return [DueTimer(**row) for row in rows]
        cursor = self._driver().execute(_SQLITE_CLAIM, _sqlite_params({"now": now, "limit": limit}))
        names = [column[0] for column in cursor.description]
        claimed = []
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            row["due_at"] = datetime.fromisoformat(row["due_at"]).replace(tzinfo=UTC)
            row["data"] = json.loads(row["data"])
            claimed.append(DueTimer(**row))
        return claimed

    def fire_reminder(self, timer: DueTimer, message: NewOutbox, at: datetime) -> None:
        """Mark a reminder fired and queue its notice, linked to the event that started its
        term. The case does not move, so no event is written."""
        self.session.execute(
            update(TIMERS)
            .where(TIMERS.c.id == timer.id)
            .values(status=TimerStatus.FIRED, resolved_at=at)
        )
        self.add_outbox(timer.case_id, timer.created_by_event_id, message, at)

    def add_outbox(self, case_id: int, event_id: int, message: NewOutbox, at: datetime) -> None:
        """Queue `message` for case `case_id`, linked to event `event_id`."""
        self.session.execute(
            insert(OUTBOX).values(
                case_id=case_id,
                event_id=event_id,
                topic=message.topic,
                payload=message.payload,
                status=OutboxStatus.PENDING,
                attempts=0,
                created_at=at,
            )
        )

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
    def documents_of(self, case_id: int) -> Sequence[Document]:
        return self.session.scalars(
            select(Document).where(Document.case_id == case_id).order_by(Document.id)
        ).all()

    def claim_outbox_after(self, topic: str, after_id: int) -> OutboxMessage | None:
        """The first pending message of `topic` with id above `after_id`, so that one pass
        tries each message once: on PostgreSQL locked (one no other worker holds); on SQLite
        read from a snapshot, the unique `documents.outbox_id` deciding between renderers."""
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

    def add_document(self, document: Document, issued: Mapping[str, Any]) -> None:
        """Insert a rendered document and put it in its case's chain: an event, dated when it
        was rendered, that changes nothing else and carries the SHA-256 of its PDF and HTML,
        and what `issued` says of it (its protocol registration, its signature).
        `IntegrityError` if its outbox message already has one."""
        self.session.add(document)
        self.session.flush()
        payload = chain.document_payload(
            document.id, document.template, document.sha256, chain.digest(document.html)
        )
        self.record_on_case(
            document.case_id,
            chain.DOCUMENT_TRIGGER,
            chain.DOCUMENT_ACTOR,
            {**payload, **issued},
            chain.document_basis(document.template),
            document.rendered_at,
        )

    def record_on_case(
        self,
        case_id: int,
        trigger: str,
        actor: str,
        payload: dict[str, Any],
        legal_basis: str,
        at: datetime,
    ) -> None:
        """Put what happened to a case without moving it (a document issued, a message
        delivered) in its chain: an event whose state before and after is the same; its terms
        run on. The case is locked first on PostgreSQL, so that no decision moves it in
        between."""
        query = select(CASES.c.state, CASES.c.version).where(CASES.c.id == case_id)
        if self.postgresql:
            query = query.with_for_update()
        state, version = self.session.execute(query).one()
        running = self.session.scalars(
            select(TIMERS.c.name).where(
                TIMERS.c.case_id == case_id, TIMERS.c.status == TimerStatus.PENDING
            )
        ).all()
        change = Change(
            trigger=trigger,
            from_state=state,
            to_state=state,
            actor=actor,
            payload=payload,
            legal_basis=legal_basis,
            idempotency_key=None,
            at=at,
            keep_timers=tuple(running),
        )
        self.write_transition(case_id, version, change)

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

    def mark_outbox_done_many(self, ids: Sequence[int], at: datetime) -> None:
        if ids:
            self.session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(ids), OUTBOX.c.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.DONE, processed_at=at)
            )

    def record_outbox_failure(
        self, outbox_id: int, error: str, give_up: bool, at: datetime
    ) -> None:
        """Count a failed attempt on a pending message; `give_up` marks it failed for good."""
        values: dict[str, Any] = {"attempts": OUTBOX.c.attempts + 1, "last_error": error[:2000]}
        if give_up:
            values.update(status=OutboxStatus.FAILED, processed_at=at)
        self.session.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.id == outbox_id, OUTBOX.c.status == OutboxStatus.PENDING))
            .values(**values)
        )

"""Engines and sessions for SQLite (embedded default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# The execution option that makes SQLite begin a read transaction (see `readonly`).
SQLITE_READ = "misure_sqlite_read"
# SQLite has one writer at a time. Threads of one process queue on this lock instead of on
# SQLite's busy handler, which sleeps and polls (under a few dozen threads, most of the time
# goes in those sleeps); other processes still meet the busy timeout.
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def writer_lock(engine: Engine) -> threading.RLock | None:
    """The lock a writing unit of work holds on a SQLite engine (None on PostgreSQL)."""
    return _WRITERS.get(engine)


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, durable commits, foreign keys and write
    transactions that lock early."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pre-ping: it would cost a round trip per transaction on the sweep's hot path; a
        # connection the server dropped fails its transaction once and the pool replaces it.
        # Generic plans: psycopg prepares repeated statements, and re-planning the transition
        # CTE on every execution would cost more than running it.
        connect_args = {"options": "-c plan_cache_mode=force_generic_plan"}
        return create_engine(url, connect_args=connect_args, **options)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, pool_use_lifo=True, **options
    )

    _WRITERS[engine] = threading.RLock()

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that the BEGIN below is the only one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, NORMAL may lose the last commits on a power loss; FULL syncs the log at
        # every commit, so a commit that returned survives one.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A writer takes the lock when it begins, so two writers never deadlock on an upgrade;
        # a reader's deferred BEGIN reads a snapshot of the WAL and never waits for a writer.
        read = connection.get_execution_options().get(SQLITE_READ, False)
        connection.connection.driver_connection.execute("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine


def readonly(engine: Engine) -> Engine:
    """`engine` for read units of work (the same pool): on SQLite their transactions begin
    deferred, on PostgreSQL they are READ ONLY."""
    option = "postgresql_readonly" if is_postgresql(engine) else SQLITE_READ
    return engine.execution_options(**{option: True})


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)

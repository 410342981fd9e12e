"""Baselines for the durable-timer benchmark: a raw-SQL floor and SpiffWorkflow 3.2.

Every function takes an SQLAlchemy URL, ``sqlite:////abs/path.db`` or
``postgresql+psycopg://...``, and talks to the database through plain DB-API (sqlite3 or
psycopg 3). SQLite connections use ``journal_mode=WAL``, ``synchronous=FULL`` (the settings
of our engine), a 30 s busy timeout and ``BEGIN IMMEDIATE`` transactions; PostgreSQL
connections use psycopg's default implicit transactions. Set-up is never timed.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import Barrier
from typing import Any, Protocol

import psycopg
from SpiffWorkflow.bpmn.parser.BpmnParser import (  # type: ignore[import-untyped]
    BpmnParser,
)
from SpiffWorkflow.bpmn.serializer.workflow import (  # type: ignore[import-untyped]
    BpmnWorkflowSerializer,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

BPMN_FILE = Path(__file__).with_name("timer_case.bpmn")
TIMER_PROCESS = "timer_case"
TRANSITION_PROCESS = "transition_case"


class _Connection(Protocol):
    """The DB-API surface shared by sqlite3 and psycopg connections."""

    def execute(self, query: Any, params: Any = ..., /) -> Any: ...
    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class _Db:
    """A DB-API connection plus the dialect details the benchmarks need."""

    conn: _Connection
    sqlite: bool

    def sql(self, text: str) -> str:
        """Translate ``?`` parameter markers to the driver's style."""
        return text if self.sqlite else text.replace("?", "%s")

    def begin(self) -> None:
        """Open a write transaction (psycopg opens one implicitly)."""
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")

    def run(self, text: str, params: tuple[Any, ...] = ()) -> Any:
        """Execute one statement and return the cursor."""
        return self.conn.execute(self.sql(text), params)

    def insert_many(self, text: str, rows: list[tuple[Any, ...]]) -> None:
        """Execute one statement for many rows and commit."""
        cursor = self.conn.cursor()
        cursor.executemany(self.sql(text), rows)
        cursor.close()
        self.conn.commit()

    def create_tables(self, case: str, event: str, extra: str = "") -> None:
        """Drop and create a case table and its event table."""
        serial = "INTEGER PRIMARY KEY" if self.sqlite else "SERIAL PRIMARY KEY"
        self.drop_tables(case, event)
        self.run(f"CREATE TABLE {case} (id INTEGER PRIMARY KEY, state TEXT NOT NULL{extra})")
        self.run(
            f"CREATE TABLE {event} (id {serial}, case_id INTEGER NOT NULL, "
            "from_state TEXT NOT NULL, to_state TEXT NOT NULL, occurred_at TEXT NOT NULL)"
        )
        self.conn.commit()

    def drop_tables(self, *tables: str) -> None:
        """Drop the given tables if they exist."""
        for table in tables:
            self.run(f"DROP TABLE IF EXISTS {table}")
        self.conn.commit()


def _connect(url: str) -> _Db:
    """Open a DB-API connection for an SQLAlchemy URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database or "", timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return _Db(conn, sqlite=True)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return _Db(psycopg.connect(conninfo), sqlite=False)


def _now() -> str:
    return datetime.now(UTC).isoformat()


FLOOR_CASE, FLOOR_EVENT = "bench_floor_case", "bench_floor_event"
SPIFF_CASE, SPIFF_EVENT = "bench_spiff_case", "bench_spiff_event"
INSERT_EVENT = "INSERT INTO {} (case_id, from_state, to_state, occurred_at) VALUES (?, ?, ?, ?)"


def _floor_worker(url: str, first: int, last: int, barrier: Barrier) -> tuple[float, float]:
    """Lapse cases ``first..last - 1``, one transaction each; return the (start, end) clock."""
    db = _connect(url)
    update = db.sql(f"UPDATE {FLOOR_CASE} SET state = 'lapsed' WHERE id = ?")
    insert = db.sql(INSERT_EVENT.format(FLOOR_EVENT))
    barrier.wait(timeout=60.0)
    start = time.perf_counter()
    for case_id in range(first, last):
        db.begin()
        db.conn.execute(update, (case_id,))
        db.conn.execute(insert, (case_id, "waiting", "lapsed", _now()))
        db.conn.commit()
    end = time.perf_counter()
    db.conn.close()
    return start, end


def floor_rate(url: str, n: int, processes: int = 1) -> float:
    """Raw-SQL floor: firings per second over ``processes`` spawned workers.

    The clock runs from the earliest worker start (after a barrier, so connecting is not timed)
    to the latest worker end; ``time.perf_counter`` is system-wide monotonic on Linux.
    """
    db = _connect(url)
    try:
        db.create_tables(FLOOR_CASE, FLOOR_EVENT)
        db.insert_many(
            f"INSERT INTO {FLOOR_CASE} (id, state) VALUES (?, 'waiting')",
            [(i,) for i in range(1, n + 1)],
        )
        ctx = multiprocessing.get_context("spawn")
        with ctx.Manager() as manager, ProcessPoolExecutor(processes, mp_context=ctx) as pool:
            barrier = manager.Barrier(processes)
            bounds = [1 + i * n // processes for i in range(processes + 1)]
            futures = [
                pool.submit(_floor_worker, url, bounds[i], bounds[i + 1], barrier)
                for i in range(processes)
            ]
            spans = [future.result() for future in futures]
        lapsed = db.run(f"SELECT count(*) FROM {FLOOR_CASE} WHERE state = 'lapsed'").fetchone()
        db.conn.commit()
        if lapsed[0] != n:
            raise RuntimeError(f"floor lapsed {lapsed[0]} of {n} cases")
        return n / (max(end for _, end in spans) - min(start for start, _ in spans))
    finally:
        db.drop_tables(FLOOR_CASE, FLOOR_EVENT)
        db.conn.close()


def _spiff_waiting_json(serializer: BpmnWorkflowSerializer, process_id: str) -> str:
    """Run a fresh workflow until it waits and return its serialization."""
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN_FILE))
    workflow = BpmnWorkflow(parser.get_spec(process_id))
    workflow.do_engine_steps()
    if workflow.is_completed():
        raise RuntimeError(f"{process_id} completed without waiting")
    return str(serializer.serialize_json(workflow))


def _spiff_fire_timer(workflow: BpmnWorkflow) -> None:
    workflow.refresh_timers()


def _spiff_complete_user_task(workflow: BpmnWorkflow) -> None:
    workflow.get_next_task(state=TaskState.READY, manual=True).run()


def _spiff_loop(
    url: str, n: int, process_id: str, to_state: str, step: Callable[[Any], None]
) -> float:
    """Set up n waiting Spiff cases, then time load/step/save of each in one transaction."""
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure())
    waiting = _spiff_waiting_json(serializer, process_id)
    db = _connect(url)
    select = db.sql(f"SELECT workflow FROM {SPIFF_CASE} WHERE id = ?")
    update = db.sql(f"UPDATE {SPIFF_CASE} SET state = ?, workflow = ? WHERE id = ?")
    insert = db.sql(INSERT_EVENT.format(SPIFF_EVENT))
    try:
        db.create_tables(SPIFF_CASE, SPIFF_EVENT, extra=", workflow TEXT NOT NULL")
        db.insert_many(
            f"INSERT INTO {SPIFF_CASE} (id, state, workflow) VALUES (?, 'waiting', ?)",
            [(i, waiting) for i in range(1, n + 1)],
        )
        for pending in serializer.deserialize_json(waiting).waiting_events():
            due = datetime.fromisoformat(pending.value)  # wait until the stored timer is due
            time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() + 0.01))
        start = time.perf_counter()
        for case_id in range(1, n + 1):
            db.begin()
            workflow = serializer.deserialize_json(
                db.conn.execute(select, (case_id,)).fetchone()[0]
            )
            step(workflow)
            workflow.do_engine_steps()
            if not workflow.is_completed():
                raise RuntimeError(f"case {case_id} did not complete")
            db.conn.execute(update, (to_state, serializer.serialize_json(workflow), case_id))
            db.conn.execute(insert, (case_id, "waiting", to_state, _now()))
            db.conn.commit()
        return n / (time.perf_counter() - start)
    finally:
        db.conn.rollback()
        db.drop_tables(SPIFF_CASE, SPIFF_EVENT)
        db.conn.close()


def spiff_rate(url: str, n: int) -> float:
    """SpiffWorkflow 3.2 timer firings per second, one process, JSON in a text column.

    Timed per case: SELECT, deserialize, ``refresh_timers()`` (the 3.x name of the deprecated
    ``refresh_waiting_tasks()``), ``do_engine_steps()``, serialize, UPDATE + INSERT, COMMIT.
    """
    return _spiff_loop(url, n, TIMER_PROCESS, "lapsed", _spiff_fire_timer)


def spiff_transition_rate(url: str, n: int) -> float:
    """SpiffWorkflow 3.2 user-task completions per second, same persistence as ``spiff_rate``."""
    return _spiff_loop(url, n, TRANSITION_PROCESS, "completed", _spiff_complete_user_task)


def main() -> None:
    """Print the baselines for a temporary SQLite file and the local PostgreSQL."""
    n = 2000
    with tempfile.TemporaryDirectory() as tmp:
        urls = {
            "sqlite": f"sqlite:///{tmp}/bench.db",
            "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        }
        for name, url in urls.items():
            print(f"{name} (n={n})")
            print(f"  floor, 1 process    {floor_rate(url, n):10,.0f} firings/s")
            print(f"  floor, 2 processes  {floor_rate(url, n, processes=2):10,.0f} firings/s")
            print(f"  spiff timer         {spiff_rate(url, n):10,.0f} firings/s")
            print(f"  spiff user task     {spiff_transition_rate(url, n):10,.0f} transitions/s")


if __name__ == "__main__":
    main()

"""Bulk seeding for tests and benchmarks: cases of the demo machine waiting in UNDER_REVIEW with
their review timer already due, or waiting in FILED with no timer. Written with Core inserts so
100k rows take seconds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute

from storage import chain
from storage.models import Case, CaseEvent, TimerStatus
from storage.repository import CASES, EVENTS, TIMERS

CHUNK = 5_000


def seed_due_cases(engine: Engine, count: int, opened: datetime, due: datetime) -> list[str]:
    """`count` demo cases under review, each with one pending timer due at `due`."""
    return _seed(engine, count, "under_review", opened, due)


def seed_filed_cases(engine: Engine, count: int, opened: datetime) -> list[str]:
    """`count` demo cases filed (ready for `review`), without timers."""
    return _seed(engine, count, "filed", opened, None)


def _seed(
    engine: Engine, count: int, state: str, opened: datetime, due: datetime | None
) -> list[str]:
    """`count` demo cases in `state` with their first event and, if `due`, one pending timer."""
    references: list[str] = []
    with engine.begin() as connection:
        first = _next_id(connection, Case.id)
        first_event = _next_id(connection, CaseEvent.id)
        for start in range(0, count, CHUNK):
            ids = range(first + start, first + min(start + CHUNK, count))
            refs = [f"DEM-2026-{case_id:06d}" for case_id in ids]
            references += refs
            connection.execute(
                insert(CASES),
                [
                    {
                        "id": case_id,
                        "kind": "demo",
                        "reference": ref,
                        "state": state,
                        "version": 1,
                        "data": {},
                        "opened_at": opened,
                        "updated_at": opened,
                    }
                    for case_id, ref in zip(ids, refs, strict=True)
                ],
            )
            connection.execute(
                insert(EVENTS),
                [
                    chained(
                        ref,
                        {
                            "id": first_event + case_id - first,
                            "case_id": case_id,
                            "sequence": 1,
                            "trigger": "open",
                            "from_state": None,
                            "to_state": state,
                            "actor": "seed",
                            "payload": {},
                            "legal_basis": "seed",
                            "idempotency_key": None,
                            "occurred_at": opened,
                            "effective_at": opened,
                        },
                    )
                    for case_id, ref in zip(ids, refs, strict=True)
                ],
            )
            if due is None:
                continue
            connection.execute(
                insert(TIMERS),
                [
                    {
                        "case_id": case_id,
                        "name": "review_deadline",
                        "state": "under_review",
                        "fires": "lapse",
                        "legal_basis": "seed",
                        "due_at": due,
                        "run_at": due,
                        "status": TimerStatus.PENDING.value,
                        "attempts": 0,
                        "created_by_event_id": first_event + case_id - first,
                    }
                    for case_id in ids
                ],
            )
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("cases", "case_events"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    return references


def chained(reference: str, event: dict[str, Any]) -> dict[str, Any]:
    """The first event of case `reference` with its link in the chain, as the engine writes it."""
    content = chain.event_content(**{k: v for k, v in event.items() if k != "id"})
    previous = chain.genesis(reference)
    return {**event, "prev_hash": previous, "hash": chain.link(previous, content)}


def _next_id(connection: Connection, column: InstrumentedAttribute[int]) -> int:
    return int(connection.execute(select(func.coalesce(func.max(column), 0))).scalar_one()) + 1

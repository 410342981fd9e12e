"""Bulk seeding for tests and benchmarks: cases of the demo machine waiting in UNDER_REVIEW with
their review timer already due. Written with Core inserts so 100k rows take seconds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, insert, select

from storage.models import Case, CaseEvent, Timer, TimerStatus

CHUNK = 5_000


def seed_due_cases(engine: Engine, count: int, opened: datetime, due: datetime) -> list[str]:
    """`count` demo cases under review, each with one pending timer due at `due`."""
    references: list[str] = []
    with engine.begin() as connection:
        first = int(connection.scalar(select(func.coalesce(func.max(Case.id), 0)))) + 1
        first_event = int(connection.scalar(select(func.coalesce(func.max(CaseEvent.id), 0)))) + 1
        for start in range(0, count, CHUNK):
            ids = range(first + start, first + min(start + CHUNK, count))
            refs = [f"DEM-2026-{case_id:06d}" for case_id in ids]
            references += refs
            connection.execute(
                insert(Case.__table__),
                [
                    {"id": case_id, "kind": "demo", "reference": ref, "state": "under_review",
                     "version": 1, "data": {}, "opened_at": opened, "updated_at": opened}
                    for case_id, ref in zip(ids, refs, strict=True)
                ],
            )
            connection.execute(
                insert(CaseEvent.__table__),
                [
                    {"id": first_event + case_id - first, "case_id": case_id, "sequence": 1,
                     "trigger": "open", "from_state": None, "to_state": "under_review",
                     "actor": "seed", "payload": {}, "legal_basis": "seed",
                     "idempotency_key": None, "occurred_at": opened}
                    for case_id in ids
                ],
            )
            connection.execute(
                insert(Timer.__table__),
                [
                    {"case_id": case_id, "name": "review_deadline", "state": "under_review",
                     "fires": "lapse", "legal_basis": "seed", "due_at": due, "run_at": due,
                     "status": TimerStatus.PENDING.value, "attempts": 0,
                     "created_by_event_id": first_event + case_id - first}
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

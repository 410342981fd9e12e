"""What every flow needs: the services' context from the environment (MISURE_*), at the
instant given as a parameter or now, and a table artifact of what a run changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect.artifacts import create_table_artifact

from services.clock import Clock, FixedClock, SystemClock
from services.context import Context, shared_engine
from services.notices import Office
from services.settings import Settings

MAX_ROWS = 500  # rows of a table artifact; the count says how many there were


def context(now: str | None = None) -> Context:
    """`now`: an ISO 8601 instant with offset (tests, catching up), else the system clock.
    The tasks of a flow run share one engine (one connection pool) per database."""
    clock: Clock = SystemClock()
    if now is not None:
        instant = datetime.fromisoformat(now)
        if instant.tzinfo is None:
            raise ValueError(f"now={now!r} needs an offset")
        clock = FixedClock(instant.astimezone(UTC))
    settings = Settings()
    return Context.from_settings(settings, clock, shared_engine(settings.database_url))


def office() -> Office:
    settings = Settings()
    return Office.from_settings(settings)


def publish_table(key: str, rows: list[dict[str, Any]], description: str) -> None:
    """A table artifact of what the run changed (at most MAX_ROWS rows), if it changed
    anything."""
    if not rows:
        return
    shown = rows[:MAX_ROWS]
    more = f" (first {MAX_ROWS} of {len(rows)})" if len(rows) > MAX_ROWS else ""
    create_table_artifact(table=shown, key=key, description=description + more)

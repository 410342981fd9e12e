"""`make bench`: the sweep on the real placement workload (issue 10), beside the engine's test
machine and the same baselines, all measured in this run.

Placement lapses are the heaviest firings the sweep meets: each one releases a place and its
money (the reservation closed under the allocation's lock) and signals a reallocation. The
workload: N attestations at court at one UIEPE, seeded through the real services (not timed),
all lapsing at the same instant. Beside it: N due timers of the test machine (no effects), the
raw-SQL floor and SpiffWorkflow 3.2, each on a fresh database.

Environment: MISURE_BENCH_POSTGRES_URL (PostgreSQL runs too when set), MISURE_BENCH_PLACEMENTS
(N, 2,000). Tables go to stdout, progress to stderr.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.baselines import floor_rate, spiff_rate
from bench.engine import DEMO_MODULES, DUE, OPENED, migrate, settle
from services import engine
from services.clock import FixedClock
from services.context import Context
from services.placements import budget, reallocation, reference
from services.placements.procedure import MODULES
from services.timers import SweepMode, sweep
from storage.database import make_engine
from storage.placements.models import Reservation
from tests.support.placements import REFERENCE, queued
from tests.support.seed import seed_due_cases

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
err = Console(stderr=True)
out = Console(width=160)


@contextmanager
def fresh(database: str, folder: Path, postgres_url: str) -> Iterator[str]:
    """A migrated, empty database of its own."""
    if database == "SQLite":
        url = f"sqlite:///{folder / uuid.uuid4().hex}.db"
        migrate(url)
        yield url
        return
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"misure_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_placements(url: str, count: int) -> datetime:
    """`count` attestations at court at UIEPE-TO, issued on Monday 2 March 2026; return the
    instant their validity lapses (00:00 on 3 May)."""
    data = deepcopy(REFERENCE)
    data["conventions"][0]["places"] = count
    # UIEPE-TO gets 60 % of it (its detainees), enough for every place at EUR 12,250
    data["budget_years"] = [{"year": 2026, "appropriation": str(Decimal(count) * 25_000)}]
    ctx = Context.build(make_engine(url), FixedClock(MONDAY), MODULES)
    reference.load(ctx, data)
    budget.split(ctx, 2026)
    for _ in range(count):
        queued(ctx)
    attested = reallocation.reallocate(ctx, ["UIEPE-TO"]).attested
    if len(attested) != count:
        raise RuntimeError(f"{len(attested)} of {count} attested")
    due = engine.describe(ctx, attested[0].reference).pending_timers[0].due_at
    ctx.db.dispose()
    return due


def timed_sweep(ctx: Context, at: datetime, mode: SweepMode, count: int) -> float:
    started = time.perf_counter()
    report = sweep(ctx, at, batch=500, mode=mode)
    seconds = time.perf_counter() - started
    if report.fired != count or report.handled != count:
        raise RuntimeError(f"{mode.value}: fired {report.fired} of {count}")
    return seconds


def placement_rate(
    database: str, folder: Path, postgres_url: str, mode: SweepMode, n: int
) -> float:
    with fresh(database, folder, postgres_url) as url:
        err.log(f"{database}: seeding {n:,} placements at court through the services")
        due = seed_placements(url, n)
        settle(url)
        ctx = Context.build(make_engine(url), FixedClock(due), MODULES)
        seconds = timed_sweep(ctx, due, mode, n)
        with ctx.read() as uow:
            released = uow.session.scalar(
                select(func.count())
                .select_from(Reservation)
                .where(Reservation.status == "released")
            )
        if released != n:
            raise RuntimeError(f"{released} of {n} places released")
        ctx.db.dispose()
    return n / seconds


def demo_rate(database: str, folder: Path, postgres_url: str, mode: SweepMode, n: int) -> float:
    with fresh(database, folder, postgres_url) as url:
        db = make_engine(url)
        seed_due_cases(db, n, OPENED, DUE)
        db.dispose()
        settle(url)
        ctx = Context.build(make_engine(url), FixedClock(DUE), machine_modules=DEMO_MODULES)
        seconds = timed_sweep(ctx, DUE, mode, n)
        ctx.db.dispose()
    return n / seconds


def baseline(database: str, folder: Path, postgres_url: str, measure: str, n: int) -> float:
    with fresh(database, folder, postgres_url) as url:
        return floor_rate(url, n) if measure == "floor" else spiff_rate(url, n)


def main() -> None:
    n = int(os.environ.get("MISURE_BENCH_PLACEMENTS", "2000"))
    postgres_url = os.environ.get("MISURE_BENCH_POSTGRES_URL", "")
    databases = ["SQLite", *(["PostgreSQL"] if postgres_url else [])]
    started = time.perf_counter()
    table = Table(
        "database", "mode", "placement lapses/s", "test machine/s", "placement/machine",
        "floor/s", "placement/floor", "Spiff/s", "placement/Spiff",
        title=f"Sweep on the placement workload ({n:,} lapses freeing places and money)",
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for database in databases:
            floor = baseline(database, folder, postgres_url, "floor", n)
            spiff = baseline(database, folder, postgres_url, "spiff", min(n, 2000))
            err.log(f"{database}: floor {floor:,.0f}/s, SpiffWorkflow {spiff:,.0f}/s")
            for mode in (SweepMode.EACH, SweepMode.BATCHED):
                ours = placement_rate(database, folder, postgres_url, mode, n)
                machine = demo_rate(database, folder, postgres_url, mode, n)
                err.log(
                    f"{database} {mode.value}: placements {ours:,.0f}/s, machine {machine:,.0f}/s"
                )
                table.add_row(
                    database, mode.value, f"{ours:,.0f}", f"{machine:,.0f}",
                    f"{ours / machine:.2f}", f"{floor:,.0f}", f"{ours / floor:.2f}",
                    f"{spiff:,.0f}", f"{ours / spiff:.2f}",
                )  # fmt: skip
    out.print(table)
    out.print(f"Wall time: {time.perf_counter() - started:,.0f} s", highlight=False)


if __name__ == "__main__":
    main()

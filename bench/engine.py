"""`make bench`: transitions and timer firings per second on SQLite and PostgreSQL, each as a
ratio to a raw-SQL floor and to SpiffWorkflow 3.2 measured in the same run (issue 2, item 9).

Environment: MISURE_BENCH_POSTGRES_URL (a server database; throwaway databases are created
beside it), MISURE_BENCH_TIMERS (due timers per sweep, 100,000), MISURE_BENCH_TRANSITIONS
(fired transitions, 10,000), MISURE_BENCH_BASELINE_N (floor cases, 20,000) and
MISURE_BENCH_SPIFF_N (SpiffWorkflow cases, 5,000). Tables go to stdout, progress to stderr.
Every configuration runs on a freshly migrated and seeded database; set-up is never timed.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from queue import Empty, Queue
from threading import Barrier
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from bench.baselines import floor_rate, spiff_rate, spiff_transition_rate
from services.clock import FixedClock
from services.context import Context
from services.engine import fire
from services.schema import upgrade
from services.timers import SweepMode, SweepReport, sweep
from storage.database import make_engine
from storage.models import Case, Timer
from tests.support.seed import seed_due_cases, seed_filed_cases

DEMO_MODULES = ("tests.support.demo",)
DUE = datetime(2026, 4, 1, 22, 0, tzinfo=UTC)
OPENED = DUE - timedelta(days=30)
BATCH = 500
BARRIER_TIMEOUT = 120.0
SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"
SWEEPS = {
    SQLITE: ((SweepMode.EACH, 1), (SweepMode.BATCHED, 1)),
    POSTGRESQL: (
        (SweepMode.EACH, 1),
        (SweepMode.EACH, 2),
        (SweepMode.BATCHED, 1),
        (SweepMode.BATCHED, 2),
    ),
}

Tick = Callable[[int], None]


@dataclass(frozen=True)
class Settings:
    postgres_url: str
    timers: int
    transitions: int
    floor_n: int
    spiff_n: int

    @classmethod
    def from_env(cls) -> Settings:
        def number(name: str, default: int) -> int:
            return int(os.environ.get(name, default))

        return cls(
            postgres_url=os.environ.get(
                "MISURE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
            ),
            timers=number("MISURE_BENCH_TIMERS", 100_000),
            transitions=number("MISURE_BENCH_TRANSITIONS", 10_000),
            floor_n=number("MISURE_BENCH_BASELINE_N", 20_000),
            spiff_n=number("MISURE_BENCH_SPIFF_N", 5_000),
        )


@dataclass(frozen=True)
class Baselines:
    """The peers of one database: floor rate by process count, SpiffWorkflow timer and task."""

    floor: dict[int, float]
    spiff_timer: float
    spiff_transition: float


@dataclass(frozen=True)
class Measure:
    """One configuration of ours: `n` operations in `seconds`."""

    database: str
    mode: str
    sweepers: int
    n: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.n / self.seconds


@dataclass
class Results:
    baselines: dict[str, Baselines] = field(default_factory=dict)
    transitions: list[Measure] = field(default_factory=list)
    firings: list[Measure] = field(default_factory=list)

    def firing(self, database: str, mode: SweepMode, sweepers: int) -> Measure:
        return next(
            m
            for m in self.firings
            if (m.database, m.mode, m.sweepers) == (database, mode.value, sweepers)
        )


class Bench:
    """Runs every configuration in order, showing progress on stderr."""

    def __init__(self, settings: Settings, tmp: Path, progress: Progress) -> None:
        self.settings = settings
        self.tmp = tmp
        self.progress = progress
        self.results = Results()

    def run(self) -> Results:
        for database, sweeps in SWEEPS.items():
            self.measure_baselines(database)
            self.measure_transitions(database)
            for mode, sweepers in sweeps:
                self.measure_sweep(database, mode, sweepers)
        return self.results

    def measure_baselines(self, database: str) -> None:
        floor_n, spiff_n = self.settings.floor_n, self.settings.spiff_n
        processes = (1, 2) if database == POSTGRESQL else (1,)
        with self.fresh(database) as url:
            floor = {
                count: self.rate(
                    f"{database}: floor, processes={count}, n={floor_n:,}",
                    partial(floor_rate, url, floor_n, count),
                )
                for count in processes
            }
            spiff_timer = self.rate(
                f"{database}: SpiffWorkflow timer, n={spiff_n:,}", partial(spiff_rate, url, spiff_n)
            )
            spiff_transition = self.rate(
                f"{database}: SpiffWorkflow user task, n={spiff_n:,}",
                partial(spiff_transition_rate, url, spiff_n),
            )
        self.results.baselines[database] = Baselines(floor, spiff_timer, spiff_transition)

    def measure_transitions(self, database: str) -> None:
        n = self.settings.transitions
        with self.fresh(database) as url:
            seconds = self.step(
                f"{database}: fire 'review' on {n:,} cases", n, partial(transitions_seconds, url, n)
            )
        self.results.transitions.append(Measure(database, "fire", 1, n, seconds))

    def measure_sweep(self, database: str, mode: SweepMode, sweepers: int) -> None:
        count = self.settings.timers
        with self.fresh(database) as url:
            self.progress.console.log(f"{database}: seeding {count:,} due timers")
            engine = make_engine(url)
            seed_due_cases(engine, count, OPENED, DUE)
            engine.dispose()
            settle(url)
            seconds = self.step(
                f"{database}: sweep {mode.value}, sweepers={sweepers}, {count:,} due timers",
                count,
                partial(sweep_seconds, url, count, mode, sweepers),
            )
        self.results.firings.append(Measure(database, mode.value, sweepers, count, seconds))

    def rate(self, label: str, measure: Callable[[], float]) -> float:
        """Run a baseline (no progress inside it) and log its rate."""
        task = self.progress.add_task(label, total=None)
        rate = measure()
        self.progress.update(task, total=1, completed=1)
        self.progress.console.log(f"{label}: {rate:,.0f}/s")
        return rate

    def step(self, label: str, total: int, measure: Callable[[Tick], float]) -> float:
        """Run one of ours with a progress bar and log its duration and rate."""
        task = self.progress.add_task(label, total=total)
        seconds = measure(lambda done: self.progress.advance(task, done))
        self.progress.update(task, completed=total)
        self.progress.console.log(f"{label}: {seconds:,.1f} s, {total / seconds:,.0f}/s")
        return seconds

    @contextmanager
    def fresh(self, database: str) -> Iterator[str]:
        """A migrated, empty database of its own: a temp file or a throwaway server database."""
        if database == SQLITE:
            path = self.tmp / f"{uuid.uuid4().hex}.db"
            url = f"sqlite:///{path}"
            migrate(url)
            try:
                yield url
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        admin = create_engine(self.settings.postgres_url, isolation_level="AUTOCOMMIT")
        name = f"misure_bench_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            server = make_url(self.settings.postgres_url)
            throwaway = server.set(database=name).render_as_string(hide_password=False)
            migrate(throwaway)
            yield throwaway
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def settle(url: str) -> None:
    """After seeding: fresh planner statistics and a checkpoint, so the run pays for neither."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = sqlite3.connect(parsed.database or "")
        file.execute("ANALYZE")
        file.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        file.close()
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
        connection.execute(text("CHECKPOINT"))
    engine.dispose()


def transitions_seconds(url: str, n: int, tick: Tick, synchronous: str | None = None) -> float:
    """Seconds for `n` calls of `fire(..., "review", ...)`, one transaction each, on cases in
    FILED; each schedules the 30-day review timer. `synchronous` replaces SQLite's setting
    (the engine's is FULL)."""
    engine = make_engine(url)
    if synchronous is not None:

        @event.listens_for(engine, "connect")
        def _synchronous(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    references = seed_filed_cases(engine, n, OPENED)
    settle(url)
    ctx = Context.build(
        engine, FixedClock(OPENED + timedelta(days=1)), machine_modules=DEMO_MODULES
    )
    start = time.perf_counter()
    for done, reference in enumerate(references, 1):
        fire(ctx, reference, "review", "bench")
        if done % BATCH == 0:
            tick(BATCH)
    seconds = time.perf_counter() - start
    expect(engine, {"under_review": n}, {"pending": n})
    engine.dispose()
    return seconds


def sweep_seconds(url: str, count: int, mode: SweepMode, sweepers: int, tick: Tick) -> float:
    """Seconds for `sweepers` spawned processes, released together, to fire `count` due timers:
    from the first start to the last end."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(sweepers, mp_context=context) as pool:
        barrier = manager.Barrier(sweepers)
        ticks: Queue[int] = manager.Queue()
        futures = [pool.submit(sweeper, url, mode, barrier, ticks) for _ in range(sweepers)]
        while not all(future.done() for future in futures):
            try:
                tick(ticks.get(timeout=0.5))
            except Empty:
                continue
        spans = [future.result() for future in futures]
    fired = sum(report.fired for _, _, report in spans)
    others = sum(report.handled - report.fired for _, _, report in spans)
    if fired != count or others:
        raise RuntimeError(f"{mode.value} sweep fired {fired} of {count} ({others} not fired)")
    engine = make_engine(url)
    expect(engine, {"lapsed": count}, {"fired": count})
    engine.dispose()
    return max(end for _, end, _ in spans) - min(start for start, _, _ in spans)


def sweeper(
    url: str, mode: SweepMode, barrier: Barrier, ticks: Queue[int]
) -> tuple[float, float, SweepReport]:
    """One sweeper process: connect, wait for the others, sweep until nothing is due."""
    engine = make_engine(url)
    ctx = Context.build(engine, FixedClock(DUE), machine_modules=DEMO_MODULES)
    with engine.connect():
        pass  # the pool holds a live connection before the clock starts
    barrier.wait(timeout=BARRIER_TIMEOUT)
    start = time.perf_counter()
    report = sweep(ctx, DUE, BATCH, mode, progress=ticks.put)
    end = time.perf_counter()
    engine.dispose()
    return start, end, report


def expect(engine: Engine, states: dict[str, int], timers: dict[str, int]) -> None:
    """Fail unless the cases and timers are exactly as the run should have left them."""
    with engine.connect() as connection:
        found_states = {
            state: count
            for state, count in connection.execute(
                select(Case.state, func.count()).group_by(Case.state)
            )
        }
        found_timers = {
            status: count
            for status, count in connection.execute(
                select(Timer.status, func.count()).group_by(Timer.status)
            )
        }
    if found_states != states or found_timers != timers:
        raise RuntimeError(
            f"expected cases {states} and timers {timers}, found {found_states} and {found_timers}"
        )


@dataclass(frozen=True)
class Target:
    name: str
    ours: float
    factor: float
    against: str
    baseline: float

    @property
    def met(self) -> bool:
        return self.ours >= self.factor * self.baseline

    def line(self) -> str:
        verdict = "met" if self.met else "NOT met"
        return (
            f"{verdict:>7}: {self.name}: {self.ours:,.0f}/s vs {self.factor:g} x {self.against} "
            f"{self.baseline:,.0f}/s = {self.factor * self.baseline:,.0f}/s "
            f"(ratio {self.ours / self.baseline:.2f})"
        )


def targets(results: Results) -> list[Target]:
    sqlite, postgres = results.baselines[SQLITE], results.baselines[POSTGRESQL]
    each, batched = SweepMode.EACH, SweepMode.BATCHED
    return [
        Target(
            "SQLite firings, each, sweepers=1 >= 3x SpiffWorkflow",
            results.firing(SQLITE, each, 1).rate,
            3,
            "SpiffWorkflow",
            sqlite.spiff_timer,
        ),
        *(
            Target(
                f"PostgreSQL firings, each, sweepers={n} >= 0.8x floor with processes={n}",
                results.firing(POSTGRESQL, each, n).rate,
                0.8,
                "floor",
                postgres.floor[n],
            )
            for n in (1, 2)
        ),
        *(
            Target(
                f"PostgreSQL firings, batched, sweepers={n} >= 2x floor with processes=1",
                results.firing(POSTGRESQL, batched, n).rate,
                2,
                "floor",
                postgres.floor[1],
            )
            for n in (1, 2)
        ),
    ]


def transitions_table(results: Results, settings: Settings) -> Table:
    table = Table(title="Transitions per second (fire 'review', one transaction each)")
    table.add_column("database")
    for header in ("n", "seconds", "ours/s", "floor/s", "ours/floor", "Spiff/s", "ours/Spiff"):
        table.add_column(header, justify="right")
    for measure in results.transitions:
        peers = results.baselines[measure.database]
        table.add_row(
            measure.database,
            f"{measure.n:,}",
            f"{measure.seconds:,.1f}",
            f"{measure.rate:,.0f}",
            f"{peers.floor[1]:,.0f} (n={settings.floor_n:,}, 1 proc)",
            f"{measure.rate / peers.floor[1]:.2f}",
            f"{peers.spiff_transition:,.0f} (n={settings.spiff_n:,})",
            f"{measure.rate / peers.spiff_transition:.2f}",
        )
    return table


def firings_table(results: Results, settings: Settings) -> Table:
    table = Table(title="Timer firings per second (due timers swept to nothing)")
    table.add_column("database")
    for header in ("mode", "sweepers", "n", "seconds", "ours/s", "floor/s", "ours/floor"):
        table.add_column(header, justify="right")
    for header in ("Spiff/s", "ours/Spiff"):
        table.add_column(header, justify="right")
    for measure in results.firings:
        peers = results.baselines[measure.database]
        floor = peers.floor[measure.sweepers]
        table.add_row(
            measure.database,
            measure.mode,
            str(measure.sweepers),
            f"{measure.n:,}",
            f"{measure.seconds:,.1f}",
            f"{measure.rate:,.0f}",
            f"{floor:,.0f} (n={settings.floor_n:,}, {measure.sweepers} proc)",
            f"{measure.rate / floor:.2f}",
            f"{peers.spiff_timer:,.0f} (n={settings.spiff_n:,})",
            f"{measure.rate / peers.spiff_timer:.2f}",
        )
    return table


def main() -> None:
    """Run every configuration and print the tables, the targets and the wall time."""
    settings = Settings.from_env()
    started = time.perf_counter()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        tempfile.TemporaryDirectory(prefix="misure-bench-") as tmp,
        Progress(*columns, console=Console(stderr=True)) as progress,
    ):
        results = Bench(settings, Path(tmp), progress).run()
    wall = time.perf_counter() - started
    out = Console(width=None if sys.stdout.isatty() else 160)
    out.print(transitions_table(results, settings))
    out.print(firings_table(results, settings))
    out.print("Targets:", highlight=False)
    for target in targets(results):
        out.print(target.line(), highlight=False)
    minutes, seconds = divmod(round(wall), 60)
    out.print(f"Wall time of the whole run: {minutes} min {seconds} s", highlight=False)


if __name__ == "__main__":
    main()

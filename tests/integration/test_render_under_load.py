"""The embedded default never locks itself (issue 11, item 2): reads take no write lock, and a
notice is rendered outside the write transaction, so 1,000 renders in another process hold up
no sweep, no decision and no case list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine, Select, func, select, text

from services.applied import NOTICE_TOPIC
from services.clock import FixedClock
from services.context import Context
from services.engine import fire, list_cases
from services.timers import sweep
from storage.database import is_postgresql, make_engine
from storage.models import Document, OutboxMessage, OutboxStatus
from tests.conftest import DEMO_MODULES, START
from tests.support.seed import seed_due_cases

ROOT = Path(__file__).resolve().parents[2]
MISURE = str(Path(sys.executable).with_name("misure"))
NOTICES = 1_000
SWEEP = 10  # timers fired by each sweep
DECISIONS = 2  # transitions fired by each round
ROUNDS_ALONE = 20  # rounds measured before the render starts
MOST_ROUNDS = 1_500  # the material seeded for the rounds under the render
PAUSE = 0.3  # seconds between rounds
NOW = START
DUE, LATER = NOW - timedelta(hours=1), NOW + timedelta(days=60)
OPENED = NOW - timedelta(days=31)
# Far below the 30 s busy timeout, far above a sweep of 10 timers or a list of 500 cases that
# waits for nothing (a tenth of a second at most): what a render holding the writer exceeds.
BOUND = 3.0


@dataclass
class Slowest:
    """The longest sweep, decision and case list of a phase, in seconds."""

    rounds: int = 0
    times: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("sweep", "decision", "case list"), 0.0)
    )

    def time(self, what: str, operation: Callable[[], object]) -> None:
        started = time.perf_counter()
        operation()
        self.times[what] = max(self.times[what], time.perf_counter() - started)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def lctx(engine: Engine) -> Context:
    return Context.build(engine, FixedClock(NOW), machine_modules=DEMO_MODULES)


def count(ctx: Context, query: Select[tuple[int]]) -> int:
    with ctx.read() as uow:
        return uow.session.scalar(query) or 0


@pytest.mark.slow
@pytest.mark.timeout(900)  # 1,000 WeasyPrint renders: 1.5-5 minutes on two busy cores
def test_sweeps_decisions_and_case_lists_run_while_1000_notices_render(
    lctx: Context,
    engine: Engine,
    sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for reference in seed_due_cases(engine, NOTICES, OPENED, LATER):
        fire(lctx, reference, "reject", "tribunale")  # each asks for a notice
    rounds = 1 + ROUNDS_ALONE + MOST_ROUNDS
    seed_due_cases(engine, rounds * SWEEP, OPENED, DUE)  # what the sweeps fire
    undecided = iter(seed_due_cases(engine, rounds * DECISIONS, OPENED, LATER))

    def round_(slowest: Slowest) -> None:
        slowest.time("sweep", partial(sweep, lctx, NOW, batch=SWEEP, limit=SWEEP))
        for _ in range(DECISIONS):
            slowest.time("decision", partial(fire, lctx, next(undecided), "suspend", "tribunale"))
        slowest.time("case list", partial(list_cases, lctx))
        slowest.rounds += 1
        time.sleep(PAUSE)

    round_(Slowest())  # warm-up: statements compiled, pages cached
    alone = Slowest()
    for _ in range(ROUNDS_ALONE):
        round_(alone)
    env = {
        **os.environ,
        "MISURE_DATABASE_URL": sqlite_url,
        "MISURE_PROCEDURES": "[]",
        "MISURE_MACHINE_MODULES": json.dumps(DEMO_MODULES),
        "PYTHONPATH": str(ROOT),
    }
    out, err = tmp_path / "rendered.json", tmp_path / "errors.txt"
    started = time.perf_counter()
    with out.open("w") as stdout, err.open("w") as stderr:  # files: a full pipe would block it
        renderer = subprocess.Popen(
            [MISURE, "notices", "render", "--json"], env=env, cwd=ROOT, stdout=stdout, stderr=stderr
        )
    loaded = Slowest()
    try:
        while renderer.poll() is None and loaded.rounds < MOST_ROUNDS:
            round_(loaded)
        renderer.wait(timeout=600)
    finally:
        if renderer.poll() is None:
            renderer.kill()
    render_seconds = time.perf_counter() - started

    assert renderer.returncode == 0, err.read_text()
    report = json.loads(out.read_text())
    assert (report["rendered"], report["failed"]) == (NOTICES, 0)
    assert count(lctx, select(func.count()).select_from(Document)) == NOTICES
    pending = select(func.count()).where(
        OutboxMessage.topic == NOTICE_TOPIC, OutboxMessage.status != OutboxStatus.DONE
    )
    assert count(lctx, pending) == 0
    with capsys.disabled():
        print(f"\n{NOTICES:,} notices rendered in {render_seconds:.1f} s; slowest, in seconds:")
        print(f"  {'':10} {'alone':>8} {'rendering':>10}")
        for what, seconds in alone.times.items():
            print(f"  {what:10} {seconds:8.3f} {loaded.times[what]:10.3f}")
        print(f"  rounds: {alone.rounds} alone, {loaded.rounds} while rendering")
    assert max(loaded.times.values()) < BOUND, loaded.times
    assert loaded.rounds >= 100  # the renders and the rounds overlapped


def test_a_read_unit_neither_waits_for_the_writer_nor_commits(ctx: Context) -> None:
    with ctx.uow() as writer:
        writer.session.connection()  # SQLite: BEGIN IMMEDIATE, the database's one writer
        started = time.perf_counter()
        with ctx.read() as reader:
            assert list(reader.repo.cases(None, None, 10, ctx.clock.now())) == []
            if is_postgresql(ctx.db):
                assert reader.session.scalar(text("SHOW transaction_read_only")) == "on"
            with pytest.raises(RuntimeError, match="does not commit"):
                reader.commit()
        assert time.perf_counter() - started < 1.0  # not the 30 s busy timeout

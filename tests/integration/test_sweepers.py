"""Sweeper processes as operators run them (`misure timers sweep`): many at once, and killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from storage.database import make_engine
from storage.models import Case, CaseEvent, Timer, TimerStatus
from tests.support.seed import seed_due_cases

ROOT = Path(__file__).resolve().parents[2]
DUE = datetime(2026, 4, 1, 22, 0, tzinfo=UTC)
MISURE = str(Path(sys.executable).with_name("misure"))


def sweeper(url: str, *options: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MISURE_DATABASE_URL": url,
        "MISURE_MACHINE_MODULES": '["tests.support.demo"]',
        "PYTHONPATH": str(ROOT),
    }
    command = [MISURE, "timers", "sweep", "--now", DUE.isoformat(), "--json", *options]
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> dict[str, object]:
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    report: dict[str, object] = json.loads(stdout)
    return report


def assert_each_fired_exactly_once(url: str, count: int) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        per_case = connection.execute(
            select(CaseEvent.case_id, func.count())
            .where(CaseEvent.trigger == "lapse")
            .group_by(CaseEvent.case_id)
        ).all()
        statuses = dict(
            connection.execute(select(Timer.status, func.count()).group_by(Timer.status)).all()
        )
        states = dict(
            connection.execute(select(Case.state, func.count()).group_by(Case.state)).all()
        )
    engine.dispose()
    assert len(per_case) == count
    assert {n for _, n in per_case} == {1}
    assert statuses == {TimerStatus.FIRED.value: count}
    assert states == {"lapsed": count}


def seed(url: str, count: int) -> None:
    engine = make_engine(url)
    seed_due_cases(engine, count, DUE - timedelta(days=30), DUE)
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_four_sweepers_fire_ten_thousand_timers_each_exactly_once(postgres_url: str) -> None:
    seed(postgres_url, 10_000)
    processes = [sweeper(postgres_url, "--batch", "250") for _ in range(4)]
    reports = [finish(process) for process in processes]
    assert sum(int(str(r["fired"])) for r in reports) == 10_000
    assert all(int(str(r["fired"])) > 0 for r in reports)  # the work was really shared
    assert_each_fired_exactly_once(postgres_url, 10_000)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["each", "batched"])
def test_a_sweeper_killed_mid_batch_loses_nothing_and_doubles_nothing(
    database_url: str, mode: str
) -> None:
    count = 3_000 if mode == "each" else 20_000  # enough that the kill lands mid-run
    seed(database_url, count)
    watcher = create_engine(database_url)
    process = sweeper(database_url, "--batch", "400", "--mode", mode)
    fired = 0
    deadline = time.monotonic() + 120
    while fired < 400 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        with watcher.connect() as connection:
            fired = int(
                connection.scalar(
                    select(func.count()).select_from(Timer).where(Timer.status == "fired")
                )
                or 0
            )
    assert process.poll() is None, "the sweeper finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    with watcher.connect() as connection:
        lapses = connection.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.trigger == "lapse")
        )
        fired = connection.scalar(
            select(func.count()).select_from(Timer).where(Timer.status == "fired")
        )
    watcher.dispose()
    assert 0 < fired < count
    assert lapses == fired  # every committed firing has its event, and no event lacks a firing
    report = finish(sweeper(database_url, "--batch", "400", "--mode", mode))
    assert report["fired"] == count - fired
    assert_each_fired_exactly_once(database_url, count)

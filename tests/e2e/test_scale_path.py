"""The scale path: misure and the Prefect server on PostgreSQL, two workers running sweep flows
at once over the same due timers; every timer fires exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL
from tests.integration.test_sweepers import DUE, assert_each_fired_exactly_once, seed
from tests.support.stack import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TIMERS = 4_000
RUNS = 4


@pytest.fixture
def prefect_database() -> Iterator[str]:
    """A database of its own for the Prefect server (asyncpg), dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"prefect_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.timeout(900)
def test_two_workers_on_postgresql_fire_every_due_timer_exactly_once(
    tmp_path: Path, postgres_url: str, prefect_database: str
) -> None:
    seed(postgres_url, TIMERS)
    stack = Stack(
        tmp_path,
        postgres_url,
        args=("--no-demo", "--workers", "2", "--worker-limit", "2"),  # the runs are shared
        env={
            "MISURE_MACHINE_MODULES": '["tests.support.demo"]',
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_database,
        },
    )
    with stack:
        deployment = stack.api("GET", "/deployments/name/sweep-due-timers/sweep-due-timers")
        runs = [
            stack.api(
                "POST",
                f"/deployments/{deployment['id']}/create_flow_run",
                {"parameters": {"now": DUE.isoformat(), "batch": 250}},
            )["id"]
            for _ in range(RUNS)
        ]
        deadline = time.monotonic() + 600
        states: list[str] = []
        while time.monotonic() < deadline:
            states = [stack.api("GET", f"/flow_runs/{run}")["state_type"] for run in runs]
            if all(state in ("COMPLETED", "FAILED", "CRASHED") for state in states):
                break
            time.sleep(2)
        assert states == ["COMPLETED"] * RUNS, states
    assert stack.exit_code == 0
    assert_each_fired_exactly_once(postgres_url, TIMERS)
    logs = [(tmp_path / "log" / f"prefect-worker-{n}.log").read_text() for n in (1, 2)]
    for log in logs:  # both workers ran sweeps; the server refused a run to the second taker
        assert "submitted to infrastructure" in log

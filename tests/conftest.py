"""Shared fixtures: a migrated database per test, on SQLite and (marked `postgres`) PostgreSQL.

Each database is a copy of one migrated once per session (SQLite: the backup API; PostgreSQL:
CREATE DATABASE ... TEMPLATE), so that a test pays for a copy, not for every migration.

PostgreSQL tests need MISURE_TEST_POSTGRES_URL; `make test` sets it and starts the server. Without
it they fail: they never skip.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from services.clock import FixedClock
from services.context import Context
from services.lpu.procedure import PROCEDURE as LPU
from services.probation.procedure import PROCEDURE as PROBATION
from services.register.procedure import PROCEDURE as REGISTER
from services.schema import upgrade
from storage.database import make_engine

DEMO_MODULES = ["tests.support.demo"]
POSTGRES_URL = os.environ.get("MISURE_TEST_POSTGRES_URL", "")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _postgres_database(url: str, template: str | None = None) -> Iterator[str]:
    """A fresh database on the server (a copy of `template`, if given), dropped afterwards."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"misure_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated once for the session: the original of every test's copy."""
    path = tmp_path_factory.mktemp("migrated") / "misure.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_migrated: Path) -> str:
    """A migrated, empty SQLite database in a temp file."""
    target = tmp_path / "misure.db"
    with sqlite3.connect(_sqlite_migrated) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def _postgres_migrated() -> Iterator[str | None]:
    """A PostgreSQL database migrated once for the session: the template of every test's."""
    if not POSTGRES_URL:
        yield None
        return
    for url in _postgres_database(POSTGRES_URL):
        _migrate(url)
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture
def postgres_url(_postgres_migrated: str | None) -> Iterator[str]:
    """A migrated, empty PostgreSQL database of its own, dropped after the test."""
    if not POSTGRES_URL or _postgres_migrated is None:
        pytest.fail("MISURE_TEST_POSTGRES_URL is not set: PostgreSQL tests cannot run")
    yield from _postgres_database(POSTGRES_URL, template=_postgres_migrated)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that uses it runs on SQLite and on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


# The procedures with a migration branch of their own (placements are in the shared chain).
BRANCHES = tuple(p.migrations for p in (REGISTER, LPU, PROBATION) if p.migrations is not None)
BRANCH_TABLES = (*REGISTER.tables, *LPU.tables, *PROBATION.tables)


def _migrate(url: str) -> None:
    """The shared chain and the procedures' branches: every table a test may use."""
    engine = make_engine(url)
    upgrade(engine, BRANCHES, BRANCH_TABLES)
    engine.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def ctx(db: Engine, clock: FixedClock) -> Context:
    return Context.build(db, clock, machine_modules=DEMO_MODULES)

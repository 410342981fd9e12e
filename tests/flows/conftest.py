"""Flow tests against a real Prefect test server, started once per session (heartbeat off,
ARCHITECTURE.md), and a migrated misure database per test, which the flows find through the
MISURE_* environment as they would in production."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness

from services.clock import FixedClock
from services.context import Context
from storage.database import make_engine
from tests.conftest import START
from tests.support.placements import PLACEMENTS, load_reference


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    with (
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=90),
    ):
        yield


@pytest.fixture
def fctx(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    """The services' context on the database the flows use, with the placements' reference
    data; its clock drives the test's own service calls."""
    monkeypatch.setenv("MISURE_DATABASE_URL", sqlite_url)
    db = make_engine(sqlite_url)
    ctx = Context.build(db, FixedClock(START), PLACEMENTS)
    load_reference(ctx)
    yield ctx
    db.dispose()

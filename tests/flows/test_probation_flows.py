"""Probation's flow on a real Prefect test server (tests/flows/conftest.py): the dashboard per
UEPE, read back through the Prefect API as the UI shows it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest

from flows.probation.dashboard import probation_dashboard
from machines.calendar import ROME
from services.clock import FixedClock
from services.context import Context
from services.settings import Settings
from storage.database import make_engine
from tests.flows.test_register_flows import latest_artifact
from tests.integration.test_probation import START, UEPE
from tests.integration.test_probation_dashboard import the_probations

PROCEDURES = '["services.probation.procedure"]'


@pytest.fixture
def pfctx(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    monkeypatch.setenv("MISURE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MISURE_PROCEDURES", PROCEDURES)
    db = make_engine(sqlite_url)
    yield Context.from_settings(Settings(), FixedClock(START), db)  # migrated: tests/conftest
    db.dispose()


def test_the_probation_dashboard_in_its_artifacts(pfctx: Context) -> None:
    cases = the_probations(pfctx)
    result = probation_dashboard(now=datetime(2026, 4, 5, 9, 0, tzinfo=ROME).isoformat())
    assert result["offices"] == 2 and result["running"] == 2
    assert any(cases["R2"] in incident for incident in result["incidents"])
    markdown = str(latest_artifact("probation-dashboard").data)
    assert markdown.startswith("# Messe alla prova al 5 aprile 2026")
    table = json.loads(str(latest_artifact("probation-offices").data))
    rows = {row["UEPE"]: row for row in table}
    assert (rows[UEPE]["in corso"], rows[UEPE]["udienza di revoca"]) == (2, 1)
    assert rows[UEPE]["al giudice"] == 1 and rows[UEPE]["in istruttoria"] == 1

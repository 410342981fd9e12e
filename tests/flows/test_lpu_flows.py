"""Community work's flow on a real Prefect test server (tests/flows/conftest.py): the LPU
dashboard, per host entity and with its incidents, read back through the Prefect API as the UI
shows it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flows.lpu.dashboard import lpu_dashboard
from services.clock import FixedClock
from services.context import Context
from services.settings import Settings
from storage.database import make_engine
from tests.flows.test_register_flows import latest_artifact
from tests.integration.test_lpu_dashboard import AURORA, BRIDGE, LOOK, TURIN, the_work
from tests.integration.test_lpu_placements import MONDAY

PROCEDURES = '["services.lpu.procedure"]'


@pytest.fixture
def lfctx(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    """The context of the procedure the flow loads from the environment, on the database it
    uses."""
    monkeypatch.setenv("MISURE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MISURE_PROCEDURES", PROCEDURES)
    db = make_engine(sqlite_url)
    yield Context.from_settings(Settings(), FixedClock(MONDAY), db)  # migrated: tests/conftest
    db.dispose()


def test_the_lpu_dashboard_shows_entities_and_incidents_in_its_artifacts(
    lfctx: Context,
) -> None:
    cases = the_work(lfctx)
    result = lpu_dashboard(now=LOOK.isoformat())
    assert result["entities"] == 4 and result["at_work"] == 2
    assert sorted(result["placements"]) == sorted([cases["P1"], cases["P2"], cases["P5"]])
    assert result["to_receive"] == [cases["P3"]]
    assert result["expiring"] == [cases["B"]]
    assert result["overdue_reports"] == [cases["P4"]]
    assert result["breaches"] == [cases["P2"], cases["P5"]]
    assert len(result["incidents"]) == 4 and cases["B"] in result["incidents"][0]

    markdown = str(latest_artifact("lpu-dashboard").data)
    assert "situazione al 3 aprile 2026" in markdown
    for reference in cases.values():  # the drafted renewal too, beside what it renews
        assert reference in markdown, reference
    assert "relazione conclusiva non pervenuta" in markdown

    table = json.loads(str(latest_artifact("lpu-entities").data))
    rows = {row["ente"]: row for row in table}
    assert (rows[TURIN]["persone al lavoro"], rows[TURIN]["posti liberi"]) == (2, 0)
    assert (rows[TURIN]["ore dovute"], rows[TURIN]["ore svolte"]) == (40, "4.50")
    assert rows[TURIN]["ore residue"] == "35.50" and rows[TURIN]["da accogliere"] == 1
    assert rows[AURORA]["inserimenti in corso"] == 1 and rows[BRIDGE]["capienza"] == 3

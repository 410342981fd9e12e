"""The register's flows on a real Prefect test server (tests/flows/conftest.py): the publication
of the register (art. 3 co. 6 D.M. 128/2025), once and not again while nothing changed, and the
register's dashboard; what they did is read back through the Prefect API, as the UI shows it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import Artifact

from flows.register.dashboard import register_dashboard
from flows.register.publication import publish_register
from services.clock import FixedClock
from services.context import Context
from services.register import actors
from services.settings import Settings
from storage.database import make_engine
from tests.conftest import START

PROCEDURES = '["services.register.procedure", "services.placements.procedure"]'
FACILITY: dict[str, Any] = {
    "operator_type": "a",
    "structure_type": "community",
    "housing_suitable": True,
    "hygiene_suitable": True,
    "residence_registration": True,
    "accommodation": True,
    "personal_assistance": True,
    "reintegration": True,
    "filed_on": "2026-02-20",
    "places": 6,
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return tmp_path / "sito"


@pytest.fixture
def rfctx(sqlite_url: str, site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    """The context of the procedures the flows load from the environment (the register among
    them), on the database they use; the register's files go to `site`."""
    monkeypatch.setenv("MISURE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MISURE_PROCEDURES", PROCEDURES)
    monkeypatch.setenv("MISURE_REGISTER_DIR", str(site))
    db = make_engine(sqlite_url)
    yield Context.from_settings(Settings(), FixedClock(START), db)  # migrated: tests/conftest
    db.dispose()


def latest_artifact(key: str) -> Artifact:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=50
        )
    assert found, f"no artifact {key}"
    return max(found, key=lambda artifact: artifact.created or START)


def enrolled(ctx: Context, code: str, section: str) -> str:
    data = {
        **FACILITY,
        "code": code,
        "name": f"Comunità {code}",
        "operator": f"Comune gestore di {code}",
        "address": f"Via {code} 1",
        "section": section,
    }
    return actors.enrol(ctx, data)


def test_the_register_is_published_once_then_only_when_it_changes(
    rfctx: Context, site: Path
) -> None:
    enrolled(rfctx, "FAC-RM-9", "Lazio")
    enrolled(rfctx, "FAC-TO-9", "Piemonte")
    at = START.isoformat()

    first = publish_register(now=at)
    assert first["published"] is not None and first["entries"] == 2
    assert first["sections"] == {"Lazio": 1, "Piemonte": 1}
    assert first["incidents"] == ["Elenco mai pubblicato (art. 3 co. 6 D.M. 128/2025)"]
    assert sorted(p.name for p in site.iterdir()) == sorted(
        f"elenco-{stamp}.{fmt}"
        for stamp in ("20260302-090000", "latest")
        for fmt in ("html", "pdf", "csv", "json")
    )
    shown = str(latest_artifact("register-publication").data)
    assert f"| pubblicazione | n. {first['published']} |" in shown
    assert "| Lazio | 1 | 0 |" in shown and "| Piemonte | 1 | 0 |" in shown
    assert "Elenco mai pubblicato" in shown

    again = publish_register(now=at)
    assert again == {"published": None, "entries": None, "sections": {}, "incidents": []}
    # Nothing new to show: the artifact is still the first run's.
    assert f"| pubblicazione | n. {first['published']} |" in str(
        latest_artifact("register-publication").data
    )

    board = register_dashboard(now=at)
    assert board["incidents"] == [] and not board["publication_stale"]
    assert board["sections"] == 2 and board["procedures"] == []


def test_the_register_dashboard_shows_incidents_in_its_artifacts(rfctx: Context) -> None:
    rome = enrolled(rfctx, "FAC-RM-8", "Lazio")
    turin = enrolled(rfctx, "FAC-TO-8", "Piemonte")
    procedure = actors.open_cancellation(rfctx, turin, ["b"], "Requisito venuto meno.")
    actors.invite(rfctx, procedure.reference)
    pending = actors.file_interest(rfctx, {**FACILITY, "code": "FAC-NA-8", "name": "Comunità NA",
                                           "operator": "Comune di Napoli", "address": "Via 8",
                                           "section": "Campania"}).reference  # fmt: skip
    later = (START + timedelta(days=91)).isoformat()  # past the 90 days between visits

    result = register_dashboard(now=later)
    assert result["procedures"] == [procedure.reference]
    assert result["applications"] == [pending]
    assert sorted(result["overdue_visits"]) == sorted([rome, turin])
    assert result["publication_stale"]
    assert result["incidents"][0] == "Elenco mai pubblicato (art. 3 co. 6 D.M. 128/2025)"

    markdown = str(latest_artifact("register-dashboard").data)
    assert "situazione al 1 giugno 2026" in markdown
    for reference in (rome, turin, procedure.reference, pending):
        assert reference in markdown, reference
    assert "invito a fornire chiarimenti inviato" in markdown
    assert "una ogni 90 giorni" in markdown

    table = json.loads(str(latest_artifact("register-sections").data))
    rows = {row["sezione"]: row for row in table}
    assert rows["Piemonte"]["iscritte"] == 1 and rows["Piemonte"]["procedimenti in corso"] == 1
    assert rows["Lazio"]["visite scadute"] == 1 and rows["Campania"]["da decidere"] == 1

"""The committed OpenAPI schema is the API's, and the API keeps to it under fuzzing:
schemathesis sends well over a thousand generated requests (fixed seed) to a real server; no
5xx, no response outside the schema. Its `positive_data_acceptance` check is left out: the
schema cannot say that a decision date must not be in the future, nor that a case must be
before the registry's own court, so schema-valid requests are rightly refused with 422/404."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.app import create_app
from services import engine, registry
from services.clock import FixedClock
from services.context import Context
from services.lpu import actors
from services.placements import reallocation
from storage.database import make_engine
from tests.integration.test_lpu_conventions import LPU
from tests.integration.test_lpu_conventions import OPENING as CONVENTION
from tests.support.apiserver import ApiServer
from tests.support.placements import COURT_TO, PLACEMENTS, load_reference, queued
from tests.support.stack import ROOT

SCHEMA = ROOT / "docs" / "openapi.json"
CONFIG = ROOT / "tests" / "support" / "schemathesis.toml"
ENTITY = "^/v1/lpu/entity/"
ST = str(Path(sys.executable).with_name("st"))


def test_the_committed_schema_is_the_apps() -> None:
    assert json.loads(SCHEMA.read_text()) == json.loads(json.dumps(create_app().openapi())), (
        "run `misure api openapi --out docs/openapi.json`"
    )


@pytest.fixture
def seeded(sqlite_url: str) -> Iterator[tuple[str, str]]:
    """A database with cases before a court and a host entity's convention: the tokens of the
    court's registry and of the entity."""
    db = make_engine(sqlite_url)
    now = datetime.now(UTC)
    ctx = Context.build(db, FixedClock(now), (*PLACEMENTS, *LPU))
    load_reference(ctx, years=(now.year - 1, now.year))
    for _ in range(3):
        queued(ctx)
    reallocation.reallocate(ctx)
    agreement = engine.open_case(ctx, "lpu_convention", "ente", CONVENTION).reference
    engine.fire(ctx, agreement, "sign", "ministero")
    court = registry.issue_token(ctx, COURT_TO).token
    host = actors.issue_entity_token(ctx, CONVENTION["entity"]).token
    db.dispose()
    yield court, host


def test_generated_requests_get_no_5xx_and_only_documented_answers(
    sqlite_url: str, seeded: tuple[str, str], tmp_path: Path
) -> None:
    """The court routes, with a court registry's token."""
    with ApiServer(sqlite_url, tmp_path / "api.log") as server:
        made = fuzz(server.url, seeded[0], tmp_path, 250, "--exclude-path-regex", ENTITY)
    assert made >= 1000, f"only {made} requests were made"
    server_errors = re.findall(r'HTTP/1\.1" 5\d\d', (tmp_path / "api.log").read_text())
    assert server_errors == []  # the server's own access log agrees


def test_a_host_entitys_routes_under_fuzzing(
    sqlite_url: str, seeded: tuple[str, str], tmp_path: Path
) -> None:
    """The host entity's routes, with its token (fewer examples: a register of up to 200
    sessions fires each of them)."""
    with ApiServer(sqlite_url, tmp_path / "api.log") as server:
        made = fuzz(server.url, seeded[1], tmp_path, 150, "--include-path-regex", ENTITY)
    assert made >= 200, f"only {made} requests were made"
    server_errors = re.findall(r'HTTP/1\.1" 5\d\d', (tmp_path / "api.log").read_text())
    assert server_errors == []


def fuzz(url: str, token: str, folder: Path, examples: int, *select: str) -> int:
    """Run schemathesis on the operations `select` picks; the number of responses it got."""
    reports = folder / "reports"
    done = subprocess.run(
        [ST, "--config-file", str(CONFIG), "run", str(SCHEMA), "--url", url,
         "-H", f"Authorization: Bearer {token}", *select,
         "--checks", "all", "--exclude-checks", "positive_data_acceptance",
         "--seed", "1", "--max-examples", str(examples),
         "--report", "ndjson", "--report-dir", str(reports)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    (report,) = reports.glob("*.ndjson")
    return report.read_text().count('"status_code"')

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
from datetime import UTC, datetime
from pathlib import Path

from api.app import create_app
from services import registry
from services.clock import FixedClock
from services.context import Context
from services.placements import reallocation
from storage.database import make_engine
from tests.support.apiserver import ApiServer
from tests.support.placements import COURT_TO, PLACEMENTS, load_reference, queued
from tests.support.stack import ROOT

SCHEMA = ROOT / "docs" / "openapi.json"
ST = str(Path(sys.executable).with_name("st"))


def test_the_committed_schema_is_the_apps() -> None:
    assert json.loads(SCHEMA.read_text()) == json.loads(json.dumps(create_app().openapi())), (
        "run `misure api openapi --out docs/openapi.json`"
    )


def test_generated_requests_get_no_5xx_and_only_documented_answers(
    sqlite_url: str, tmp_path: Path
) -> None:
    db = make_engine(sqlite_url)
    now = datetime.now(UTC)
    ctx = Context.build(db, FixedClock(now), PLACEMENTS)
    load_reference(ctx, years=(now.year - 1, now.year))
    for _ in range(3):
        queued(ctx)
    reallocation.reallocate(ctx)
    token = registry.issue_token(ctx, COURT_TO).token
    reports = tmp_path / "reports"
    with ApiServer(sqlite_url, tmp_path / "api.log") as server:
        done = subprocess.run(
            [ST, "run", str(SCHEMA), "--url", server.url,
             "-H", f"Authorization: Bearer {token}",
             "--checks", "all", "--exclude-checks", "positive_data_acceptance",
             "--seed", "1", "--max-examples", "800",
             "--report", "ndjson", "--report-dir", str(reports)],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    db.dispose()
    assert done.returncode == 0, done.stdout[-4000:]
    (report,) = reports.glob("*.ndjson")
    responses = report.read_text().count('"status_code"')
    assert responses >= 1000, f"only {responses} requests were made"
    server_errors = re.findall(r'HTTP/1\.1" 5\d\d', (tmp_path / "api.log").read_text())
    assert server_errors == []  # the server's own access log agrees

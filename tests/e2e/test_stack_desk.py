"""The case workers' tools on the running stack, as a clerk meets them in the Prefect UI: a
court decision through the API shows on the case's page within 15 s and the office's queue lists
the case; notices that cannot be delivered are an incident (a failed run with the reason, the
queue, the page) that the `retry-incident` deployment clears once the cause is removed."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from machines.calendar import rome_date
from services import pages
from services.clock import FixedClock
from services.context import Context
from services.delivery import delivery_incidents
from services.letterheads import set_letterhead
from services.placements import reallocation
from services.registry import issue_token
from storage.database import make_engine
from tests.conftest import _migrate
from tests.support.placements import COURT_TO, PLACEMENTS, load_reference, queued
from tests.support.stack import MISURE, ROOT, Stack

PAGE_SECONDS = 15  # the issue's bound: a decision on the case's page


def wait_for(what: str, check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds:g} s")


@pytest.mark.timeout(900)
def test_a_decision_shows_on_the_page_and_the_queue_and_an_incident_is_retried(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'misure.db'}"
    _migrate(url)
    db = make_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = Context.build(db, FixedClock(now), PLACEMENTS)
    load_reference(ctx, years=(rome_date(now).year - 1, rome_date(now).year))
    reference = queued(ctx)
    reallocation.reallocate(ctx)  # attested and transmitted: at court
    token = issue_token(ctx, COURT_TO).token
    set_letterhead(ctx, {
        "office": "UIEPE-TO", "name": "UIEPE di Torino", "address": "Via Esempio 1, Torino",
        "pec": "uiepe.torino@pec.example", "signer_name": "Dirigente", "signer_role": "Dirigente",
        "place": "Torino",
    })  # fmt: skip
    outbox = tmp_path / "outbox"  # no SMTP server: messages as .eml files

    stack = Stack(
        tmp_path, database_url=url, args=("--no-demo",), env={"MISURE_OUTBOX_DIR": str(outbox)}
    )
    with stack:

        def page() -> str:
            found = stack.artifact(pages.case_key(reference))
            return "" if found is None else str(found["data"])

        wait_for("the case's first page", lambda: "(`at_court`)" in page(), 240)

        today = rome_date(datetime.now(UTC)).isoformat()
        body = {"outcome": "granted", "decided_on": today, "file_number": "SIUS 9/2026",
                "measure_start": today}  # fmt: skip
        request = urllib.request.Request(
            f"http://127.0.0.1:{stack.api_port}/v1/attestations/{reference}/decision",
            data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "grant-1",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert json.loads(answer.read())["state"] == "granted"
        wait_for("the decision on the case's page", lambda: "(`granted`)" in page(), PAGE_SECONDS)
        print(f"decision -> page: {time.monotonic() - started:.1f} s")

        def queue() -> str:
            found = stack.artifact(pages.queue_key("UIEPE-TO"))
            return "" if found is None else str(found["data"])

        listed = f"[{reference}]({pages.ui_path(ctx, pages.case_key(reference))})"
        wait_for("the case in its office's queue", lambda: listed in queue(), PAGE_SECONDS)
        court = stack.artifact(pages.court_key(COURT_TO))
        assert court is not None and "Tribunale di sorveglianza di Torino" in court["data"]
        index = stack.artifact(pages.INDEX_KEY)
        queue_path = pages.ui_path(ctx, pages.queue_key("UIEPE-TO"))
        assert queue_path.startswith("/v2/artifacts/artifact/")
        assert index is not None and f"({queue_path})" in index["data"]

        # The addressees' certified e-mail is not registered: each message fails at once.
        wait_for("the incident on the page", lambda: "## Incidenti da risolvere" in page(), 300)
        wait_for("the incident in the queue", lambda: "### Incidenti (0)" not in queue(), 60)
        runs = stack.api(
            "POST", "/flow_runs/filter",
            {"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}, "limit": 20},
        )  # fmt: skip
        reasons = [run["state"]["message"] or "" for run in runs]
        assert any("consegne non riuscite" in reason for reason in reasons), reasons

        for addressee in sorted({i.addressee for i in delivery_incidents(ctx)}):  # the cure
            done = subprocess.run(
                [MISURE, "notices", "addressee", addressee, "--pec", "protocollo@pec.example"],
                env=stack.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        stack.run_deployment("retry-incident/retry-incident", {"reference": reference})
        assert [i for i in delivery_incidents(ctx) if i.reference == reference] == []
        wait_for("the page without incidents", lambda: "Incidenti" not in page(), 60)
        wait_for("the queue without incidents", lambda: "### Incidenti (0)" in queue(), 60)
        assert list(outbox.glob("*.eml"))  # sent, as files
    db.dispose()
    assert stack.exit_code == 0, stack.text()[-2000:]

"""`make run`'s stack as a user meets it: the demo loaded, the Prefect UI answering, a case
inspected through the Prefect API, a court rejection reassigning the place at once, and
everything stopped by Ctrl-C."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from machines.calendar import rome_date
from tests.support.stack import MISURE, ROOT, Stack, rejectable, state_of


@pytest.mark.timeout(900)
def test_the_stack_serves_the_ui_inspects_cases_and_reallocates_at_once(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    with stack:
        text = stack.text()
        assert "misure is running" in text and "demo loaded" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/", timeout=10) as ui:
            assert ui.status == 200 and b"<html" in ui.read().lower()
        api = f"http://127.0.0.1:{stack.api_port}/health"
        with urllib.request.urlopen(api, timeout=10) as health:  # the court API runs too
            assert json.loads(health.read()) == {"status": "ok", "database": "ok"}
        names = {d["name"] for d in stack.api("POST", "/deployments/filter", {})}
        assert names == {
            "sweep-due-timers",
            "reallocate-freed-places",
            "render-notices",
            "deliver-notices",
            "protocol-register",
            "quarterly-monitoring",
            "daily-dashboard",
            "case-status",
            "audit-trail",
            "publish-register-six-monthly",
            "publish-register-on-change",
            "register-dashboard",
            "lpu-dashboard",
            "probation-dashboard",
        }

        at_court, waiting, court = rejectable(stack.database_url)[0]
        stack.run_deployment("case-status/case-status", {"reference": at_court})
        artifact = stack.artifact(f"case-{at_court.lower()}")
        assert artifact is not None and artifact["type"] == "markdown"
        for fact in (f"# Pratica {at_court}", "`at_court`", "Termini in corso", "```mermaid"):
            assert fact in artifact["data"], fact

        # A court rejection through the CLI: the freed place goes to the head of the queue.
        today = rome_date(datetime.now(UTC)).isoformat()
        started = time.monotonic()
        decided = subprocess.run(
            [MISURE, "placement", "decide", at_court, "--outcome", "rejected",
             "--decided-on", today, "--court", court],
            env=stack.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert decided.returncode == 0, decided.stderr
        assert "reallocate: avviata l'esecuzione" in decided.stderr  # through Prefect
        while state_of(stack.database_url, waiting) == "queued":
            assert time.monotonic() - started < 120, "the place was not reassigned"
            time.sleep(0.2)
        latency = time.monotonic() - started
        print(f"rejection -> reassignment: {latency:.1f} s")
        assert state_of(stack.database_url, waiting) == "at_court"
    assert stack.exit_code == 0, stack.text()[-2000:]
    assert "stopping" in stack.text()
    (line,) = [line for line in stack.text().splitlines() if "processes:" in line]
    pids = [int(word) for word in line.split() if word.isdigit()]
    assert len(pids) == 3  # the Prefect server, one worker, the court API
    for pid in pids:  # the server and the worker are gone, not orphaned
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} left running after Ctrl-C"

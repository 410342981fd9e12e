"""`misure probation dashboard` as a process: the dashboard per UEPE in Italian markdown and as
JSON, at the instant given with --now, the terms already passed counted with no sweep."""

from __future__ import annotations

import json
from datetime import datetime

from machines.calendar import ROME
from services.clock import FixedClock
from services.context import Context
from storage.database import make_engine
from tests.e2e.test_cli import Cli
from tests.integration.test_probation import PROBATION, START, UEPE
from tests.integration.test_probation_dashboard import the_probations


def test_the_dashboard_per_uepe_in_markdown_and_json(sqlite_url: str) -> None:
    db = make_engine(sqlite_url)
    cases = the_probations(Context.build(db, FixedClock(START), PROBATION))
    db.dispose()
    cli = Cli(sqlite_url)
    cli.env["MISURE_PROCEDURES"] = json.dumps(list(PROBATION))
    now = datetime(2026, 4, 5, 9, 0, tzinfo=ROME).isoformat()
    text = cli.run("probation", "dashboard", "--now", now, "--markdown").stdout
    assert text.startswith("# Messe alla prova al 5 aprile 2026\n")
    assert f"| {UEPE} | 2 | 1 | 1 | 0 | 1 |" in text
    assert f"relazione periodica di {cases['R2']} non pervenuta nel termine" in text
    shown = " ".join(cli.run("probation", "dashboard", "--now", now).stdout.split())  # rendered
    assert shown.startswith("Messe alla prova al 5 aprile 2026 Per ufficio") and "|" not in shown
    assert f"{UEPE} 2 1 1 0 1" in shown
    assert f"relazione periodica di {cases['R2']} non pervenuta nel termine" in shown
    board = cli.json("probation", "dashboard", "--now", now)
    assert board["today"] == "2026-04-05"
    assert {o["uepe"]: o["running"] for o in board["offices"]}[UEPE] == 2

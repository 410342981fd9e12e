"""`misure lpu dashboard` as a process: the dashboard per host entity in Italian markdown and as
JSON, at the instant given with --now, the terms already passed counted with no sweep; a
database it cannot open is one Italian line and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from services.clock import FixedClock
from services.context import Context
from storage.database import make_engine
from tests.e2e.test_cli import Cli
from tests.integration.test_lpu_conventions import LPU
from tests.integration.test_lpu_dashboard import BRIDGE, LOOK, TURIN, the_work
from tests.integration.test_lpu_placements import MONDAY


def test_the_dashboard_per_entity_in_markdown_and_json(sqlite_url: str) -> None:
    db = make_engine(sqlite_url)
    cases = the_work(Context.build(db, FixedClock(MONDAY), LPU))
    db.dispose()
    cli = Cli(sqlite_url)
    cli.env["MISURE_PROCEDURES"] = json.dumps(list(LPU))
    now = LOOK.isoformat()

    text = cli.run("lpu", "dashboard", "--now", now, "--markdown").stdout
    assert text.startswith("# Lavoro di pubblica utilità: situazione al 3 aprile 2026\n")
    assert "## Anomalie (4)" in text
    assert f"| {TURIN} | 1 | 2 | 2 | 0 | 2 | 1 | 40 | 4,5 | 35,5 |" in text
    assert f"{cases['P4']} ({BRIDGE}): relazione conclusiva non pervenuta" in text
    shown = " ".join(cli.run("lpu", "dashboard", "--now", now).stdout.split())  # rendered
    assert shown.startswith("Lavoro di pubblica utilità: situazione al 3 aprile 2026 Anomalie (4)")
    assert "|" not in shown and "##" not in shown
    assert f"{cases['P4']} ({BRIDGE}): relazione conclusiva non pervenuta" in shown

    board = cli.json("lpu", "dashboard", "--now", now)
    assert board["today"] == "2026-04-03"
    entities = {e["entity"]: e for e in board["entities"]}
    turin = entities[TURIN]
    assert (turin["capacity"], turin["at_work"], turin["capacity_left"]) == (2, 2, 0)
    hours = {p["reference"]: (p["owed"], p["credited"], p["left"]) for p in turin["placements"]}
    assert hours == {cases["P1"]: (20, "4.50", "15.50"), cases["P2"]: (20, "0.00", "20.00")}
    assert [p["reference"] for p in turin["to_receive"]] == [cases["P3"]]
    assert [e["reference"] for e in board["expiring"]] == [cases["B"]]
    assert [r["reference"] for r in board["overdue_reports"]] == [cases["P4"]]
    assert board["overdue_reports"][0]["last_day"] == "2026-04-01"
    assert [b["reference"] for b in board["breaches"]] == [cases["P2"], cases["P5"]]
    assert len(board["incidents"]) == 4

    before = cli.json("lpu", "dashboard", "--now", MONDAY.isoformat())  # nothing late yet
    assert before["overdue_reports"] == [] and before["expiring"] == []
    assert before["incidents"][0] == (
        f"{cases['P2']} ({TURIN}): violazione del 2 marzo 2026 segnalata, in attesa della "
        "decisione del giudice (violazione segnalata)"
    )
    assert len(before["incidents"]) == 2


def test_a_database_it_cannot_open_is_one_italian_line(tmp_path: Path) -> None:
    cli = Cli(f"sqlite:///{tmp_path / 'nowhere' / 'misure.db'}")
    cli.env["MISURE_PROCEDURES"] = json.dumps(list(LPU))
    line = cli.refused("lpu", "dashboard")
    assert line.startswith("errore: database non raggiungibile (MISURE_DATABASE_URL)")
    done = cli.run("lpu", "dashboard", "--json", ok=False)
    assert done.returncode == 1 and done.stdout == ""
    assert json.loads(done.stderr)["error"] == "unavailable"

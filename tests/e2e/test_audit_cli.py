"""`misure audit` as an auditor runs it: seal the day, verify, and a forged event named in one
line with a non-zero exit."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_cli import AT, Cli, under_review


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    runner = Cli(f"sqlite:///{tmp_path / 'audit.db'}")
    runner.env["MISURE_SEALS_DIR"] = str(tmp_path / "seals")
    runner.run("db", "upgrade")
    return runner


def test_seal_then_verify_then_a_forged_event_is_named(cli: Cli, tmp_path: Path) -> None:
    first, second = under_review(cli), under_review(cli)
    sealed = cli.json("audit", "seal", *AT)
    assert (sealed["day"], sealed["cases"], sealed["events"]) == ("2026-03-02", 2, 6)
    assert (tmp_path / "seals" / "seal-2026-03-02.json").exists()
    assert cli.json("audit", "seal", *AT)["already"] is True
    assert "catena integra: 2 pratiche, 6 eventi" in cli.run("audit", "verify").stdout
    assert cli.json("audit", "verify", first)["intact"] is True

    with sqlite3.connect(tmp_path / "audit.db") as database:  # past the trigger, as an attacker
        database.execute("DROP TRIGGER case_events_no_update")
        database.execute(
            'UPDATE case_events SET payload = \'{"protocol": "P-9"}\' WHERE sequence = 2'
            " AND case_id = (SELECT id FROM cases WHERE reference = ?)",
            (second,),
        )
    done = cli.run("audit", "verify", ok=False)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert f"pratica {second}, evento 2: contenuto modificato" in line
    report = cli.run("audit", "verify", "--json", ok=False)
    assert report.returncode == 1
    breaks = json.loads(report.stdout)["breaks"]
    assert [(b["reference"], b["sequence"]) for b in breaks] == [(second, 2)]
    assert cli.json("audit", "verify", first)["intact"] is True


def test_verify_of_an_unknown_case_is_one_line(cli: Cli) -> None:
    assert "DEM-2026-999999" in cli.refused("audit", "verify", "DEM-2026-999999")

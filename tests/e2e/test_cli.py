"""The `misure` command as an operator runs it: a real process, a real database, its exit code."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
MISURE = str(Path(sys.executable).with_name("misure"))
OPENED_AT = "2026-03-02T10:00:00+01:00"
LAPSE_DUE = "2026-04-02T00:00:00+02:00"  # 30 days from 2 March, 00:00 Italian time after
AT = ("--now", OPENED_AT)  # before the review term ends: the case is still under review


class Cli:
    def __init__(self, url: str) -> None:
        self.env = {
            **os.environ,
            "MISURE_DATABASE_URL": url,
            "MISURE_MACHINE_MODULES": '["tests.support.demo"]',
            "PYTHONPATH": str(ROOT),
            "COLUMNS": "200",
            # the register's publications, which a change to it writes at once
            "MISURE_REGISTER_DIR": tempfile.mkdtemp(prefix="misure-register-"),
        }

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [MISURE, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def refused(self, *args: str) -> str:
        done = self.run(*args, ok=False)
        assert done.returncode == 1
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        return lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    runner = Cli(f"sqlite:///{tmp_path / 'cli.db'}")
    assert "revision" in runner.run("db", "upgrade").stdout
    return runner


def under_review(cli: Cli) -> str:
    opened = cli.json("case", "open", "demo", "--data", "eligible=true", "--now", OPENED_AT)
    reference: str = opened["reference"]
    cli.run("case", "fire", reference, "file", "--data", "protocol=P-7", "--now", OPENED_AT)
    cli.run("case", "fire", reference, "review", "--actor", "uiepe", "--now", OPENED_AT)
    return reference


def test_db_upgrade_is_idempotent_and_speaks_json(cli: Cli) -> None:
    assert cli.json("db", "upgrade")["revision"]


def test_open_fire_show_and_list(cli: Cli) -> None:
    reference = under_review(cli)
    assert reference == "DEM-2026-000001"
    human = cli.run("case", "fire", reference, "grant", "--actor", "tribunale", *AT).stdout
    assert "grant under_review -> granted (evento 4)" in human
    shown = cli.json("case", "show", reference, *AT)
    assert shown["case"]["state"] == "granted"
    assert [e["trigger"] for e in shown["history"]] == ["open", "file", "review", "grant"]
    assert shown["history"][1]["payload"] == {"protocol": "P-7"}
    assert shown["history"][3]["actor"] == "tribunale"
    close = next(t for t in shown["triggers"] if t["trigger"] == "close")
    assert close == {"trigger": "close", "allowed": True, "dest": "closed", "reasons": []}
    warning, end = shown["pending_timers"]
    assert (warning["name"], warning["fires"], warning["notice"]) == (
        "validity_warning",
        None,
        "avviso_scadenza",
    )
    assert (end["name"], end["fires"], end["notice"]) == ("validity_end", "close", None)
    text = cli.run("case", "show", reference, *AT).stdout
    assert "Cosa può accadere ora" in text and "non consentito dallo stato 'granted'" in text
    assert "validity_end" in text and "comunicazione avviso_scadenza" in text
    assert "Cronologia" in text and "sì" in text
    listed = cli.json("case", "list", "--state", "granted", *AT)["cases"]
    assert [c["reference"] for c in listed] == [reference]
    # Two months later the validity has ended: in law the case is closed, before any sweep.
    later = ("--now", "2026-06-01T09:00:00+02:00")
    assert cli.json("case", "list", "--state", "granted", *later)["cases"] == []
    (closed,) = cli.json("case", "list", "--state", "closed", *later)["cases"]
    assert (closed["state"], closed["recorded_state"]) == ("closed", "granted")
    shown = cli.json("case", "show", reference, *later)
    assert (shown["case"]["state"], shown["case"]["recorded_state"]) == ("closed", "granted")
    (passed,) = shown["passed_terms"]
    assert (passed["name"], passed["due_at_rome"]) == ("validity_end", "03/05/2026 00:00")
    assert reference in cli.run("case", "list", "--kind", "demo").stdout


def test_an_idempotency_key_replays_the_first_result(cli: Cli) -> None:
    reference = under_review(cli)
    first = cli.json("case", "fire", reference, "reject", "--key", "DEC-1", *AT)
    again = cli.json("case", "fire", reference, "reject", "--key", "DEC-1", *AT)
    assert (again["event_id"], again["replayed"], first["replayed"]) == (
        first["event_id"],
        True,
        False,
    )
    assert (
        "già fatto con questa chiave"
        in cli.run("case", "fire", reference, "reject", "--key", "DEC-1", *AT).stdout
    )


def test_refusals_print_one_line_and_exit_1(cli: Cli) -> None:
    reference = under_review(cli)
    assert "nessuna pratica con riferimento ATT-2026-999999" in cli.refused(
        "case", "show", "ATT-2026-999999"
    )
    assert "trigger 'close' non consentito dallo stato 'under_review'" in cli.refused(
        "case", "fire", reference, "close", *AT
    )
    error = json.loads(cli.refused("case", "fire", reference, "file", "--json", *AT))
    assert error["error"] == "transition_not_allowed"
    assert "non è nella forma chiave=valore" in cli.refused(
        "case", "fire", reference, "grant", "--data", "x"
    )
    assert "senza scarto da UTC" in cli.refused("timers", "sweep", "--now", "2026-04-02T00:00:00")
    assert "tipo di pratica 'nope' sconosciuto (noti: demo, placement," in cli.refused(
        "case", "open", "nope"
    )
    assert "l'autore (actor) deve avere da 1 a 120 caratteri" in cli.refused(
        "case", "fire", reference, "reject", "--actor", "x" * 121, *AT
    )
    assert cli.json("case", "show", reference, *AT)["case"]["version"] == 3  # nothing written


def test_guard_refusal_names_its_reason(cli: Cli) -> None:
    opened = cli.json("case", "open", "demo")
    line = cli.refused("case", "fire", opened["reference"], "file")
    assert "a protocol number is required (art. 1 co. 2 demo)" in line


def test_sweep_fires_due_timers_and_reports(cli: Cli) -> None:
    reference = under_review(cli)
    early = cli.json("timers", "sweep", "--now", "2026-04-01T23:59:59+02:00")
    assert (early["due"], early["fired"]) == (0, 0)
    report = cli.json("timers", "sweep", "--now", LAPSE_DUE)
    assert (report["due"], report["fired"], report["failed"]) == (1, 1, 0)
    assert cli.json("case", "show", reference, "--now", LAPSE_DUE)["case"]["state"] == "lapsed"
    human = cli.run("timers", "sweep", "--now", LAPSE_DUE, "--mode", "batched").stdout
    assert "0 scattati" in human
    assert cli.json("timers", "incidents") == {"incidents": []}
    assert "Incidenti" in cli.run("timers", "incidents").stdout


def test_notices_render_and_documents_are_written(cli: Cli, tmp_path: Path) -> None:
    reference = under_review(cli)
    cli.run("case", "fire", reference, "grant", *AT)
    assert cli.json("notices", "render")["rendered"] == 1
    assert "0 emesse" in cli.run("notices", "render").stdout
    out = tmp_path / "pdf"
    listed = cli.json("case", "documents", reference, "--out", str(out))
    [document] = listed["documents"]
    [written] = listed["written"]
    pdf = Path(written).read_bytes()
    assert len(pdf) == document["bytes"]
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert reference in text and "art. 3 demo" in text
    assert document["sha256"] in cli.run("case", "documents", reference).stdout


@pytest.mark.parametrize(
    ("args", "last_day", "due_rome"),
    [
        (
            ["--start", "2026-12-31", "--months", "2", "--no-extend-on-holiday"],
            "2027-02-28",
            "2027-03-01T00:00:00+01:00",
        ),
        (["--start", "2026-03-07", "--days", "30"], "2026-04-07", "2026-04-08T00:00:00+02:00"),
    ],
)
def test_terms_due(cli: Cli, args: list[str], last_day: str, due_rome: str) -> None:
    document = cli.json("terms", "due", *args)
    assert (document["last_day"], document["due_at_rome"]) == (last_day, due_rome)


def test_terms_due_human_and_refusals(cli: Cli) -> None:
    text = cli.run("terms", "due", "--start", "2026-03-07", "--days", "30").stdout
    assert "ultimo giorno 07/04/2026 (spostato dal 06/04/2026, festivo)" in text
    assert "uno e uno solo tra --days e --months" in cli.refused(
        "terms", "due", "--start", "2026-03-07"
    )
    assert "non è una data" in cli.refused("terms", "due", "--start", "7/3/2026", "--days", "3")


def test_case_list_pages_say_where_the_next_starts(cli: Cli) -> None:
    opened = [cli.json("case", "open", "demo", *AT)["reference"] for _ in range(3)]
    first = cli.json("case", "list", "--limit", "2")
    assert [case["reference"] for case in first["cases"]] == opened[:2]
    assert (first["more"], first["next"]) == (True, opened[1])
    rest = cli.json("case", "list", "--limit", "2", "--after", first["next"])
    assert [case["reference"] for case in rest["cases"]] == opened[2:]
    assert (rest["more"], rest["next"]) == (False, None)
    text = cli.run("case", "list", "--limit", "2", "--kind", "demo").stdout
    assert "2 pratiche" in text
    assert (
        f"altre pratiche oltre queste 2: misure case list --kind demo --limit 2 --after {opened[1]}"
        in " ".join(text.split())
    )
    assert "3 pratiche" in cli.run("case", "list").stdout
    assert "altre pratiche" not in cli.run("case", "list").stdout
    assert "nessuna pratica con riferimento DEM-2026-999999" in cli.refused(
        "case", "list", "--after", "DEM-2026-999999"
    )

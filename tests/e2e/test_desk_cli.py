"""The case workers' desk from the command line: the changed cases' pages, queues and index
written as markdown files without Prefect, and an incident retried once its cause is removed
(exit 1 and the reason while it is still open)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.e2e.test_cli import AT, Cli, cli, under_review

__all__ = ["cli"]  # the fixture


def test_pages_are_written_once_per_change(cli: Cli, tmp_path: Path) -> None:
    reference = under_review(cli)
    out = tmp_path / "pages"
    written = cli.json("pages", "publish", "--out", str(out), *AT)
    assert written["pages"] == 1 and written["queues"] == 2  # the office's queue, the index
    page = (out / f"case-{reference.lower()}.md").read_text(encoding="utf-8")
    assert f"# Pratica {reference}" in page and "```mermaid" in page
    queue = (out / "coda-ufficio.md").read_text(encoding="utf-8")
    assert f"[{reference}](/v2/artifacts/key/case-{reference.lower()})" in queue
    assert cli.json("pages", "publish", "--out", str(out), *AT)["pages"] == 0  # no change
    human = cli.run("case", "fire", reference, "grant", *AT)
    assert human.returncode == 0
    again = cli.run("pages", "publish", "--out", str(out), *AT).stdout
    assert "1 pagine di pratiche" in again


def test_an_incident_is_retried_and_a_case_without_one_retries_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    reference = under_review(cli)
    cli.run("case", "fire", reference, "grant", *AT)
    database = tmp_path / "cli.db"
    with sqlite3.connect(database) as db:  # the grant's notice given up
        db.execute("UPDATE outbox SET status = 'failed', last_error = 'modello mancante'")
    cli.env["MISURE_OUTBOX_DIR"] = str(tmp_path / "outbox")
    first = cli.run("case", "retry", reference, "--json", *AT, ok=False)
    retried = json.loads(first.stdout)  # issued now; its addressee has no certified e-mail
    assert first.returncode == 1 and retried["notices"] and retried["open"]
    with sqlite3.connect(database) as db:
        (addressee,) = db.execute("SELECT DISTINCT addressee FROM deliveries").fetchone()
    cli.run("notices", "addressee", addressee, "--pec", "protocollo@pec.example")  # the cure
    cured = cli.json("case", "retry", reference, *AT)
    assert cured["deliveries"] == [addressee] and cured["open"] == []
    nothing = cli.json("case", "retry", reference, *AT)
    assert (nothing["timers"], nothing["notices"], nothing["deliveries"]) == ([], [], [])
    with sqlite3.connect(database) as db:  # a message with no certified e-mail for its addressee
        db.execute("UPDATE deliveries SET status = 'failed', address = NULL, addressee = 'X'")
    line = cli.refused("case", "retry", reference, *AT)
    assert f"{reference}: ripresi: 0 termini, 0 comunicazioni, 1 consegna" in line
    assert "ancora aperti" in line
    assert "DEM-2099-000001" in cli.refused("case", "retry", "DEM-2099-000001")

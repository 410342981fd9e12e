"""Hostile invocations of the `misure` command: each answered in one line on stderr (a JSON
object with --json), a non-zero exit, and nothing written (issue 11, item 5: first part)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli
from tests.support.placements import REFERENCE


@pytest.fixture
def hcli(tmp_path: Path) -> Cli:
    runner = Cli(f"sqlite:///{tmp_path / 'hostile.db'}")
    runner.env["MISURE_MACHINE_MODULES"] = "[]"
    runner.run("db", "upgrade")
    (tmp_path / "reference.json").write_text(json.dumps(REFERENCE), encoding="utf-8")
    runner.run("ref", "load", str(tmp_path / "reference.json"))
    return runner


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        (["budget", "split", "2026", "--appropriation", "-100"], "appropriation", "or equal to 0"),
        (["budget", "split", "2026", "--appropriation", "abc"], "appropriation", "valid decimal"),
        (["budget", "split", "2026", "--appropriation", "NaN"], "appropriation", "finite"),
        (["budget", "split", "2026", "--appropriation", "Infinity"], "appropriation", "finite"),
        (["budget", "split", "2026", "--appropriation", "1e30"], "appropriation", "14 digits"),
        (["budget", "split", "2026", "--appropriation", "0.001"], "appropriation", "decimal"),
        (["budget", "split", "99999"], "year", "less than or equal to 2100"),
    ],
)
def test_budget_split_bounds_are_those_of_ref_load(
    hcli: Cli, args: list[str], field: str, reason: str
) -> None:
    before = hcli.json("budget", "monitor", "2026", "1")["national"]["allocated"]
    error = json.loads(hcli.refused(*args, "--json"))
    assert (error["error"], error["field"]) == ("invalid_input", field)
    assert reason in error["message"]
    assert hcli.json("budget", "monitor", "2026", "1")["national"]["allocated"] == before


def test_the_environment_is_refused_in_one_line_naming_what_to_check(
    hcli: Cli, tmp_path: Path
) -> None:
    hcli.env["MISURE_DATABASE_URL"] = "not a url"
    assert "MISURE_DATABASE_URL non valido" in hcli.refused("case", "list")
    hcli.env["MISURE_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    error = json.loads(hcli.refused("case", "list", "--json"))
    assert error["error"] == "unavailable" and "MISURE_DATABASE_URL" in error["message"]
    hcli.env["MISURE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'hostile.db'}"
    hcli.env["MISURE_PROCEDURES"] = '["no.such.module"]'
    error = json.loads(hcli.refused("case", "list", "--json"))
    assert error["error"] == "unavailable" and "MISURE_PROCEDURES" in error["message"]

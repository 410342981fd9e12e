"""Hostile invocations of the `misure` command and hostile `ref load` files: each answered in one
line on stderr (a JSON object with --json), a non-zero exit, and nothing written (issue 11,
items 5 and 6)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.e2e.test_cli import Cli
from tests.support.placements import ASSESSMENT, COURT_TO, REFERENCE

AT = "2026-03-02T10:00:00+01:00"
# Read in full, not only counted: a refused `ref load` must not have updated them either.
IN_FULL = ("offices", "prisons", "facilities", "conventions", "budget_years", "allocations")


def database(cli: Cli) -> dict[str, Any]:
    """Every table's row count, and the reference data and allocations row by row."""
    engine = create_engine(cli.env["MISURE_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            found: dict[str, Any] = {
                table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                for table in tables
            }
            for table in IN_FULL:
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                found[f"{table} rows"] = sorted(tuple(row) for row in rows)
    finally:
        engine.dispose()
    return found


def answered_in_one_line(cli: Cli, status: int, *args: str) -> str:
    done = cli.run(*args, ok=False)
    assert done.returncode == status, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def hcli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The fictional reference data loaded, shared by the tests that each prove they leave it
    as they found it."""
    folder = tmp_path_factory.mktemp("hostile")
    runner = Cli(f"sqlite:///{folder / 'hostile.db'}")
    runner.env["MISURE_MACHINE_MODULES"] = "[]"
    runner.run("db", "upgrade")
    (folder / "reference.json").write_text(json.dumps(REFERENCE), encoding="utf-8")
    runner.run("ref", "load", str(folder / "reference.json"))
    return runner


@pytest.mark.parametrize(
    ("appropriation", "reason"),
    [
        ("-100", 'importo "-100" non valido'),
        ("abc", 'importo "abc" non valido'),
        ("NaN", 'importo "NaN" non valido'),
        ("Infinity", 'importo "Infinity" non valido'),
        ("1e30", 'importo "1e30" non valido'),
        ("0.001", "al più due decimali"),
        ("1000000000000", "oltre quanto una colonna di importi contiene"),
    ],
)
def test_budget_split_bounds_are_those_of_ref_load(
    hcli: Cli, appropriation: str, reason: str
) -> None:
    before = database(hcli)
    args = ("budget", "split", "2026", "--appropriation", appropriation)
    error = json.loads(answered_in_one_line(hcli, 1, *args, "--json"))
    assert (error["error"], error["field"]) == ("invalid_input", "appropriation")
    assert reason in error["message"]
    assert database(hcli) == before


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        (["ref", "load", "--bogus"], "--bogus", "opzione sconosciuta --bogus"),
        (["placement", "file", "--court", COURT_TO], "prison", "manca '--prison'"),
        (["budget", "split", "abc"], "year", "deve essere un numero intero"),
        (["budget", "split", "99999"], "year", "deve essere al più 2100"),
        (["budget", "lift", "2023"], "year", "deve essere almeno 2024"),
        (["budget", "monitor", "2026", "5"], "quarter", "deve essere al più 4"),
        (["case", "list", "--limit", "0"], "limit", "deve essere almeno 1"),
        (["case", "list", "--limit", "1" + "0" * 20], "limit", "al più 2147483647"),
        (["terms", "due", "--start", "2026-01-01", "--days", "99999"], "days", "al più 36525"),
        (["case", "list", "surplus"], None, "argomenti in più: surplus"),
        (["no-such-command"], None, "comando sconosciuto 'no-such-command'"),
        (["budget", "spilt"], None, "forse 'split'"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_usage_errors_are_one_line_and_exit_2(
    hcli: Cli, args: list[str], field: str | None, reason: str, as_json: bool
) -> None:
    before = database(hcli)
    line = answered_in_one_line(hcli, 2, *args, *(["--json"] if as_json else []))
    if as_json:
        error = json.loads(line)
        assert (error["error"], error.get("field")) == ("usage", field)
        assert reason in error["message"] and "--help" in error["message"]
    else:
        assert line.startswith("errore: ") and reason in line
    assert database(hcli) == before


def test_the_help_is_still_there(hcli: Cli) -> None:
    shown = hcli.run("budget", "split", "--help")
    assert "Uso: misure budget split" in shown.stdout and shown.stderr == ""
    assert "Opzioni" in shown.stdout and "Mostra questo aiuto ed esce." in shown.stdout
    bare = hcli.run("budget", ok=False)  # a group named alone shows its help, as Typer does
    assert bare.returncode == 2 and "split" in bare.stdout and "Traceback" not in bare.stderr


def test_the_environment_is_refused_in_one_line_naming_what_to_check(hcli: Cli) -> None:
    runner = Cli("not a url")
    assert "MISURE_DATABASE_URL non valido" in runner.refused("case", "list")
    runner.env["MISURE_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    error = json.loads(runner.refused("case", "list", "--json"))
    assert error["error"] == "unavailable" and "MISURE_DATABASE_URL" in error["message"]
    runner.env["MISURE_DATABASE_URL"] = hcli.env["MISURE_DATABASE_URL"]
    runner.env["MISURE_PROCEDURES"] = '["no.such.module"]'
    error = json.loads(runner.refused("case", "list", "--json"))
    assert error["error"] == "unavailable" and "MISURE_PROCEDURES" in error["message"]


# ref load ------------------------------------------------------------------------------------
Change = Callable[[dict[str, Any]], None]


def _set(section: str, index: int, **values: Any) -> Change:
    return lambda document: document[section][index].update(values)


def _twice(section: str, index: int) -> Change:
    return lambda document: document[section].append(dict(document[section][index]))


HOSTILE_FILES: list[tuple[str, Change, str, str]] = [
    ("office twice", _twice("offices", 0), "offices[2].code", "già in offices[0]"),
    ("prison twice", _twice("prisons", 1), "prisons[2].code", "già in prisons[1]"),
    ("facility twice", _twice("facilities", 2), "facilities[3].code", "già in facilities[2]"),
    ("convention twice", _twice("conventions", 0), "conventions[3].code", "già in conventions"),
    ("year twice", _twice("budget_years", 1), "budget_years[2].year", "già in budget_years[1]"),
    ("rate float", _set("conventions", 0, daily_rate=50.5), "conventions[0].daily_rate", "stringa"),
    ("rate int", _set("conventions", 0, daily_rate=50), "conventions[0].daily_rate", "stringa"),
    ("rate 1e20", _set("conventions", 0, daily_rate="1e20"), "conventions[0].daily_rate", "1e20"),
    ("rate cents", _set("conventions", 1, daily_rate="50.001"), "conventions[1].daily_rate", "due"),
    ("rate NaN", _set("conventions", 1, daily_rate="NaN"), "conventions[1].daily_rate", "NaN"),
    ("rate sign", _set("conventions", 1, daily_rate="-5"), "conventions[1].daily_rate", "segno"),
    ("rate zero", _set("conventions", 1, daily_rate="0.00"), "conventions[1].daily_rate", "zero"),
    (
        "rate beyond a stay's commitment",
        _set("conventions", 2, daily_rate="99999999999.00"),
        "conventions[2].daily_rate",
        "troppo alta",
    ),
    (
        "appropriation float",
        _set("budget_years", 0, appropriation=7000000.0),
        "budget_years[0].appropriation",
        "stringa",
    ),
    (
        "appropriation 1e20",
        _set("budget_years", 0, appropriation="1e20"),
        "budget_years[0].appropriation",
        "esponente",
    ),
    (
        "appropriation beyond the column",
        _set("budget_years", 1, appropriation="10000000000000.00"),
        "budget_years[1].appropriation",
        "oltre quanto una colonna",
    ),
    ("places float", _set("conventions", 1, places=2.0), "conventions[1].places", "intero"),
    ("places text", _set("conventions", 1, places="2"), "conventions[1].places", "intero"),
    ("places bool", _set("conventions", 1, places=True), "conventions[1].places", "intero"),
    ("detainees 1e20", _set("offices", 0, detainees=1e20), "offices[0].detainees", "intero"),
    (
        "detainees beyond the column",
        _set("offices", 0, detainees=10**12),
        "offices[0].detainees",
        "al più 2147483647",
    ),
    ("year before 2024", _set("budget_years", 0, year=2023), "budget_years[0].year", "2024"),
    ("standing", _set("facilities", 0, suspended=True), "facilities[0].suspended", "register"),
    ("registration", _set("facilities", 0, registered=False), "facilities[0].registered", "elenco"),
    ("date number", _set("conventions", 0, valid_from=0), "conventions[0].valid_from", "AAAA"),
    (
        "period reversed",
        _set("conventions", 0, valid_until="2025-12-31"),
        "conventions[0].valid_until",
        "31/12/2025 precede valid_from (01/01/2026)",
    ),
    ("NUL in a name", _set("facilities", 1, name="a\x00b"), "facilities[1].name", "caratteri"),
    ("unknown field", _set("offices", 1, fax="06 1234"), "offices[1].fax", "non previsto"),
]


def load_refused(
    cli: Cli, tmp_path: Path, reference: dict[str, Any], change: Change
) -> dict[str, Any]:
    """`ref load` of `reference` after `change`: one line (JSON under --json, the same reason
    without), exit 1, the database unchanged; the JSON error."""
    document = copy.deepcopy(reference)
    change(document)
    path = tmp_path / "refused.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = database(cli)
    error: dict[str, Any] = json.loads(
        answered_in_one_line(cli, 1, "ref", "load", str(path), "--json")
    )
    assert error["message"] in answered_in_one_line(cli, 1, "ref", "load", str(path))
    assert database(cli) == before
    return error


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [case[1:] for case in HOSTILE_FILES],
    ids=[case[0] for case in HOSTILE_FILES],
)
def test_ref_load_refuses_a_document_that_contradicts_itself(
    hcli: Cli, tmp_path: Path, change: Change, field: str, reason: str
) -> None:
    error = load_refused(hcli, tmp_path, REFERENCE, change)
    assert (error["error"], error["field"]) == ("invalid_input", field)
    assert reason in error["message"]
    record = field.split(".")[0]
    assert error["message"].startswith(f"dati di riferimento, {record}")


def test_ref_load_names_a_code_it_does_not_know(hcli: Cli, tmp_path: Path) -> None:
    document = copy.deepcopy(REFERENCE)
    document["conventions"][1]["facility"] = "FAC-XX"
    path = tmp_path / "unknown.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = database(hcli)
    error = json.loads(answered_in_one_line(hcli, 1, "ref", "load", str(path), "--json"))
    assert error["error"] == "unknown_reference_data"
    assert "conventions[1] CONV-RM-1, facility: 'FAC-XX'" in error["message"]
    assert database(hcli) == before


def _in_use() -> dict[str, Any]:
    document = copy.deepcopy(REFERENCE)
    document["conventions"][0]["places"] = 2
    return document


IN_USE = _in_use()  # the reference data of `in_use`: CONV-TO-1 has two places


@pytest.fixture(scope="module")
def in_use(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """Both places of CONV-TO-1 attested, the 2026 appropriation split: the live data a
    reference document must not contradict. Refusals leave it as it is; the test that loads
    a compatible change runs last."""
    folder = tmp_path_factory.mktemp("in_use")
    runner = Cli(f"sqlite:///{folder / 'in_use.db'}")
    runner.env["MISURE_MACHINE_MODULES"] = "[]"
    # Placements alone: the reference data's facilities count as registered.
    runner.env["MISURE_PROCEDURES"] = '["services.placements.procedure"]'
    runner.run("db", "upgrade")
    (folder / "reference.json").write_text(json.dumps(IN_USE), encoding="utf-8")
    (folder / "assessment.json").write_text(json.dumps(ASSESSMENT), encoding="utf-8")
    runner.run("ref", "load", str(folder / "reference.json"))
    runner.run("budget", "split", "2026", "--now", AT)
    for _ in range(2):
        filed = runner.json(
            "placement", "file", "--prison", "CC-TO", "--court", COURT_TO, "--now", AT
        )
        assessment = ("--assessment", str(folder / "assessment.json"))
        runner.run("placement", "review", filed["reference"], *assessment, "--now", AT)
        runner.run("placement", "intake", filed["reference"], "--now", AT)
        runner.run("placement", "check", filed["reference"], "--compliant", "--now", AT)
    attested = runner.json("placement", "reallocate", "--now", AT)["attested"]
    assert [(a["convention"], a["place"]) for a in attested] == [("CONV-TO-1", 1), ("CONV-TO-1", 2)]
    return runner


BREAKING: list[tuple[str, Change, str, str]] = [
    ("places below a held place", _set("conventions", 0, places=1), "places", "posto n. 2"),
    ("rate changed", _set("conventions", 0, daily_rate="55.00"), "daily_rate", "EUR 50.00: 2"),
    ("moved to another UIEPE", _set("conventions", 0, office="UIEPE-RM"), "office", "UIEPE-TO"),
    ("another facility", _set("conventions", 0, facility="FAC-RM-1"), "facility", "FAC-TO-1"),
    (
        "starts after an attestation",
        _set("conventions", 0, valid_from="2026-03-03"),
        "valid_from",
        "attestato il 02/03/2026",
    ),
    (
        "ends before an attestation",
        _set("conventions", 0, valid_until="2026-03-01"),
        "valid_until",
        "attestato il 02/03/2026",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [case[1:] for case in BREAKING],
    ids=[case[0] for case in BREAKING],
)
def test_ref_load_refuses_what_breaks_a_convention_in_use(
    in_use: Cli, tmp_path: Path, change: Change, field: str, reason: str
) -> None:
    error = load_refused(in_use, tmp_path, IN_USE, change)
    assert (error["error"], error["field"]) == ("invalid_input", f"conventions[0].{field}")
    assert error["message"].startswith(f"dati di riferimento, conventions[0] CONV-TO-1, {field}:")
    assert reason in error["message"]


def test_ref_load_refuses_an_appropriation_below_what_is_split(in_use: Cli, tmp_path: Path) -> None:
    document = copy.deepcopy(IN_USE)
    document["budget_years"][0]["appropriation"] = "6999999.99"
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = database(in_use)
    error = json.loads(answered_in_one_line(in_use, 1, "ref", "load", str(path), "--json"))
    assert error["field"] == "budget_years[0].appropriation"
    assert "EUR 7000000.00, di cui EUR 24500.00 impegnati" in error["message"]
    assert "budget split 2026" in error["message"]
    assert database(in_use) == before


def test_ref_load_takes_what_keeps_the_live_data_true(in_use: Cli, tmp_path: Path) -> None:
    """More places, a new convention, more money, and the same rate written otherwise: all
    accepted, in one load (a facility's standing is the register's: refused above)."""
    document = copy.deepcopy(IN_USE)
    document["conventions"][0] |= {"places": 3, "daily_rate": "50", "valid_until": "2028-12-31"}
    document["conventions"].append(
        {**document["conventions"][0], "code": "CONV-TO-2", "daily_rate": "70.00", "places": 1}
    )
    document["budget_years"][0]["appropriation"] = "8000000.00"
    path = tmp_path / "compatible.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert in_use.json("ref", "load", str(path))["conventions"] == 4
    rows = database(in_use)
    assert (rows["conventions"], rows["reservations"]) == (4, 2)
    assert ("CONV-TO-1", 3) in {(row[1], row[5]) for row in rows["conventions rows"]}


@pytest.mark.postgres
def test_ref_load_refuses_oversized_amounts_and_counts_on_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    """What the columns cannot hold is refused before PostgreSQL sees it: one line, no
    traceback, nothing written."""
    runner = Cli(postgres_url)
    runner.env["MISURE_MACHINE_MODULES"] = "[]"
    runner.run("db", "upgrade")
    (tmp_path / "reference.json").write_text(json.dumps(REFERENCE), encoding="utf-8")
    runner.run("ref", "load", str(tmp_path / "reference.json"))
    before = database(runner)
    for change, field in [
        (_set("conventions", 0, daily_rate="1e20"), "conventions[0].daily_rate"),
        (_set("budget_years", 0, appropriation="1e20"), "budget_years[0].appropriation"),
        (_set("budget_years", 0, appropriation="100000000000000"), "budget_years[0].appropriation"),
        (_set("offices", 1, detainees=10**12), "offices[1].detainees"),
        (_set("facilities", 0, name="a\x00b"), "facilities[0].name"),
    ]:
        document = copy.deepcopy(REFERENCE)
        change(document)
        (tmp_path / "hostile.json").write_text(json.dumps(document), encoding="utf-8")
        line = answered_in_one_line(
            runner, 1, "ref", "load", str(tmp_path / "hostile.json"), "--json"
        )
        assert json.loads(line)["field"] == field
    assert database(runner) == before

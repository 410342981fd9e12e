"""The LPU commands as an operator runs them: a real `misure` process, its output and exit code.
They compute on dated legal data only: no database is created, read or needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli


@pytest.fixture
def lcli(tmp_path: Path) -> Cli:
    runner = Cli(f"sqlite:///{tmp_path / 'never.db'}")
    runner.env["MISURE_PROCEDURES"] = '["services.lpu.procedure"]'
    return runner


@pytest.fixture(autouse=True)
def no_database(tmp_path: Path) -> Iterator[None]:
    yield None
    assert not (tmp_path / "never.db").exists()  # no `db upgrade`, and nothing opened one


def test_convert_arrest_and_fine_into_days_and_hours(lcli: Cli) -> None:
    text = lcli.run("lpu", "convert", "--arrest-days", "10", "--fine", "1000.01").stdout
    lines = text.splitlines()
    assert lines[0] == "arresto: 10 giorni = 10 giorni di LPU"
    assert lines[1].startswith("pena pecuniaria: EUR 1000.01 = 5 giorni di LPU (EUR 250 o frazione")
    assert "art. 135 c.p." in lines[1]
    assert (
        lines[2] == "totale: 15 giorni = 30 ore (1 giorno = 2 ore, art. 54 co. 5 d.lgs. 274/2000)"
    )
    done = lcli.json("lpu", "convert", "--arrest-days", "10", "--fine", "1000.01")
    assert (done["arrest_days"], done["fine"], done["fine_days"]) == (10, "1000.01", 5)
    assert (done["days"], done["hours"]) == (15, 30)
    assert done["rate"]["euros_per_day"] == "250" and done["rate"]["since"] == "2009-08-08"


def test_convert_with_a_form_prints_its_limits_and_the_weeks_needed(lcli: Cli) -> None:
    args = ("lpu", "convert", "--arrest-days", "10", "--fine", "1000.01", "--form", "H")
    text = lcli.run(*args, "--on", "2026-03-02").stdout
    assert (
        "forma H: LPU sostitutivo dell'arresto e dell'ammenda per guida in stato di ebbrezza"
        in text
    )
    assert "ore settimanali senza autorizzazione: al massimo 6 (art. 54 co. 3" in text
    assert "ore giornaliere: al massimo 8" in text
    assert "settimane minime al limite ordinario: 5 (al massimo 6 ore a settimana)" in text
    assert "settimane minime al limite autorizzato: 1 (al massimo 40 ore a settimana)" in text
    done = lcli.json(*args, "--on", "2026-03-02")
    assert done["on"] == "2026-03-02" and done["form"]["code"] == "H"
    assert done["weeks"] == {
        "ordinary": {"weeks": 5, "hours_per_week": "6"},
        "authorised": {"weeks": 1, "hours_per_week": "40"},
    }


def test_the_form_in_force_on_the_day_asked(lcli: Cli) -> None:
    before = lcli.json("lpu", "convert", "--arrest-days", "3", "--form", "A", "--on", "2022-12-29")
    assert before["form"]["until"] == "2022-12-30"
    line = lcli.refused("lpu", "convert", "--arrest-days", "3", "--form", "A", "--on", "2023-01-02")
    assert "forma LPU A non in vigore il 02/01/2023" in line and "poi forma S" in line
    line = lcli.refused("lpu", "convert", "--arrest-days", "3", "--form", "K")
    assert "le forme note sono A, B, C, D, E, F, G, H, I, L, M, N, S" in line


@pytest.mark.parametrize("amount", ["1000.005", "1e3", "-5", "1000,50", "nan"])
def test_an_amount_that_is_not_euros_to_the_cent_is_refused_in_one_line(
    lcli: Cli, amount: str
) -> None:
    line = lcli.refused("lpu", "convert", "--fine", amount)
    assert line.startswith("errore: importo") and "non valido" in line
    done = lcli.run("lpu", "convert", "--fine", amount, "--json", ok=False)
    assert done.returncode == 1 and done.stdout == ""
    assert json.loads(done.stderr)["error"] == "invalid_input"


def test_negative_days_are_a_usage_error_and_nothing_to_convert_is_refused(lcli: Cli) -> None:
    done = lcli.run("lpu", "convert", "--arrest-days", "-1", ok=False)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "--arrest-days" in done.stderr
    assert "niente da convertire" in lcli.refused("lpu", "convert")
    assert "non è una data" in lcli.refused("lpu", "convert", "--fine", "10", "--on", "ieri")


def test_forms_lists_the_forms_in_force_with_limits_and_sources(lcli: Cli) -> None:
    listed = lcli.json("lpu", "forms", "--on", "2026-03-02")
    assert listed["on"] == "2026-03-02"
    forms = {form["code"]: form for form in listed["forms"]}
    assert set(forms) == {"B", "C", "D", "E", "F", "G", "H", "I", "L", "M", "N", "S"}
    justice_of_the_peace = forms["D"]
    assert justice_of_the_peace["source"] == "art. 54 d.lgs. 274/2000"
    assert justice_of_the_peace["since"] == "2002-01-02"
    hours = justice_of_the_peace["hours"]
    assert hours["week_default"] == {"hours": "6", "article": "art. 54 co. 3 d.lgs. 274/2000"}
    assert hours["day_max"]["hours"] == "8" and hours["week_max"]["hours"] == "40"
    assert justice_of_the_peace["duration"]["min_days"] == 10
    assert justice_of_the_peace["duration"]["max_months"] == 6
    before_the_reform = {
        f["code"] for f in lcli.json("lpu", "forms", "--on", "2022-12-29")["forms"]
    }
    assert "A" in before_the_reform and "S" not in before_the_reform
    text = lcli.run("lpu", "forms", "--on", "2026-03-02").stdout
    assert "forme di LPU in vigore il 02/03/2026: 12" in text
    assert (
        "D - LPU come pena principale applicata dal giudice di pace (art. 54 d.lgs. 274/2000)"
        in text
    )
    assert (
        "  ore settimanali senza autorizzazione: al massimo 6 (art. 54 co. 3 d.lgs. 274/2000)"
        in text
    )
    assert lcli.json("lpu", "forms")["forms"]  # today, whatever today is

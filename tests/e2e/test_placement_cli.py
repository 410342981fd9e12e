"""Each actor's placement commands as real processes on a real SQLite database (D.M. 128/2025
arts. 11-14): reference data, the prison, the UIEPE, the court, the facility, the budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli
from tests.support.placements import ASSESSMENT, COURT_TO, REFERENCE

AT = "2026-03-02T10:00:00+01:00"


@pytest.fixture
def pcli(tmp_path: Path) -> Cli:
    runner = Cli(f"sqlite:///{tmp_path / 'cli.db'}")
    # Placements alone: the reference data's facilities count as registered (no register runs;
    # tests/e2e/test_register_cli.py drives the register and what it does to places).
    runner.env["MISURE_PROCEDURES"] = '["services.placements.procedure"]'
    runner.run("db", "upgrade")
    (tmp_path / "reference.json").write_text(json.dumps(REFERENCE), encoding="utf-8")
    (tmp_path / "assessment.json").write_text(json.dumps(ASSESSMENT), encoding="utf-8")
    counts = runner.json("ref", "load", str(tmp_path / "reference.json"))
    assert counts["conventions"] == 3 and counts["offices"] == 2
    shares = runner.json("budget", "split", "2026", "--now", AT)["shares"]
    assert sum(float(share["amount"]) for share in shares) == 7_000_000
    return runner


def test_every_actor_drives_a_placement_from_filing_to_the_cost_statement(
    pcli: Cli, tmp_path: Path
) -> None:
    filed = pcli.json("placement", "file", "--prison", "CC-TO", "--court", COURT_TO, "--now", AT)
    ref = filed["reference"]
    assessment = str(tmp_path / "assessment.json")
    steps = [
        ("placement", "review", ref, "--assessment", assessment),
        ("placement", "intake", ref),
        ("placement", "check", ref, "--compliant"),
    ]
    states = [pcli.json(*step, "--now", AT)["to_state"] for step in steps]
    assert states == ["forwarded", "registered", "queued"]
    report = pcli.json("placement", "reallocate", "--signalled", "--now", AT)
    assert [a["reference"] for a in report["attested"]] == [ref]
    decided = pcli.json(
        "placement", "decide", ref, "--outcome", "granted", "--decided-on", "2026-03-02",
        "--court", COURT_TO, "--file-number", "SIUS 12/2026", "--now", AT, "--key", "d-1",
    )  # fmt: skip
    assert decided["to_state"] == "granted"
    assert pcli.json("placement", "enter", ref, "--commitment-signed", "--now", AT)["to_state"] == (
        "placed"
    )
    presence = pcli.json(
        "placement", "presence", ref, "--from", "2026-03-02", "--to", "2026-03-06",
        "--absent", "2026-03-05", "--now", "2026-03-09T10:00:00+01:00",
    )  # fmt: skip
    assert (presence["present"], presence["absent"], presence["payable"]) == (4, 1, "200.00")
    assert presence["unreported"] == ["2026-03-07", "2026-03-08"]  # not paid (art. 13 co. 5)
    presence = pcli.json(
        "placement", "presence", ref, "--month", "2026-03", "--absent", "2026-03-05",
        "--now", "2026-03-11T10:00:00+01:00",
    )  # fmt: skip
    assert (presence["start"], presence["end"]) == ("2026-03-02", "2026-03-11")
    assert (presence["present"], presence["absent"], presence["payable"]) == (9, 1, "450.00")
    assert presence["unreported"] == []
    left = pcli.json(
        "placement", "exit", ref, "--left-on", "2026-03-12", "--now", "2026-03-12T11:00:00+01:00"
    )
    assert left["to_state"] == "ended"
    assert pcli.json("placement", "close", ref, "--now", "2026-03-13T10:00:00+01:00")[
        "to_state"
    ] == ("closed")
    pcli.run("notices", "render")
    documents = pcli.json("case", "documents", ref)["documents"]
    templates = {d["template"] for d in documents}
    assert {"attestazione", "trasmissione_attestazione", "prospetto_spese"} <= templates
    monitoring = pcli.json("budget", "monitor", "2026", "1", "--out", str(tmp_path / "pdf"))
    assert monitoring["national"]["spent"] == "450.00"
    assert len(list((tmp_path / "pdf").glob("*.pdf"))) == 3
    status = pcli.run("placement", "status", ref).stdout  # for a terminal, no diagram
    assert f"Pratica {ref}" in status and "Stato attuale:" in status and "closed" in status
    page = pcli.run("placement", "status", ref, "--markdown").stdout  # as the Prefect UI gets it
    assert f"# Pratica {ref}" in page and "`closed`" in page and "```mermaid" in page
    boards = pcli.json("placement", "dashboard")["dashboards"]
    assert [(b["office"], b["places"], b["free"]) for b in boards] == [
        ("UIEPE-RM", 5, 5),  # no register runs: FAC-RM-2 is not suspended here
        ("UIEPE-TO", 1, 1),
    ]


def test_a_late_decision_from_the_cli_hands_the_place_on_with_no_sweep(
    pcli: Cli, tmp_path: Path
) -> None:
    """Issued on 2 March, the attestation is valid through 2 May: a decision recorded one second
    after, with no sweep run, is late; the lapse stands, effective at 00:00 on 3 May, and the
    next application in protocol order gets the place at once."""
    assessment = str(tmp_path / "assessment.json")
    refs = []
    for _ in range(2):  # UIEPE-TO has one place
        ref = pcli.json("placement", "file", "--prison", "CC-TO", "--court", COURT_TO, "--now", AT)[
            "reference"
        ]
        for step in (("review", ref, "--assessment", assessment), ("intake", ref)):
            pcli.run("placement", *step, "--now", AT)
        pcli.run("placement", "check", ref, "--compliant", "--now", AT)
        refs.append(ref)
    first, second = refs
    pcli.run("placement", "reallocate", "--now", AT)
    late = json.loads(
        pcli.refused(
            "placement",
            "decide",
            first,
            "--outcome",
            "granted",
            "--decided-on",
            "2026-03-20",
            "--court",
            COURT_TO,
            "--now",
            "2026-05-03T00:00:01+02:00",
            "--json",
        )
    )
    assert late["error"] == "late_decision"
    assert (
        "dal 03/05/2026 (con effetto dalle 00:00 del 03/05/2026, ora italiana)" in late["message"]
    )
    shown = pcli.json("case", "show", first, "--now", "2026-05-03T00:00:01+02:00")
    lapse, recorded = shown["history"][-2:]
    assert (lapse["trigger"], lapse["effective_at"]) == ("lapse", "2026-05-02T22:00:00+00:00")
    assert recorded["trigger"] == "late_decision"
    assert shown["facts"]["valid_until"] == "2026-05-02"
    after = pcli.json("case", "show", second, "--now", "2026-05-03T00:00:01+02:00")
    assert after["case"]["state"] == "at_court"
    assert after["facts"]["issued_on"] == "2026-05-03"


def test_a_clerk_reads_the_status_page_in_italian_without_the_diagram(
    pcli: Cli, tmp_path: Path
) -> None:
    """Issue 16: `placement status` renders the status page for a terminal, Italian headings
    and tables, with no markdown syntax and no mermaid source (the diagram is the Prefect UI's);
    the other commands' human output is Italian too, codes and references unchanged."""
    ref = pcli.json("placement", "file", "--prison", "CC-TO", "--court", COURT_TO, "--now", AT)[
        "reference"
    ]
    assessment = str(tmp_path / "assessment.json")
    pcli.run("placement", "review", ref, "--assessment", assessment, "--now", AT)
    pcli.run("placement", "intake", ref, "--now", AT)
    pcli.run("placement", "check", ref, "--compliant", "--now", AT)
    attested = pcli.run("placement", "reallocate", "--now", AT).stdout
    assert "Attestazioni rilasciate" in attested and "protocollo" in attested and ref in attested
    status = pcli.run("placement", "status", ref, "--now", AT).stdout
    assert "```mermaid" not in status and "stateDiagram" not in status
    assert "# Pratica" not in status and "|---|" not in status and "**" not in status
    assert f"Pratica {ref}" in status and "Stato attuale:" in status and "at_court" in status
    assert "Storico" in status and "base normativa" in status
    assert "stateDiagram" in pcli.run("placement", "status", ref, "--markdown").stdout
    monitor = pcli.run("budget", "monitor", "2026", "1", "--now", AT).stdout
    assert "Monitoraggio 1° trimestre 2026" in monitor and "impegnato" in monitor


def test_refusals_are_one_line_and_write_nothing(pcli: Cli, tmp_path: Path) -> None:
    line = pcli.refused("placement", "file", "--prison", "CC-XX", "--court", COURT_TO)
    assert "istituto penitenziario 'CC-XX' non presente nei dati di riferimento" in line
    assert pcli.json("case", "list")["cases"] == []
    filed = pcli.json("placement", "file", "--prison", "CC-TO", "--court", COURT_TO, "--now", AT)
    line = pcli.refused(
        "placement", "decide", filed["reference"], "--outcome", "granted",
        "--decided-on", "2030-01-01", "--court", COURT_TO, "--now", AT, "--json",
    )  # fmt: skip
    refusal = json.loads(line)  # nothing attested to decide
    assert refusal["error"] == "transition_not_allowed"
    assert refusal["message"] == (
        f"{filed['reference']} non ha ancora un'attestazione (stato 'filed'): non c'è nulla "
        "da decidere"
    )
    (tmp_path / "bad.json").write_text('{"offices": [{"code": ""}]}', encoding="utf-8")
    line = pcli.refused("ref", "load", str(tmp_path / "bad.json"))
    assert "dati di riferimento, offices[0], code: non può essere vuoto" in line


def test_the_simulation_runs_a_small_year(pcli: Cli) -> None:
    report = pcli.json("simulate", "--applications", "40", "--seed", "3")
    assert report["applications"] == 40
    assert report["events"]["attest"] >= 1
    assert report["seconds"] > 0


def test_registry_tokens_are_shown_once_listed_without_secret_and_revoked(pcli: Cli) -> None:
    issued = pcli.json("api", "token", "issue", "--court", COURT_TO, "--label", "cancelleria TO")
    assert issued["token"].startswith("mrt_") and issued["court"] == COURT_TO
    listed = pcli.run("api", "token", "list", "--json").stdout
    assert issued["token"] not in listed  # only its hash is kept
    (row,) = json.loads(listed)["tokens"]
    assert (row["id"], row["revoked_at"]) == (issued["token_id"], None)
    pcli.run("api", "token", "revoke", str(issued["token_id"]))
    (row,) = pcli.json("api", "token", "list")["tokens"]
    assert row["revoked_at"] is not None
    assert "Token API" in pcli.run("api", "token", "list").stdout
    assert "nessun token 99" in pcli.refused("api", "token", "revoke", "99")

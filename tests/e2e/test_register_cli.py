"""The register of residential facilities from the command line, each actor's act a real
process on a real SQLite database (D.M. 128/2025 arts. 3-5): an operator's expression of
interest registered after the review and the DAP's opinion; a cancellation procedure invited,
received and answered; a contestation refused outside the 15-45 days of art. 5 co. 3 and
accepted within them once the peremptory 30 days have lapsed, with no sweep run; the operator
gives up and the facility is cancelled on the record as it stands (art. 5 co. 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli

PROCEDURES = '["services.placements.procedure", "services.register.procedure"]'
AT = "2026-03-02T10:00:00+01:00"  # a Monday
RECEIVED = "2026-03-03T12:00:00+01:00"  # the invitation's PEC receipt is recorded
CLARIFIED = "2026-03-10T12:00:00+01:00"
# 30 days from 3 March: last day Thursday 2 April; the term lapses at 00:00 on 3 April.
AFTER_CLARIFICATIONS = "2026-04-03T10:00:00+02:00"
GIVEN_UP = "2026-04-07T10:00:00+02:00"

FACILITY = (
    "--code", "STR-TO-1", "--name", "Casa Aurora", "--operator", "Comune di Torino",
    "--operator-type", "a", "--address", "Via Roma 1, Torino", "--section", "Piemonte",
    "--places", "8", "--structure-type", "community", "--housing-suitable",
    "--hygiene-suitable", "--residence-registration", "--accommodation",
    "--personal-assistance", "--reintegration", "--filed-on", "2026-02-27",
)  # fmt: skip
CONTEST = ("--facts", "Idoneità igienico-sanitaria venuta meno", "--rules-breached", "art. 7")


@pytest.fixture
def rcli(tmp_path: Path) -> Cli:
    runner = Cli(f"sqlite:///{tmp_path / 'register.db'}")
    runner.env["MISURE_PROCEDURES"] = PROCEDURES
    runner.env["MISURE_MACHINE_MODULES"] = "[]"
    runner.env["MISURE_REGISTER_DIR"] = str(tmp_path / "elenco")
    runner.run("db", "upgrade")
    return runner


def published(tmp_path: Path) -> list[str]:
    """The codes in the register's latest open data (art. 3 co. 5-6)."""
    data = json.loads((tmp_path / "elenco" / "elenco-latest.json").read_text(encoding="utf-8"))
    return [f["code"] for section in data["sections"] for f in section["facilities"]]


def test_registered_invited_contested_and_given_up_from_the_cli(rcli: Cli, tmp_path: Path) -> None:
    # The operator files; DG reviews (people by role and flags, never a name), hears the DAP
    # and registers.
    filed = rcli.json("register", "interest", *FACILITY, "--now", AT)
    facility = filed["reference"]
    assert facility.startswith("STR-2026-")
    assert (filed["to_state"], filed["legal_basis"]) == ("filed", "art. 3 co. 2-3 D.M. 128/2025")
    people = tmp_path / "people.json"
    people.write_text(json.dumps([{"role": "director"}]), encoding="utf-8")
    reviewed = rcli.json("register", "review", facility, "--people-file", str(people), "--now", AT)
    assert reviewed["to_state"] == "under_review"
    opinion = rcli.json(
        "register", "dap-opinion", facility, "--opinion", "favourable",
        "--given-on", "2026-03-02", "--now", AT,
    )  # fmt: skip
    assert opinion["to_state"] == "under_review"
    registered = rcli.run("register", "decide", facility, "--register", "--now", AT).stdout
    assert registered.strip().splitlines() == [
        f"{facility}: iscrizione nell'elenco -> iscritta nell'elenco "
        "(art. 3 co. 4 D.M. 128/2025; evento 4)"
    ]
    assert published(tmp_path) == [FACILITY[FACILITY.index("--code") + 1]]  # at once

    # DG opens a cancellation procedure on cause (b) and invites the operator to clarify;
    # the receipt starts the peremptory 30 days, and a clarification arrives within them.
    opened = rcli.json(
        "register", "cancellation", "open", facility, "--causes", "b",
        "--facts", "Verifica dell'idoneità igienico-sanitaria", "--now", AT,
    )  # fmt: skip
    procedure = opened["reference"]
    assert procedure.startswith("CANC-2026-") and opened["to_state"] == "opened"
    invited = rcli.json("register", "cancellation", "invite", procedure, "--now", AT)
    assert invited["to_state"] == "invited"
    received = rcli.json(
        "register", "receipt", procedure, "--received-on", "2026-03-03", "--now", RECEIVED
    )
    assert received["to_state"] == "clarifying"
    clarified = rcli.json(
        "register", "cancellation", "clarify", procedure, "--text", "Lavori in corso",
        "--documents", "2", "--now", CLARIFIED,
    )  # fmt: skip
    assert (clarified["to_state"], clarified["legal_basis"]) == (
        "clarifying",
        "art. 5 co. 2 D.M. 128/2025",
    )

    # The defence term is chosen within 15 and 45 days (art. 5 co. 3): 14 is refused in one
    # line naming both bounds, and nothing is written.
    line = rcli.refused(
        "register", "cancellation", "contest", procedure, *CONTEST, "--defence-days", "14",
        "--now", AFTER_CLARIFICATIONS,
    )  # fmt: skip
    assert "defence_days" in line and "15" in line and "45" in line
    # ... and the generic path refuses it with the same reason (every rule on every path)
    data = ("--data", "facts=Fatti", "--data", "rules_breached=art. 7")
    generic = rcli.refused(
        "case", "fire", procedure, "contest", *data, "--data", "defence_days=46",
        "--now", AFTER_CLARIFICATIONS,
    )  # fmt: skip
    same = "non meno di 15 e non più di 45 giorni (art. 5 co. 3 D.M. 128/2025)"
    assert same in line and same in generic and "defence_days" in generic
    # 15 is accepted: the 30 days lapsed first (no sweep ran), then the contestation.
    contested = rcli.json(
        "register", "cancellation", "contest", procedure, *CONTEST, "--defence-days", "15",
        "--now", AFTER_CLARIFICATIONS,
    )  # fmt: skip
    assert contested["caught_up"] == ["clarifications_closed"]
    assert (contested["from_state"], contested["to_state"]) == ("examining", "contested")

    # The operator gives up: the procedure ends and the facility is cancelled as it stands.
    given_up = rcli.json("register", "cancellation", "give-up", procedure, "--now", GIVEN_UP)
    assert (given_up["to_state"], given_up["legal_basis"]) == (
        "cancelled",
        "art. 5 co. 5 D.M. 128/2025",
    )
    assert published(tmp_path) == []  # republished at once, without it
    shown = rcli.json("register", "status", facility, "--now", GIVEN_UP)
    assert (shown["state"], shown["state_label"]) == ("cancelled", "cancellata dall'elenco")
    assert shown["summary"]["cancelled_on"] == "2026-04-07"
    assert shown["summary"]["procedures"] == {procedure: "give_up"}
    last = shown["history"][-1]
    assert (last["trigger"], last["legal_basis"]) == ("cancel", "art. 5 co. 4-5 D.M. 128/2025")
    page = rcli.run("register", "status", procedure, "--now", GIVEN_UP).stdout
    assert f"{procedure} (procedimento di cancellazione dall'elenco)" in page
    assert "struttura cancellata dall'elenco" in page and f"struttura: {facility}" in page
    # What the register's pages look like on a terminal: rendered, not markdown (issue 16).
    board = " ".join(rcli.run("register", "dashboard", "--now", GIVEN_UP).stdout.split())
    assert board.startswith("Elenco delle strutture residenziali: situazione al 7 aprile 2026")
    assert "Strutture per sezione" in board and "|" not in board and "##" not in board
    raw = rcli.run("register", "dashboard", "--now", GIVEN_UP, "--markdown").stdout
    assert raw.startswith("# Elenco delle strutture residenziali") and "|---|" in raw
    done = " ".join(rcli.run("register", "publish", "--now", GIVEN_UP).stdout.split())
    assert done.startswith("Elenco delle strutture residenziali, 7 aprile 2026")
    assert "Sezioni" in done and "|" not in done

"""A procedure plugs in by configuration alone: the test procedure (tests/procedure/: a machine
with a term and a guard, an effect on a table of its own with its own migration, a notice
template, a CLI command, an API route) is enabled by one line of MISURE_PROCEDURES and driven
through `case open/fire`, its own command, the sweep, the notices and its HTTP route, with no
edit to shared code. This process never imports it: only the commands and the server do."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.e2e.test_cli import Cli
from tests.support.apiserver import ApiServer

PROCEDURES = '["services.placements.procedure", "tests.procedure.procedure"]'
AT = "2026-03-02T10:00:00+01:00"  # a Monday
REVIEW_ENDS = "2026-03-13T00:00:00+01:00"  # ten days from 2 March: 00:00 after 12 March


@pytest.fixture
def pcli(tmp_path: Path) -> Cli:
    runner = Cli(f"sqlite:///{tmp_path / 'plugin.db'}")
    runner.env["MISURE_PROCEDURES"] = PROCEDURES
    runner.env["MISURE_MACHINE_MODULES"] = "[]"
    revision = runner.json("db", "upgrade")["revision"]
    assert "c0ffee000001" in revision  # the procedure's own migration branch ran
    return runner


def opened(pcli: Cli) -> str:
    reference: str = pcli.json("case", "open", "permit", "--data", "prison=CC-1", "--now", AT)[
        "reference"
    ]
    assert reference.startswith("PRM-2026-")
    pcli.run("case", "fire", reference, "review", "--now", AT)
    return reference


def test_the_test_procedure_runs_through_every_shared_path(pcli: Cli, tmp_path: Path) -> None:
    reference = opened(pcli)
    # Its guard refuses the same on the generic path and on its own command.
    generic = json.loads(
        pcli.refused(
            "case", "fire", reference, "grant", "--data", "hours=20", "--now", AT, "--json"
        )
    )
    own = json.loads(pcli.refused("permit", "grant", reference, "20", "--now", AT, "--json"))
    assert generic["error"] == own["error"] == "guard_failed"
    assert "20 ore richieste, al massimo 12" in generic["message"] == own["message"]
    assert generic["field"] == "hours"
    # Its schema bounds the payload before anything is written.
    bad = json.loads(
        pcli.refused("case", "fire", reference, "grant", "--data", "hours=x", "--json")
    )
    assert (bad["error"], bad["field"]) == ("invalid_input", "hours")
    granted = pcli.json("permit", "grant", reference, "8", "--now", AT)
    assert granted["to_state"] == "granted"
    # Its notice, from its own template folder, rendered by the shared service.
    assert pcli.json("notices", "render")["rendered"] == 1
    (document,) = pcli.json("case", "documents", reference, "--out", str(tmp_path))["written"]
    text = PdfReader(io.BytesIO(Path(document).read_bytes())).pages[0].extract_text()
    assert "Permesso di prova concesso per 8 ore" in text and reference in text

    # Its term, fired by the shared sweep.
    waiting = opened(pcli)
    early = pcli.json("timers", "sweep", "--now", "2026-03-12T23:59:59+01:00")
    assert early["fired"] == 0
    assert pcli.json("timers", "sweep", "--now", REVIEW_ENDS)["fired"] == 1
    assert pcli.json("case", "show", waiting, "--now", REVIEW_ENDS)["case"]["state"] == "expired"

    # Its route, served by the shared API app with the registries' tokens.
    token = pcli.json("api", "token", "issue", "--court", "Tribunale di prova")["token"]
    url = pcli.env["MISURE_DATABASE_URL"]
    env = {"MISURE_PROCEDURES": PROCEDURES, "MISURE_MACHINE_MODULES": "[]"}
    with ApiServer(url, tmp_path / "api.log", env=env) as server:
        status, body = server.request("GET", f"/v1/permits/{reference}", token=token)
        assert (status, body) == (200, {"reference": reference, "state": "granted", "hours": 8})
        assert server.request("GET", f"/v1/permits/{reference}")[0] == 401
        assert server.request("GET", "/v1/permits/PRM-2026-999999", token=token)[0] == 404


def test_without_its_line_of_configuration_the_procedure_is_not_there(tmp_path: Path) -> None:
    runner = Cli(f"sqlite:///{tmp_path / 'plain.db'}")
    runner.env["MISURE_MACHINE_MODULES"] = "[]"
    assert "c0ffee000001" not in runner.json("db", "upgrade")["revision"]
    assert "tipo di pratica 'permit' sconosciuto (noti: " in runner.refused(
        "case", "open", "permit"
    )
    assert "comando sconosciuto 'permit'" in runner.run("permit", "--help", ok=False).stderr

"""Every rule on every path (ARCHITECTURE.md rule 8): each placement rule sent through the
generic `case open/fire`, the actor's own command and, where the actor has one, the court API,
as real processes on a real database. Every path refuses with the same error and the same
reason, and writes nothing. Then the bounds of what a client sends, the same on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from machines.calendar import rome_date
from services import engine, registry
from services.clock import FixedClock
from services.context import Context
from services.placements import actors as placements
from services.placements import budget, reallocation
from storage.database import make_engine
from tests.e2e.test_cli import Cli
from tests.support.apiserver import ApiServer
from tests.support.placements import (
    ASSESSMENT,
    COURT_RM,
    COURT_TO,
    PLACEMENTS,
    load_reference,
    queued,
)

TODAY = rome_date(datetime.now(UTC))
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
YESTERDAY = (TODAY - timedelta(days=1)).isoformat()


@dataclass
class World:
    """A database with the reference data, the services on it, the CLI and the API."""

    ctx: Context
    cli: Cli
    api: ApiServer

    def history(self, reference: str) -> list[str]:
        return [e.trigger for e in engine.describe(self.ctx, reference).history]


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    db: Engine = make_engine(database_url)
    ctx = Context.build(db, FixedClock(datetime.now(UTC).replace(microsecond=0)), PLACEMENTS)
    load_reference(ctx, years=(TODAY.year - 1, TODAY.year))
    cli = Cli(database_url)
    with ApiServer(database_url, tmp_path / "api.log") as api:
        yield World(ctx, cli, api)
    db.dispose()


def cli_refusal(world: World, *args: str) -> tuple[str, str]:
    """(error code, message) of a CLI refusal: one JSON line on stderr, exit status 1."""
    line = world.cli.refused(*args, "--json")
    body = json.loads(line)
    return body["error"], body["message"]


def api_refusal(world: World, reference: str, body: dict[str, Any], court: str) -> tuple[str, str]:
    token = registry.issue_token(world.ctx, court).token
    status, answer = world.api.request(
        "POST",
        f"/v1/attestations/{reference}/decision",
        body,
        token=token,
        key=f"k-{abs(hash(court))}",
    )
    assert 400 <= status < 500, (status, answer)
    return answer["error"], answer["message"]


def at_court(world: World) -> str:
    reference = queued(world.ctx)
    (attested,) = reallocation.reallocate(world.ctx).attested
    assert attested.reference == reference
    return reference


def forwarded_during_stop(world: World) -> str:
    filed = placements.file_application(world.ctx, "CC-TO", COURT_TO, "istituto")
    placements.director_review(world.ctx, filed.reference, ASSESSMENT, "direttore")
    budget.stop(world.ctx, TODAY.year, "limite di spesa raggiunto")
    return filed.reference


def decision_paths(decided_on: str, court: str) -> dict[str, Callable[[World, str], Any]]:
    """A decision through the generic command, the registry's command and the court API."""
    data = ("--data", f"decided_on={decided_on}", "--data", f"court={court}")
    body = {"outcome": "rejected", "decided_on": decided_on, "file_number": "SIUS 1/2026"}
    return {
        "case fire": lambda w, ref: cli_refusal(w, "case", "fire", ref, "reject", *data),
        "placement decide": lambda w, ref: cli_refusal(
            w,
            "placement",
            "decide",
            ref,
            "--outcome",
            "rejected",
            "--decided-on",
            decided_on,
            "--court",
            court,
        ),
        "API": lambda w, ref: api_refusal(w, ref, body, court),
    }


@dataclass(frozen=True)
class Rule:
    name: str
    setup: Callable[[World], str]
    paths: dict[str, Callable[[World, str], Any]]
    error: str
    reason: str


RULES = [
    Rule(
        "the stop on new applications at intake (art. 13 co. 7)",
        forwarded_during_stop,
        {
            "case fire": lambda w, ref: cli_refusal(w, "case", "fire", ref, "register"),
            "placement intake": lambda w, ref: cli_refusal(w, "placement", "intake", ref),
        },
        "guard_failed",
        "nuove istanze sospese dalla Direzione generale: limite di spesa raggiunto "
        "(art. 13 co. 7 D.M. 128/2025)",
    ),
    Rule(
        "a filing date not in the future (art. 12 co. 1)",
        lambda world: "",
        {
            "case open": lambda w, _: cli_refusal(
                w,
                "case",
                "open",
                "placement",
                "--data",
                "prison=CC-TO",
                "--data",
                f"court={COURT_TO}",
                "--data",
                f"filed_on={TOMORROW}",
            ),
            "placement file": lambda w, _: cli_refusal(
                w,
                "placement",
                "file",
                "--prison",
                "CC-TO",
                "--court",
                COURT_TO,
                "--filed-on",
                TOMORROW,
            ),
        },
        "guard_failed",
        "successiva a oggi",
    ),
    Rule(
        "a decision not dated in the future (art. 12 co. 8)",
        at_court,
        decision_paths(TOMORROW, COURT_TO),
        "guard_failed",
        f"data della decisione {date.fromisoformat(TOMORROW):%d/%m/%Y} successiva a oggi",
    ),
    Rule(
        "a decision not dated before the attestation's issue (art. 12 co. 6)",
        at_court,
        decision_paths(YESTERDAY, COURT_TO),
        "guard_failed",
        f"anteriore al rilascio dell'attestazione ({TODAY:%d/%m/%Y})",
    ),
    Rule(
        "a decision by the court the case is pending before, CLI paths (art. 12 co. 8)",
        at_court,
        {
            name: path
            for name, path in decision_paths(TODAY.isoformat(), COURT_RM).items()
            if name != "API"  # the API's court is its token's: see the test below
        },
        "guard_failed",
        f"l'istanza non è pendente davanti a {COURT_RM}, ma davanti a {COURT_TO}",
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_each_rule_refuses_the_same_on_every_path(world: World, rule: Rule) -> None:
    reference = rule.setup(world)
    before = world.history(reference) if reference else []
    answers = {name: path(world, reference) for name, path in rule.paths.items()}
    for name, (error, message) in answers.items():
        assert error == rule.error, (name, error, message)
        assert rule.reason in message, (name, message)
    reasons = {message.split(": ", 1)[-1] for _, message in answers.values()}
    assert len(reasons) == 1, answers  # word for word the same reason
    if reference:
        assert world.history(reference) == before  # nothing written
    else:
        assert engine.list_cases(world.ctx, kind="placement") == []


def test_another_courts_registry_cannot_even_see_the_case(world: World) -> None:
    """Through the API the court is the token's: a registry of another court gets the same 404
    as for a case that does not exist, and nothing is written."""
    reference = at_court(world)
    before = world.history(reference)
    body = {"outcome": "rejected", "decided_on": TODAY.isoformat(), "file_number": "SIUS 1/2026"}
    token = registry.issue_token(world.ctx, COURT_RM).token
    status, answer = world.api.request(
        "POST", f"/v1/attestations/{reference}/decision", body, token=token, key="other-court"
    )
    assert (status, answer["error"]) == (404, "not_found")
    assert world.history(reference) == before


def test_an_unusable_facility_is_refused_by_the_effect_and_skipped_by_reallocation(
    world: World,
) -> None:
    """FAC-RM-2 is suspended: `attest` on its convention is refused on the generic path; the
    UIEPE's reallocation gives the application a place elsewhere."""
    reference = queued(world.ctx, "CC-RM", COURT_RM)
    error, message = cli_refusal(
        world,
        "case",
        "fire",
        reference,
        "attest",
        "--data",
        "convention=CONV-RM-2",
        "--data",
        "place=1",
    )
    assert (error, message) == (
        "place_unavailable",
        "la struttura FAC-RM-2 non è iscritta nell'elenco o è sospesa",
    )
    assert engine.describe(world.ctx, reference).case.state == "queued"
    report = world.cli.json("placement", "reallocate", "--office", "UIEPE-RM")
    assert [(a["reference"], a["convention"]) for a in report["attested"]] == [
        (reference, "CONV-RM-1")
    ]


def test_bounds_are_the_same_on_every_database(world: World) -> None:
    """What a client sends is bounded before anything is written: the same answer on SQLite
    and PostgreSQL, never a database error."""
    reference = at_court(world)
    before = world.history(reference)
    hostile = [
        (("reject", "--actor", "a" * 121), "actor"),
        (("transmit", "--key", "k" * 256), "idempotency_key"),
        (
            ("reject", "--data", "decided_on=2026-02-30", "--data", f"court={COURT_TO}"),
            "decided_on",
        ),
        (("reject", "--data", f"decided_on={TODAY}", "--data", "court=" + "T" * 201), "court"),
    ]
    for args, field in hostile:
        error = json.loads(world.cli.refused("case", "fire", reference, *args, "--json"))
        assert (error["error"], error["field"]) == ("invalid_input", field), args
    assert world.history(reference) == before
    # The longest Idempotency-Key the API takes is kept on either database.
    token = registry.issue_token(world.ctx, COURT_TO).token
    body = {"outcome": "rejected", "decided_on": TODAY.isoformat(), "file_number": "SIUS 1/2026"}
    path = f"/v1/attestations/{reference}/decision"
    too_long = world.api.request("POST", path, body, token=token, key="k" * 201)
    assert (too_long[0], too_long[1]["error"]) == (422, "invalid_input")
    longest = world.api.request("POST", path, body, token=token, key="k" * 200)
    assert (longest[0], longest[1]["state"]) == (200, "rejected")
    assert world.api.request("POST", path, body, token=token, key="k" * 200) == longest

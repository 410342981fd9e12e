"""Probation's court routes over real HTTP, against `misure api serve` on loopback: the judge's
orders on a probation before the registry's court (scope, idempotency, refusals naming the
field: a duration beyond the law, a revocation hearing notified nine days before), the
revocation with the days served and their worth (art. 657-bis c.p.p.), and an order arriving
after the end recorded, not applied."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from machines.calendar import rome_date
from services import engine, registry
from services.clock import FixedClock
from services.context import Context
from services.orders import LATE_ORDER
from storage.database import make_engine
from tests.support.apiserver import ApiServer

PROBATION = ("services.probation.procedure",)
COURT, OTHER = "Tribunale di Torino", "Tribunale di Roma"


def today() -> date:
    return rome_date(datetime.now(UTC))


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[ApiServer, Context]]:
    db = make_engine(database_url)
    ctx = Context.build(db, FixedClock(datetime.now(UTC).replace(microsecond=0)), PROBATION)
    env = {"MISURE_PROCEDURES": '["services.probation.procedure"]'}
    with ApiServer(database_url, tmp_path / "api.log", env) as server:
        yield server, ctx
    db.dispose()


def sent(ctx: Context, fine_only: bool = False) -> str:
    """A probation whose programme is before the judge."""
    day = (today() - timedelta(days=60)).isoformat()
    offence = (
        {"article": "art. 726 c.p.", "fine_only": True}
        if fine_only
        else {"article": "art. 624 c.p.", "max_detention_months": 36}
    )
    request = {
        "person_key": "persona-0001",
        "uepe": "UEPE di Torino",
        "court": COURT,
        "offence": offence,
        "requested_on": day,
    }
    reference = engine.open_case(ctx, "probation", "UEPE", request).reference
    engine.fire(ctx, reference, "inquire", "UEPE", {"started_on": day})
    engine.fire(
        ctx, reference, "draft", "UEPE",
        {"components": ["lpu"], "lpu_days": 10, "lpu_hours_per_day": "4", "drafted_on": day},
    )  # fmt: skip
    engine.fire(
        ctx, reference, "send", "UEPE", {"sent_on": day, "consent": True, "entity_adherence": True}
    )
    return reference


def post(server: ApiServer, reference: str, what: str, body: Any, token: str, key: str) -> Any:
    return server.request("POST", f"/v1/probations/{reference}/{what}", body, token=token, key=key)


def test_the_judges_orders_reach_only_the_courts_probations_once_per_key(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    reference = sent(ctx)
    court = registry.issue_token(ctx, COURT).token
    other = registry.issue_token(ctx, OTHER).token
    day = today().isoformat()
    admission = {"ordered_on": day, "duration_months": 24, "cadence_months": 3}
    assert post(server, reference, "admission", admission, other, "a0")[0] == 404
    assert server.request("GET", f"/v1/probations/{reference}", token=other)[0] == 404
    beyond = post(server, reference, "admission", {**admission, "duration_months": 25}, court, "a1")
    assert (beyond[0], beyond[1]["field"]) == (422, "duration_months")
    assert "art. 464-quater co. 5" in beyond[1]["message"]
    cadence = post(server, reference, "admission", {**admission, "cadence_months": 4}, court, "a2")
    assert (cadence[0], cadence[1]["field"]) == (422, "cadence_months")
    first = post(server, reference, "admission", admission, court, "admission")
    assert first[0] == 200 and first[1]["state"] == "admitted"
    assert post(server, reference, "admission", admission, court, "admission") == first
    conflict = post(
        server, reference, "admission", {**admission, "cadence_months": 2}, court, "admission"
    )
    assert (conflict[0], conflict[1]["error"]) == (409, "idempotency_conflict")
    status, seen = server.request("GET", f"/v1/probations/{reference}", token=court)
    assert status == 200 and (seen["state"], seen["duration_months"]) == ("admitted", 24)
    assert (seen["programme_version"], seen["lpu_days_planned"]) == (1, 10)


def test_a_fine_only_offence_is_admitted_for_a_year_at_most(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    reference = sent(ctx, fine_only=True)
    court = registry.issue_token(ctx, COURT).token
    body = {"ordered_on": today().isoformat(), "duration_months": 13, "cadence_months": 3}
    refused = post(server, reference, "admission", body, court, "y1")
    assert (refused[0], refused[1]["field"]) == (422, "duration_months")
    assert (
        post(server, reference, "admission", {**body, "duration_months": 12}, court, "y2")[0] == 200
    )


def test_revocation_hearing_notice_revocation_and_a_late_outcome(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    reference = sent(ctx)
    court = registry.issue_token(ctx, COURT).token
    start = today() - timedelta(days=30)
    engine.fire(
        ctx, reference, "admit", "giudice",
        {"ordered_on": start.isoformat(), "duration_months": 12, "cadence_months": 3},
    )  # fmt: skip
    engine.fire(ctx, reference, "sign", "UEPE", {"record_signed_on": start.isoformat()})
    hearing = today() + timedelta(days=1)
    short = {
        "cause": "breach",
        "revocation_hearing_on": hearing.isoformat(),
        "notified_on": (hearing - timedelta(days=9)).isoformat(),
    }
    refused = post(server, reference, "revocation-hearing", short, court, "h1")
    assert (refused[0], refused[1]["field"]) == (422, "notified_on")
    assert "9 giorni" in refused[1]["message"]
    enough = {**short, "notified_on": (hearing - timedelta(days=10)).isoformat()}
    assert post(server, reference, "revocation-hearing", enough, court, "h2")[0] == 200
    revoke = {"outcome": "revoke", "ordered_on": today().isoformat()}
    revoked = post(server, reference, "revocation", revoke, court, "r1")
    assert (revoked[0], revoked[1]["state"]) == (200, "revoked")
    status, seen = server.request("GET", f"/v1/probations/{reference}", token=court)
    assert status == 200 and seen["days_served"] == 31 and "10 giorni" in seen["art_657_bis"]

    outcome = {"outcome": "extinguished", "decided_on": today().isoformat()}
    late = post(server, reference, "outcome", outcome, court, "o1")
    assert (late[0], late[1]["error"], late[1]["state"]) == (409, "late_order", "revoked")
    assert post(server, reference, "outcome", outcome, court, "o1") == late
    history = engine.describe(ctx, reference).history
    assert [e.trigger for e in history].count(LATE_ORDER) == 1
    assert engine.describe(ctx, reference).case.state == "revoked"

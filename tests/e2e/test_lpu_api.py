"""Unpaid community work over real HTTP, against `misure api serve` on loopback: the court's
orders on a placement before its court (scope, idempotency, refusals naming the field, an
order arriving after the end recorded and not applied) and a host entity's register of several
people in one call (its own token, scoped to its conventions; a bad row refuses only itself;
a retry records nothing twice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from machines.calendar import rome_date
from services import engine, registry
from services.clock import FixedClock
from services.context import Context
from services.lpu import actors
from storage.database import make_engine
from storage.lpu.models import Attendance
from tests.integration.test_lpu_conventions import OPENING as CONVENTION
from tests.support.apiserver import ApiServer

LPU = ("services.lpu.procedure",)
COURT = "Giudice di pace di Torino"
OTHER_COURT = "Tribunale di Roma"
ENTITY = CONVENTION["entity"]


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def today() -> date:
    return rome_date(now())


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[ApiServer, Context]]:
    db = make_engine(database_url)
    ctx = Context.build(db, FixedClock(now()), LPU)
    with ApiServer(
        database_url, tmp_path / "api.log", {"MISURE_PROCEDURES": '["services.lpu.procedure"]'}
    ) as server:
        yield server, ctx
    db.dispose()


def convention(ctx: Context, entity: str = ENTITY) -> str:
    reference = engine.open_case(
        ctx, "lpu_convention", "ente", {**CONVENTION, "entity": entity}
    ).reference
    engine.fire(ctx, reference, "sign", "ministero")
    return reference


def declared(ctx: Context, agreement: str, form: str = "S") -> str:
    opening = {
        "convention": agreement, "form": form, "offence": "art. 582 c.p.",
        "activities": ["manutenzione del verde"], "signed_by_representative": True,
        "declared_on": "2026-02-02", "court": COURT,
    }  # fmt: skip
    return engine.open_case(ctx, "lpu_placement", "ente", opening).reference


def in_progress(ctx: Context, agreement: str, hours: int = 40) -> str:
    reference = declared(ctx, agreement)
    engine.fire(
        ctx, reference, "sentenced", "giudice",
        {"owed_days": hours // 2, "owed_hours": hours, "decided_on": "2026-02-10"},
    )  # fmt: skip
    engine.fire(ctx, reference, "final", "giudice", {"final_on": "2026-02-25"})
    engine.fire(
        ctx, reference, "receive", "ente",
        {"insurance_opened": True, "calendar_agreed": True, "received_on": "2026-03-02"},
    )  # fmt: skip
    return reference


def order(
    server: ApiServer, reference: str, what: str, body: Any, token: str, key: str
) -> tuple[int, Any]:
    path = f"/v1/lpu/placements/{reference}/{what}"
    return server.request("POST", path, body, token=token, key=key)  # type: ignore[no-any-return]


def row(reference: str, day: date, start: str, end: str, **changes: Any) -> dict[str, Any]:
    return {
        "reference": reference, "day": day.isoformat(), "start": start, "end": end,
        "activity": "manutenzione del verde", "signed_by_person": True,
        "signed_by_coordinator": True, **changes,
    }  # fmt: skip


def test_the_court_orders_only_its_placements_once_per_key_and_names_the_field(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    placement = declared(ctx, convention(ctx))
    court = registry.issue_token(ctx, COURT).token
    other = registry.issue_token(ctx, OTHER_COURT).token
    host = actors.issue_entity_token(ctx, ENTITY).token
    sentence = {"owed_days": 10, "owed_hours": 20, "decided_on": "2026-02-10"}

    # scope: another court sees nothing, as for a placement that does not exist
    elsewhere = order(server, placement, "sentence", sentence, other, "k1")
    missing = order(server, "LPU-2026-999999", "sentence", sentence, other, "k2")
    assert elsewhere[0] == missing[0] == 404 and elsewhere[1]["error"] == "not_found"
    assert server.request("GET", f"/v1/lpu/placements/{placement}", token=other)[0] == 404
    # a host entity's token is not a court's
    refused = server.request("GET", f"/v1/lpu/placements/{placement}", token=host)
    assert (refused[0], refused[1]["error"]) == (401, "unauthorized")
    assert "cancelleria" in refused[1]["message"]

    # bad input and a rule on a field: 422 naming the field; nothing written
    bad = order(server, placement, "sentence", {**sentence, "owed_hours": 0}, court, "k3")
    assert (bad[0], bad[1]["field"]) == (422, "owed_hours")
    future = (today() + timedelta(days=1)).isoformat()
    ruled = order(server, placement, "sentence", {**sentence, "decided_on": future}, court, "k4")
    assert (ruled[0], ruled[1]["error"], ruled[1]["field"]) == (422, "guard_failed", "decided_on")
    assert "successiva a oggi" in ruled[1]["message"]
    assert engine.describe(ctx, placement).case.state == "declared"

    first = order(server, placement, "sentence", sentence, court, "sentence-1")
    again = order(server, placement, "sentence", sentence, court, "sentence-1")
    assert first == again and first[0] == 200 and first[1]["state"] == "awaiting_final"
    conflict = order(
        server, placement, "sentence", {**sentence, "owed_hours": 21}, court, "sentence-1"
    )
    assert (conflict[0], conflict[1]["error"]) == (409, "idempotency_conflict")
    premature = order(
        server, placement, "ruling", {"outcome": "revoke", "ruled_on": "2026-03-01"}, court, "k5"
    )
    assert (premature[0], premature[1]["error"]) == (409, "transition_not_allowed")

    assert order(server, placement, "final", {"final_on": "2026-02-25"}, court, "f")[0] == 200
    status, seen = server.request("GET", f"/v1/lpu/placements/{placement}", token=court)
    assert status == 200
    assert (seen["state"], seen["owed_hours"], seen["form"]) == ("to_receive", 20, "S")
    assert seen["form_law"] == "art. 56-bis L. 689/1981" and seen["court"] == COURT
    history = [e.trigger for e in engine.describe(ctx, placement).history]
    assert history == ["open", "transmit", "sentenced", "final"]  # once each, refusals left nothing


def test_authorisation_ruling_and_an_order_after_the_end_recorded_not_applied(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    agreement = convention(ctx)
    placement = in_progress(ctx, agreement)
    court = registry.issue_token(ctx, COURT).token
    day = today().isoformat()
    assert order(server, placement, "authorisation", {"authorised_on": day}, court, "a")[0] == 200
    assert engine.describe(ctx, placement).case.data["authorised_extra_hours"] is True

    engine.fire(ctx, placement, "breach", "ente", {"occurred_on": day, "description": "Assente."})
    carried = order(
        server, placement, "ruling", {"outcome": "continue", "ruled_on": day}, court, "c"
    )
    assert (carried[0], carried[1]["state"]) == (200, "in_progress")
    engine.fire(ctx, placement, "breach", "ente", {"occurred_on": day, "description": "Assente."})
    revoked = order(server, placement, "ruling", {"outcome": "revoke", "ruled_on": day}, court, "r")
    assert (revoked[0], revoked[1]["state"]) == (200, "revoked")

    late = order(server, placement, "ruling", {"outcome": "continue", "ruled_on": day}, court, "l")
    assert (late[0], late[1]["error"], late[1]["state"]) == (409, "late_order", "revoked")
    assert late[1]["since"] == day and "registrato nello storico" in late[1]["message"]
    assert (
        order(server, placement, "ruling", {"outcome": "continue", "ruled_on": day}, court, "l")
        == late
    )
    events = engine.describe(ctx, placement).history
    recorded = [e for e in events if e.trigger == actors.LATE_ORDER]
    assert len(recorded) == 1 and recorded[0].payload["requested"] == "continue"
    assert engine.describe(ctx, placement).case.state == "revoked"


def test_a_host_entity_records_many_sessions_at_once_each_row_on_its_own(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    ours, theirs = convention(ctx), convention(ctx, "Comune di Moncalieri")
    first, second = in_progress(ctx, ours), in_progress(ctx, ours)
    foreign = in_progress(ctx, theirs)
    host = actors.issue_entity_token(ctx, ENTITY).token
    court = registry.issue_token(ctx, COURT).token
    day = today() - timedelta(days=1)
    sessions = {
        "sessions": [
            row(first, day, "09:00", "12:00"),
            row(second, day, "08:00", "17:00"),  # 9 hours: over 8 a day (form S)
            row(foreign, day, "09:00", "11:00"),  # another entity's placement
            row(second, day, "09:00", "ieri"),  # not a time
            row(second, day, "14:00", "16:00", signed_by_coordinator=False),
            row(second, day, "09:00", "11:00"),
        ]
    }
    assert (
        server.request("POST", "/v1/lpu/entity/attendance", sessions, token=court, key="x")[0]
        == 401
    )
    status, answer = server.request(
        "POST", "/v1/lpu/entity/attendance", sessions, token=host, key="day-1"
    )
    assert status == 200 and (answer["recorded"], answer["refused"]) == (2, 4)
    results = answer["results"]
    assert [r["ok"] for r in results] == [True, False, False, False, False, True]
    assert "oltre 8 ore giornaliere" in results[1]["message"] and results[1]["field"] == "end"
    assert results[2]["error"] == "not_found"
    assert results[3]["field"] == "end"
    assert "firma del coordinatore" in results[4]["message"]

    again = server.request("POST", "/v1/lpu/entity/attendance", sessions, token=host, key="day-1")
    assert again == (status, answer)
    # the same sessions under another key: the same sessions, not new ones
    resent = server.request("POST", "/v1/lpu/entity/attendance", sessions, token=host, key="day-1b")
    assert resent[1]["recorded"] == 2
    with ctx.db.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Attendance)).scalar() == 2

    status, seen = server.request("GET", f"/v1/lpu/entity/placements/{first}", token=host)
    assert status == 200 and seen["credited_hours"] == "3.00" and seen["hours_left"] == "37.00"
    assert [(s["start"], s["end"], s["hours"]) for s in seen["sessions"]] == [
        ("09:00", "12:00", "3.00")
    ]
    assert server.request("GET", f"/v1/lpu/entity/placements/{foreign}", token=host)[0] == 404
    empty = server.request(
        "POST", "/v1/lpu/entity/attendance", {"sessions": []}, token=host, key="e"
    )
    assert (empty[0], empty[1]["field"]) == (422, "sessions")

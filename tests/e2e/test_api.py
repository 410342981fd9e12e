"""The court registry API over real HTTP, against `misure api serve` on loopback: tokens and
scope, idempotency, late decisions, a rejection handing the place on, bad input, and (on
PostgreSQL) a decision racing the lapse timer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from machines.calendar import rome_date
from services import engine, registry, timers
from services.clock import FixedClock
from services.context import Context
from services.placements import reallocation
from storage.database import make_engine
from tests.support.apiserver import ApiServer
from tests.support.placements import COURT_RM, COURT_TO, PLACEMENTS, load_reference, queued


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[ApiServer, Context]]:
    """The API serving a database with the reference data, and the services' context on it
    (its clock at the real instant: the server's clock is the system's)."""
    db = make_engine(database_url)
    ctx = Context.build(db, FixedClock(now()), PLACEMENTS)
    load_reference(ctx, years=(rome_date(now()).year - 1, rome_date(now()).year))
    with ApiServer(database_url, tmp_path / "api.log") as server:
        yield server, ctx
    db.dispose()


def at_court(ctx: Context, count: int = 1, court: str = COURT_TO) -> list[str]:
    prison = "CC-TO" if court == COURT_TO else "CC-RM"
    references = [queued(ctx, prison, court) for _ in range(count)]
    reallocation.reallocate(ctx)
    return references


def decision(outcome: str = "granted", **changes: Any) -> dict[str, Any]:
    today = rome_date(now())
    body: dict[str, Any] = {
        "outcome": outcome,
        "decided_on": today.isoformat(),
        "file_number": "SIUS 123/2026",
    }
    if outcome == "granted":
        body["measure_start"] = today.isoformat()
    return {**body, **changes}


def post(server: ApiServer, reference: str, body: Any, token: str | None, key: str | None):  # type: ignore[no-untyped-def]
    return server.request(
        "POST", f"/v1/attestations/{reference}/decision", body, token=token, key=key
    )


def test_only_a_valid_token_of_the_court_reaches_its_cases(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    (case,) = at_court(ctx)
    to = registry.issue_token(ctx, COURT_TO).token
    rm = registry.issue_token(ctx, COURT_RM).token

    assert post(server, case, decision(), None, "k")[0] == 401
    status, body = post(server, case, decision(), "mrt_not-a-token", "k")
    assert (status, body["error"]) == (401, "unauthorized")
    # Another court's registry: 404, the same answer as for a case that does not exist.
    other = post(server, case, decision(), rm, "k1")
    missing = post(server, "ATT-2026-999999", decision(), rm, "k2")
    assert other[0] == missing[0] == 404
    assert other[1]["error"] == missing[1]["error"] == "not_found"
    assert server.request("GET", f"/v1/attestations/{case}", token=rm)[0] == 404
    assert engine.describe(ctx, case).case.state == "at_court"  # nothing was applied

    status, seen = server.request("GET", f"/v1/attestations/{case}", token=to)
    assert status == 200 and seen["state"] == "at_court" and seen["court"] == COURT_TO
    assert seen["deadlines"][0]["term"] == "validità dell'attestazione"

    issued = registry.tokens(ctx)[0]
    registry.revoke_token(ctx, issued.id)
    assert server.request("GET", f"/v1/attestations/{case}", token=to)[0] == 401
    assert to not in (Path(server.log)).read_text()  # no token in the logs


def test_the_same_key_gets_the_first_answer_and_another_body_a_conflict(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    (case,) = at_court(ctx)
    token = registry.issue_token(ctx, COURT_TO).token
    assert post(server, case, decision(), token, None)[0] == 422  # the key is required
    first = post(server, case, decision(), token, "decision-1")
    again = post(server, case, decision(), token, "decision-1")
    assert first[0] == again[0] == 200 and first[1] == again[1]
    assert first[1]["state"] == "granted"
    conflict = post(server, case, decision("rejected"), token, "decision-1")
    assert (conflict[0], conflict[1]["error"]) == (409, "idempotency_conflict")
    history = engine.describe(ctx, case).history
    assert [e.trigger for e in history].count("grant") == 1
    assert history[-1].actor.startswith(f"cancelleria: {COURT_TO}")  # the audit trail
    assert history[-1].payload["file_number"] == "SIUS 123/2026"


def test_a_decision_after_the_lapse_is_answered_409_and_recorded(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    clock.instant = now() - timedelta(days=70)
    (case,) = at_court(ctx)
    clock.instant = now()
    timers.sweep(ctx, clock.instant)
    assert engine.describe(ctx, case).case.state == "lapsed"
    token = registry.issue_token(ctx, COURT_TO).token
    status, body = post(server, case, decision(), token, "late-1")
    assert status == 409 and body["error"] == "late_decision"
    assert body["state"] == "lapsed" and date.fromisoformat(body["since"]) <= rome_date(now())
    assert post(server, case, decision(), token, "late-1") == (status, body)
    history = engine.describe(ctx, case).history
    assert [e.trigger for e in history][-2:] == ["lapse", "late_decision"]
    assert history[-1].actor.startswith("cancelleria:")


def test_a_rejection_hands_the_place_to_the_next_applicant(
    served: tuple[ApiServer, Context],
) -> None:
    server, ctx = served
    first, second = at_court(ctx, 2)  # one place at UIEPE-TO: the second waits
    assert engine.describe(ctx, second).case.state == "queued"
    token = registry.issue_token(ctx, COURT_TO).token
    status, body = post(server, first, decision("rejected"), token, "reject-1")
    assert (status, body["state"]) == (200, "rejected")
    deadline = time.monotonic() + 30
    while engine.describe(ctx, second).case.state == "queued":
        assert time.monotonic() < deadline, "the freed place was not reassigned"
        time.sleep(0.2)
    assert engine.describe(ctx, second).case.state == "at_court"


@pytest.mark.parametrize(
    ("body", "field", "error"),
    [
        (
            decision("rejected", decided_on=(rome_date(now()) + timedelta(days=1)).isoformat()),
            "decided_on",
            "guard_failed",  # the machine's rule, as on every other path
        ),
        (decision(outcome="maybe"), "outcome", "invalid_input"),
        ({k: v for k, v in decision().items() if k != "measure_start"}, None, "invalid_input"),
        (decision("rejected", measure_start=rome_date(now()).isoformat()), None, "invalid_input"),
        (decision(file_number=""), "file_number", "invalid_input"),
        (decision(extra="x"), "extra", "invalid_input"),
    ],
)
def test_bad_input_is_422_with_the_field_and_writes_nothing(
    served: tuple[ApiServer, Context], body: dict[str, Any], field: str | None, error: str
) -> None:
    server, ctx = served
    (case,) = at_court(ctx)
    token = registry.issue_token(ctx, COURT_TO).token
    before = len(engine.describe(ctx, case).history)
    status, answer = post(server, case, body, token, "bad-1")
    assert (status, answer["error"]) == (422, error)
    if field is not None:
        assert answer["field"] == field
    assert len(engine.describe(ctx, case).history) == before
    assert post(server, "att-1", decision(), token, "bad-2")[0] == 422  # malformed reference
    raw = server.request(
        "POST", f"/v1/attestations/{case}/decision", token=token, key="bad-3", raw=b"{not json"
    )
    assert raw[0] == 422


@pytest.mark.postgres
def test_a_decision_racing_the_lapse_timer_has_exactly_one_outcome(
    postgres_url: str, tmp_path: Path
) -> None:
    db = make_engine(postgres_url)
    ctx = Context.build(db, FixedClock(now()), PLACEMENTS)
    load_reference(ctx, years=(rome_date(now()).year - 1, rome_date(now()).year))
    token = registry.issue_token(ctx, COURT_TO).token
    outcomes = []
    with ApiServer(postgres_url, tmp_path / "api.log") as server:
        for round_ in range(6):
            assert isinstance(ctx.clock, FixedClock)
            # The places the last round freed are handed on before a new case queues (by the
            # server's signal worker, at most COALESCE_SECONDS after its answer, and here):
            # otherwise the worker may attest the new case now, not two months ago.
            time.sleep(1.0)
            reallocation.reallocate_signalled(ctx)
            # Attested two months and a day ago: its validity lapses now.
            ctx.clock.instant = now() - relativedelta(months=2, days=1)
            (case,) = at_court(ctx)
            ctx.clock.instant = now()
            results: dict[str, Any] = {}
            barrier = threading.Barrier(2)
            delay = 0.004 * (round_ % 3)  # let either side win
            sides = [
                partial(_race_side, barrier, results, "http", 0.0, post, server, case,
                        decision(), token, f"race-{round_}"),
                partial(_race_side, barrier, results, "sweep", delay, timers.sweep, ctx, now()),
            ]  # fmt: skip
            threads = [threading.Thread(target=side) for side in sides]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            detail = engine.describe(ctx, case)
            moves = [e for e in detail.history if e.from_state == "at_court"]
            (lapse,) = moves  # whoever came first fired it, once, effective at its due instant
            assert lapse.trigger == "lapse" and lapse.effective_at < now()
            status, body = results["http"]
            assert (detail.case.state, status, body["error"]) == ("lapsed", 409, "late_decision")
            assert datetime.fromisoformat(body["since_at"]) == lapse.effective_at
            assert detail.history[-1].trigger == "late_decision"
            outcomes.append(results["sweep"].fired)
    db.dispose()
    assert set(outcomes) <= {0, 1} and len(outcomes) == 6


def _race_side(
    barrier: threading.Barrier,
    results: dict[str, Any],
    name: str,
    delay: float,
    call: Any,
    *args: Any,
) -> None:
    barrier.wait()
    time.sleep(delay)
    results[name] = call(*args)


def test_a_decision_after_the_validity_with_no_sweep_is_late_and_the_place_handed_on(
    served: tuple[ApiServer, Context],
) -> None:
    """No sweep has run since the attestation's validity ended: the API already reads the case
    as lapsed, answers the decision as late naming the instant of the lapse, records the lapse
    effective at that instant, and the next application in protocol order gets the place."""
    server, ctx = served
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    clock.instant = now() - relativedelta(months=2, days=1)
    first, second = at_court(ctx, 2)  # one place at UIEPE-TO: the second waits
    (timer,) = engine.describe(ctx, first).pending_timers
    assert timer.due_at < now()
    clock.instant = now()
    token = registry.issue_token(ctx, COURT_TO).token
    status, seen = server.request("GET", f"/v1/attestations/{first}", token=token)
    assert (status, seen["state"], seen["deadlines"][0]["passed"]) == (200, "lapsed", True)
    assert engine.describe(ctx, first).case.state == "at_court"  # reading wrote nothing

    status, body = post(server, first, decision(), token, "late-no-sweep")
    assert (status, body["error"], body["state"]) == (409, "late_decision", "lapsed")
    assert datetime.fromisoformat(body["since_at"]) == timer.due_at
    history = engine.describe(ctx, first).history
    assert [e.trigger for e in history][-2:] == ["lapse", "late_decision"]
    assert history[-2].effective_at == timer.due_at
    deadline = time.monotonic() + 30
    while engine.describe(ctx, second).case.state == "queued":
        assert time.monotonic() < deadline, "the freed place was not reassigned"
        time.sleep(0.2)
    assert engine.describe(ctx, second).case.state == "at_court"

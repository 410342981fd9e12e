"""A registry's write request is one transaction (services/registry.py): what a refused request
wrote is undone while its answer is kept, a key used before answers without applying again, and
two requests racing with the same key apply once."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from machines.calendar import rome_date
from services import engine, registry
from services.clock import FixedClock
from services.context import Context
from services.errors import DomainError, InvalidInput
from services.placements import reallocation
from storage.models import ApiRequest
from storage.unit_of_work import UnitOfWork
from tests.support.placements import COURT_TO, PLACEMENTS, load_reference, queued

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def rctx(db: Engine) -> Context:
    ctx = Context.build(db, FixedClock(NOW), PLACEMENTS)
    load_reference(ctx)
    return ctx


def at_court(ctx: Context) -> str:
    reference = queued(ctx)
    reallocation.reallocate(ctx)
    assert engine.describe(ctx, reference).case.state == "at_court"
    return reference


def grant(ctx: Context, reference: str) -> registry.Apply:
    def apply(uow: UnitOfWork, who: registry.Registry) -> registry.Answer:
        today = rome_date(NOW).isoformat()
        payload = {"decided_on": today, "court": who.party}
        result = engine.fire_in(ctx, uow, reference, "grant", who.actor, payload, "grant-1")
        return registry.Answer(200, {"state": result.to_state})

    return apply


def explain(uow: UnitOfWork, error: DomainError) -> registry.Answer:
    return registry.Answer(error.status, {"error": error.code})


def never(uow: UnitOfWork, who: registry.Registry) -> registry.Answer:
    raise AssertionError("a key used before must not apply again")


def remembered(ctx: Context) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(ApiRequest)) or 0)


def test_a_refusal_undoes_what_the_request_wrote_and_keeps_its_answer(rctx: Context) -> None:
    reference = at_court(rctx)
    token = registry.issue_token(rctx, COURT_TO).token
    before = [e.id for e in engine.describe(rctx, reference).history]

    def grant_then_refuse(uow: UnitOfWork, who: registry.Registry) -> registry.Answer:
        grant(rctx, reference)(uow, who)  # written in the transaction...
        raise InvalidInput("refused after writing", "file_number")  # ...then refused

    handled = registry.handle_write(
        rctx, token, "k-1", "digest-1", reference, grant_then_refuse, explain
    )
    assert handled.fresh and handled.answer == registry.Answer(422, {"error": "invalid_input"})
    assert [e.id for e in engine.describe(rctx, reference).history] == before  # undone
    assert engine.describe(rctx, reference).case.state == "at_court"
    again = registry.handle_write(rctx, token, "k-1", "digest-1", reference, never, explain)
    assert (again.digest, again.answer, again.fresh) == ("digest-1", handled.answer, False)
    assert remembered(rctx) == 1


def test_a_key_used_before_answers_its_first_answer_to_any_body(rctx: Context) -> None:
    reference = at_court(rctx)
    token = registry.issue_token(rctx, COURT_TO).token
    first = registry.handle_write(
        rctx, token, "k-1", "d-1", reference, grant(rctx, reference), explain
    )
    assert first.fresh and first.answer == registry.Answer(200, {"state": "granted"})
    other = registry.handle_write(rctx, token, "k-1", "d-2", reference, never, explain)
    assert (other.digest, other.answer, other.fresh) == ("d-1", first.answer, False)
    assert [e.trigger for e in engine.describe(rctx, reference).history].count("grant") == 1


@pytest.mark.parametrize("token", ["", "mrt_unknown", "Bearer x", "mrt_" + "x" * 300])
def test_an_unknown_token_is_refused_and_nothing_is_kept(rctx: Context, token: str) -> None:
    reference = at_court(rctx)
    handled = registry.handle_write(rctx, token, "k-1", "d-1", reference, never, explain)
    assert handled.registry is None and handled.answer is None
    assert remembered(rctx) == 0


def test_a_revoked_token_is_refused(rctx: Context) -> None:
    reference = at_court(rctx)
    issued = registry.issue_token(rctx, COURT_TO)
    registry.revoke_token(rctx, issued.token_id)
    handled = registry.handle_write(rctx, issued.token, "k-1", "d-1", reference, never, explain)
    assert handled.registry is None


@pytest.mark.postgres
def test_two_requests_racing_with_one_key_apply_once(postgres_url: str) -> None:
    """Both read the case before either writes; the second waits on the case row, finds it
    moved, starts again and answers with the first's answer."""
    from storage.database import make_engine

    db = make_engine(postgres_url)
    ctx = Context.build(db, FixedClock(NOW), PLACEMENTS)
    load_reference(ctx)
    reference = at_court(ctx)
    token = registry.issue_token(ctx, COURT_TO).token
    both_read = threading.Barrier(2, timeout=20)
    calls = itertools.count()
    outcomes: list[registry.Handled] = []

    def racing(uow: UnitOfWork, who: registry.Registry) -> registry.Answer:
        uow.repo.case_by_reference(reference)
        if next(calls) < 2:  # the first round of each request
            both_read.wait()
        return grant(ctx, reference)(uow, who)

    def request() -> None:
        handled = registry.handle_write(ctx, token, "k-1", "d-1", reference, racing, explain)
        outcomes.append(handled)

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2
    assert sorted(handled.fresh for handled in outcomes) == [False, True]
    assert [handled.answer for handled in outcomes] == [
        registry.Answer(200, {"state": "granted"})
    ] * 2
    assert [e.trigger for e in engine.describe(ctx, reference).history].count("grant") == 1
    assert remembered(ctx) == 1
    db.dispose()

"""The engine on a real database (SQLite and PostgreSQL): one change, all of it or nothing."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from machines.calendar import lapse_instant
from services import engine, timers
from services.clock import FixedClock
from services.context import Context
from services.errors import (
    DomainError,
    GuardFailed,
    IdempotencyConflict,
    InvalidInput,
    StaleVersion,
    TransitionNotAllowed,
    UnknownCase,
    UnknownKind,
)
from storage.models import Case, CaseEvent, OutboxMessage, Timer, TimerStatus
from storage.repository import Change, Repository, VersionConflict
from storage.unit_of_work import UnitOfWork


def counts(db: Engine) -> dict[str, int]:
    with db.connect() as connection:
        return {
            model.__tablename__: int(connection.scalar(select(func.count()).select_from(model)))
            for model in (Case, CaseEvent, Timer, OutboxMessage)
        }


def under_review(ctx: Context, **data: object) -> str:
    reference = engine.open_case(ctx, "demo", "clerk", {"eligible": True, **data}).reference
    engine.fire(ctx, reference, "file", "clerk", {"protocol": "P-1"})
    engine.fire(ctx, reference, "review", "clerk")
    return reference


def test_open_gives_references_in_sequence_and_a_first_event(ctx: Context) -> None:
    first = engine.open_case(ctx, "demo", "clerk", {"eligible": True})
    second = engine.open_case(ctx, "demo", "clerk")
    assert (first.reference, second.reference) == ("DEM-2026-000001", "DEM-2026-000002")
    detail = engine.describe(ctx, first.reference)
    assert detail.case.state == "draft" and detail.case.version == 1
    assert [(e.sequence, e.trigger, e.from_state, e.to_state) for e in detail.history] == [
        (1, "open", None, "draft")
    ]


def test_fire_writes_state_version_event_and_timers_together(ctx: Context) -> None:
    reference = under_review(ctx)
    detail = engine.describe(ctx, reference)
    assert (detail.case.state, detail.case.version) == ("under_review", 3)
    event = detail.history[-1]
    assert (event.sequence, event.trigger, event.from_state, event.to_state) == (
        3,
        "review",
        "filed",
        "under_review",
    )
    assert (event.actor, event.legal_basis) == ("clerk", "art. 2 demo")
    assert detail.history[1].payload == {"protocol": "P-1"}
    (timer,) = detail.pending_timers
    # Entered on 2 March 2026: 30 days end on 1 April; due at 00:00 Rome on 2 April (CEST).
    assert timer.name == "review_deadline"
    assert timer.due_at == datetime(2026, 4, 1, 22, 0, tzinfo=UTC)
    assert timer.created_by_event_id == event.id


def test_leaving_a_state_cancels_its_timers_and_entering_schedules_new_ones(
    ctx: Context, db: Engine
) -> None:
    reference = under_review(ctx)
    result = engine.fire(ctx, reference, "grant", "judge")
    with UnitOfWork(db) as uow:
        case = uow.repo.case_by_reference(reference)
        assert case is not None
        timers = {t.name: t for t in uow.repo.timers_of(case.id)}
    assert timers["review_deadline"].status == TimerStatus.CANCELLED
    assert timers["review_deadline"].resolved_by_event_id == result.event_id
    assert timers["validity_end"].status == TimerStatus.PENDING
    assert timers["validity_end"].due_at == lapse_instant(date(2026, 5, 2))


def test_transitions_write_their_outbox_rows(ctx: Context, db: Engine) -> None:
    reference = under_review(ctx)
    result = engine.fire(ctx, reference, "reject", "judge")
    with db.connect() as connection:
        rows = connection.execute(
            select(OutboxMessage.topic, OutboxMessage.payload, OutboxMessage.event_id).order_by(
                OutboxMessage.id
            )
        ).all()
    assert [(r.topic, r.payload, r.event_id) for r in rows] == [
        ("notice", {"template": "notifica_cambio_stato", "reference": reference}, result.event_id),
        ("reallocate", {"reference": reference}, result.event_id),
    ]


@pytest.mark.parametrize(
    ("trigger", "payload", "error", "message"),
    [
        ("grant", {}, GuardFailed, "the applicant is not eligible"),
        (
            "close",
            {},
            TransitionNotAllowed,
            "^trigger 'close' non consentito dallo stato 'under_review'$",
        ),
        (
            "approve",
            {},
            TransitionNotAllowed,
            r"^trigger 'approve' non previsto per questo tipo di pratica \(stato 'under_review'\)$",
        ),
        ("reject", {"when": object()}, InvalidInput, "^payload non è un oggetto JSON: "),
        (
            "reject",
            {"n": "many"},
            InvalidInput,
            "^dati di 'reject', campo 'n': deve essere un numero intero$",
        ),
        (
            "review",
            {"protocol": "P-1"},
            InvalidInput,
            "^dati di 'review', campo 'protocol': campo non previsto$",
        ),
    ],
)
def test_a_refusal_writes_nothing(
    ctx: Context,
    db: Engine,
    trigger: str,
    payload: dict[str, object],
    error: type[DomainError],
    message: str,
) -> None:
    reference = under_review(ctx, eligible=False)
    before = counts(db)
    with pytest.raises(error, match=message):
        engine.fire(ctx, reference, trigger, "judge", payload)
    assert counts(db) == before
    assert engine.describe(ctx, reference).case.version == 3


def test_unknown_case_and_kind(ctx: Context) -> None:
    with pytest.raises(UnknownCase):
        engine.fire(ctx, "DEM-2026-999999", "file", "clerk")
    with pytest.raises(UnknownKind, match=r"^tipo di pratica 'nope' sconosciuto \(noti: demo\)$"):
        engine.open_case(ctx, "nope", "clerk")


def test_the_same_idempotency_key_twice_is_one_change(ctx: Context, db: Engine) -> None:
    reference = under_review(ctx)
    first = engine.fire(ctx, reference, "reject", "registry", {"n": 1}, idempotency_key="K-1")
    before = counts(db)
    again = engine.fire(ctx, reference, "reject", "registry", {"n": 1}, idempotency_key="K-1")
    assert counts(db) == before
    assert again.replayed and not first.replayed
    assert (again.sequence, again.event_id, again.to_state) == (
        first.sequence,
        first.event_id,
        first.to_state,
    )
    with pytest.raises(
        IdempotencyConflict,
        match=f"^la chiave di idempotenza 'K-1' è già stata usata per 'reject' su {reference}$",
    ):
        engine.fire(ctx, reference, "close", "registry", idempotency_key="K-1")


def test_open_with_an_idempotency_key_opens_once(ctx: Context, db: Engine) -> None:
    first = engine.open_case(ctx, "demo", "prison", idempotency_key="APP-7")
    again = engine.open_case(ctx, "demo", "prison", idempotency_key="APP-7")
    assert again.reference == first.reference and again.replayed
    assert counts(db)["cases"] == 1


def test_a_stale_writer_never_overwrites(ctx: Context, db: Engine, clock: FixedClock) -> None:
    reference = under_review(ctx)
    with UnitOfWork(db) as stale:
        case = stale.repo.case_by_reference(reference)
        assert case is not None
        seen = case.version
    engine.fire(ctx, reference, "grant", "judge")
    change = Change(
        "reject", "under_review", "rejected", "judge", {}, "art. 4 demo", None, clock.now()
    )
    with UnitOfWork(db) as uow, pytest.raises(VersionConflict):
        uow.repo.write_transition(case.id, seen, change)
    assert engine.describe(ctx, reference).case.state == "granted"


def race(ctx: Context, reference: str, triggers: tuple[str, ...]) -> dict[str, object]:
    """Fire `triggers` on one case from as many threads, released together."""
    barrier = threading.Barrier(len(triggers))
    outcomes: dict[str, object] = {}

    def decide(trigger: str) -> None:
        barrier.wait()
        try:
            outcomes[trigger] = engine.fire(ctx, reference, trigger, "judge")
        except (TransitionNotAllowed, StaleVersion) as refusal:
            outcomes[trigger] = refusal

    threads = [threading.Thread(target=decide, args=(trigger,)) for trigger in triggers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_threads_firing_on_one_case_end_in_exactly_one_change(ctx: Context) -> None:
    for _ in range(5):
        reference = under_review(ctx)
        outcomes = race(ctx, reference, ("grant", "reject"))
        winners = [t for t, o in outcomes.items() if isinstance(o, engine.FireResult)]
        assert len(winners) == 1, outcomes
        detail = engine.describe(ctx, reference)
        assert detail.case.state == {"grant": "granted", "reject": "rejected"}[winners[0]]
        assert [e.trigger for e in detail.history] == ["open", "file", "review", winners[0]]
        assert detail.case.version == 4


def send_twice(ctx: Context, reference: str, key: str) -> list[object]:
    """The same decision, with the same key, from two threads released together."""
    barrier = threading.Barrier(2)
    results: list[object] = []

    def send() -> None:
        barrier.wait()
        try:
            results.append(engine.fire(ctx, reference, "reject", "registry", idempotency_key=key))
        except DomainError as refusal:  # a refusal here is the bug this test is for
            results.append(refusal)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_same_key_from_two_threads_is_one_change(ctx: Context, db: Engine) -> None:
    for round_ in range(8):
        reference = under_review(ctx)
        results = send_twice(ctx, reference, f"D-{round_}")
        answers = [r for r in results if isinstance(r, engine.FireResult)]
        assert len(answers) == 2, results
        assert {r.event_id for r in answers} == {answers[0].event_id}
        assert sorted(r.replayed for r in answers) == [False, True]
    with db.connect() as connection:
        rejects = connection.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.trigger == "reject")
        )
    assert rejects == 8


def test_a_key_committed_between_the_check_and_the_read_is_replayed(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving the threads above hit only now and then, made certain: the first key
    check runs before the other request commits, the case is read after it."""
    reference = under_review(ctx)
    first = engine.fire(ctx, reference, "reject", "registry", idempotency_key="D-9")
    real_replay = engine._replay
    checks: list[str | None] = []

    def check_too_early(
        repo: Repository, key: str | None, ref: str | None, trigger: str
    ) -> engine.FireResult | None:
        checks.append(key)
        return None if len(checks) == 1 else real_replay(repo, key, ref, trigger)

    monkeypatch.setattr(engine, "_replay", check_too_early)
    again = engine.fire(ctx, reference, "reject", "registry", idempotency_key="D-9")
    assert (again.replayed, again.event_id) == (True, first.event_id)
    assert len(checks) == 2


def test_timers_start_from_the_italian_date(ctx: Context, clock: FixedClock) -> None:
    # 23:30 UTC on 31 December is already 1 January in Rome: the term counts from 1 January.
    clock.instant = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    reference = under_review(ctx)
    (timer,) = engine.describe(ctx, reference).pending_timers
    assert timer.due_at == lapse_instant(date(2027, 2, 1))
    assert clock.now() - timer.due_at < timedelta(0)


def test_a_transition_records_its_declared_payload_fields_on_the_case(
    ctx: Context, db: Engine
) -> None:
    opened = engine.open_case(ctx, "demo", "prison", {"eligible": True, "prison": "Rebibbia"})
    engine.fire(ctx, opened.reference, "file", "uiepe", {"protocol": "P-42", "note": "x"})
    case = engine.describe(ctx, opened.reference).case
    # `file` records the protocol (and nothing else); what the case had stays.
    assert case.data == {"eligible": True, "prison": "Rebibbia", "protocol": "P-42"}
    engine.fire(ctx, opened.reference, "review", "uiepe")
    assert engine.describe(ctx, opened.reference).case.data["protocol"] == "P-42"
    timers.sweep(ctx, datetime(2026, 4, 1, 22, 0, tzinfo=UTC))  # a timer-fired move keeps it
    case = engine.describe(ctx, opened.reference).case
    assert (case.state, case.data["protocol"]) == ("lapsed", "P-42")


@pytest.mark.parametrize("actor", ["", "   ", " clerk", "clerk\n", "cler\x00k", "a\tb", "x" * 121])
def test_the_actor_is_a_label_on_one_line_on_every_write(
    ctx: Context, db: Engine, actor: str
) -> None:
    reference = engine.open_case(ctx, "demo", "clerk", {"eligible": True}).reference
    before = counts(db)
    for write in (
        lambda: engine.open_case(ctx, "demo", actor),
        lambda: engine.fire(ctx, reference, "file", actor, {"protocol": "P-1"}),
    ):
        with pytest.raises(InvalidInput) as refused:
            write()
        assert refused.value.field == "actor"
        assert str(refused.value) in (
            "l'autore (actor) deve avere da 1 a 120 caratteri",
            "l'autore (actor) va scritto su una riga, con caratteri stampabili e senza spazi "
            "all'inizio o alla fine",
        )
    assert counts(db) == before

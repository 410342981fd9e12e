"""The case workers' pages: every change of a case, by any path, asks for its page again
(database triggers), a burst costs one page, a change during a publication is not lost; the
queues list the cases with their deadlines and incidents; an incident is put back to work.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select, update

from services import pages, work
from services.clock import FixedClock
from services.context import Context
from services.engine import fire
from services.incidents import open_incidents, retry_incidents
from services.notices import MAX_ATTEMPTS, Office, render_pending_notices
from services.schema import _config, upgrade
from storage.models import (
    CaseChange,
    CaseEvent,
    OutboxMessage,
    OutboxStatus,
    ProtocolEntry,
    ProtocolStatus,
    Timer,
    TimerStatus,
)
from storage.pages import Changed
from tests.conftest import BRANCH_TABLES, BRANCHES
from tests.integration.test_notices import granted_case

OFFICE = Office("Ufficio interdistrettuale di esecuzione penale esterna per il Lazio", "Roma")


def generations(ctx: Context) -> dict[str, int]:
    return {c.reference: c.generation for c in pages.changed_cases(ctx, 1000)}


def publish_all(ctx: Context) -> list[str]:
    published = []
    done = []
    for change in pages.changed_cases(ctx, 1000):
        page, route = pages.case_page(ctx, change.reference, OFFICE.name)
        published.append(page.key)
        done.append((change, route))
    pages.settle(ctx, done)
    return published


def test_each_change_asks_for_the_page_once_however_many_changes(ctx: Context) -> None:
    case = granted_case(ctx)  # open + 3 transitions: 4 events
    assert generations(ctx) == {case.reference: 4}
    assert publish_all(ctx) == [pages.case_key(case.reference)]
    assert generations(ctx) == {}
    assert publish_all(ctx) == []  # nothing changed: nothing published
    fire(ctx, case.reference, "close", "clerk")
    assert generations(ctx) == {case.reference: 1}


def test_a_change_during_a_publication_is_published_again(ctx: Context) -> None:
    case = granted_case(ctx)
    [seen] = pages.changed_cases(ctx, 10)
    page, route = pages.case_page(ctx, case.reference, OFFICE.name)
    fire(ctx, case.reference, "close", "clerk")  # after the page was read
    assert pages.settle(ctx, [(seen, route)]).count == 0
    [again] = pages.changed_cases(ctx, 10)
    assert again.generation == seen.generation + 1
    assert "`granted`" in page.markdown
    page, _ = pages.case_page(ctx, case.reference, OFFICE.name)
    assert "`closed`" in page.markdown


def test_a_timer_given_up_and_a_notice_given_up_ask_for_the_page(ctx: Context) -> None:
    case = granted_case(ctx)
    publish_all(ctx)
    with ctx.uow() as uow:  # changes no event records: only the triggers on their rows see them
        case_id = uow.repo.case_by_reference(case.reference).id  # type: ignore[union-attr]
        uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.case_id == case_id)
            .values(status=OutboxStatus.FAILED, last_error="boom")
        )
        uow.commit()
    assert generations(ctx) == {case.reference: 1}
    publish_all(ctx)
    with ctx.uow() as uow:
        uow.session.execute(
            update(Timer).where(Timer.case_id == case_id).values(status=TimerStatus.FAILED)
        )
        uow.commit()
    expected = 1 if _has_timers(ctx, case_id) else 0
    assert len(generations(ctx)) == expected


def _has_timers(ctx: Context, case_id: int) -> bool:
    with ctx.read() as uow:
        return bool(uow.session.scalars(select(Timer.id).where(Timer.case_id == case_id)).all())


def test_the_page_shows_state_facts_notices_and_the_diagram_around_the_state(
    ctx: Context,
) -> None:
    case = granted_case(ctx)
    render_pending_notices(ctx, OFFICE)
    page, route = pages.case_page(ctx, case.reference, OFFICE.name)
    assert route.office == pages.DEFAULT_OFFICE and route.office_name == OFFICE.name
    text = page.markdown
    for fact in (
        f"# Pratica {case.reference}",
        "**Stato attuale:**",
        "## Termini in corso",
        "## Storico",
        "## Comunicazioni",
        "/v2/artifacts/key/coda-ufficio",
        "```mermaid",
        "direction LR",
        "class granted current",
    ):
        assert fact in text, fact
    with ctx.read() as uow:
        entry = uow.session.scalars(select(ProtocolEntry)).one()
    assert f"{entry.office}/{entry.year}/{entry.number:07d}" in text


def test_links_open_the_artifact_of_the_page_once_it_has_one(ctx: Context) -> None:
    case = granted_case(ctx)
    page, _ = pages.case_page(ctx, case.reference, OFFICE.name)
    assert not page.complete and "(/v2/artifacts/key/coda-ufficio)" in page.markdown
    pages.remember_artifact(ctx, pages.queue_key(pages.DEFAULT_OFFICE), "0000-queue")
    pages.remember_artifact(ctx, pages.INDEX_KEY, "0000-index")
    page, _ = pages.case_page(ctx, case.reference, OFFICE.name)
    assert page.complete
    assert "(/v2/artifacts/artifact/0000-queue)" in page.markdown
    assert "(/v2/artifacts/artifact/0000-index)" in page.markdown
    assert pages.ui_path(ctx, pages.INDEX_KEY) == "/v2/artifacts/artifact/0000-index"


def test_the_queue_lists_cases_deadlines_and_incidents_and_the_index_links_it(
    ctx: Context, clock: FixedClock
) -> None:
    first, second = granted_case(ctx), granted_case(ctx)
    with ctx.uow() as uow:
        second_id = uow.repo.case_by_reference(second.reference).id  # type: ignore[union-attr]
        uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.case_id == second_id)
            .values(status=OutboxStatus.FAILED, last_error="modello non trovato")
        )
        uow.commit()
    publish_all(ctx)
    found = {page.key: page for page in pages.queues(ctx)}
    queue = found[pages.queue_key(pages.DEFAULT_OFFICE)].markdown
    assert f"[{first.reference}](/v2/artifacts/key/{pages.case_key(first.reference)})" in queue
    assert "### Incidenti (1)" in queue and "modello non trovato" in queue
    assert "## Tutte le pratiche (2)" in queue
    index = found[pages.INDEX_KEY].markdown
    assert f"/v2/artifacts/key/{pages.queue_key(pages.DEFAULT_OFFICE)}" in index


def test_a_case_that_moves_leaves_the_queue_and_the_court_list_it_was_on(ctx: Context) -> None:
    case = granted_case(ctx)
    before = pages.Route("UFF-A", "Ufficio A", "Tribunale di sorveglianza di Roma")
    after = pages.Route("UFF-B", "Ufficio B", "Tribunale di sorveglianza di Torino")
    [change] = pages.changed_cases(ctx, 10)
    first = pages.settle(ctx, [(change, before)])
    assert (first.count, first.offices, first.courts) == (1, frozenset(), frozenset())
    fire(ctx, case.reference, "close", "clerk")
    [change] = pages.changed_cases(ctx, 10)
    moved = pages.settle(ctx, [(change, after)])
    assert moved.offices == {"UFF-A"} and moved.courts == {"Tribunale di sorveglianza di Roma"}
    offices = ["UFF-B", *moved.offices]
    found = {p.key: p.markdown for p in pages.queues(ctx, offices, moved.courts)}
    left, now_on = found[pages.queue_key("UFF-A")], found[pages.queue_key("UFF-B")]
    assert "## Tutte le pratiche (0)" in left and case.reference not in left
    assert "## Tutte le pratiche (1)" in now_on and case.reference in now_on
    court = found[pages.court_key("Tribunale di sorveglianza di Roma")]
    assert case.reference not in court and "0 in tutto" in court
    assert "1 in tutto" in found[pages.court_key("Tribunale di sorveglianza di Torino")]


def test_the_changes_held_back_are_left_out_and_the_others_go_on(ctx: Context) -> None:
    first, second = granted_case(ctx), granted_case(ctx)
    changes = pages.changed_cases(ctx, 10)
    assert [c.reference for c in changes] == [first.reference, second.reference]
    held = pages.changed_cases(ctx, 1, held=[changes[0].case_id])
    assert [c.reference for c in held] == [second.reference]


def test_a_notice_given_up_is_issued_again_under_a_new_number(ctx: Context) -> None:
    case = granted_case(ctx)
    with ctx.uow() as uow:  # a template that cannot render the change
        uow.session.execute(
            update(OutboxMessage).values(
                payload={"template": "avviso_scadenza", "reference": case.reference}
            )
        )
        uow.commit()
    for _ in range(MAX_ATTEMPTS):
        render_pending_notices(ctx, OFFICE)
    assert open_incidents(ctx, case.reference)
    with ctx.uow() as uow:  # the cause removed
        uow.session.execute(
            update(OutboxMessage).values(
                payload={"template": "notifica_cambio_stato", "reference": case.reference}
            )
        )
        uow.commit()
    retried = retry_incidents(ctx, case.reference, "clerk")
    assert retried.notices == ("notifica_cambio_stato",) and retried.count == 1
    assert open_incidents(ctx, case.reference) == ()
    assert render_pending_notices(ctx, OFFICE).rendered == 1
    with ctx.read() as uow:
        entries = [
            (e.number, e.status)
            for e in uow.session.scalars(select(ProtocolEntry).order_by(ProtocolEntry.number))
        ]
        trail = [e.trigger for e in uow.session.scalars(select(CaseEvent).order_by(CaseEvent.id))]
    assert entries == [(1, ProtocolStatus.ANNULLED), (2, ProtocolStatus.REGISTERED)]
    assert "incident_retried" in trail
    assert retry_incidents(ctx, case.reference, "clerk").count == 0  # nothing left to retry


def test_the_work_due_names_the_jobs_that_have_something_to_do(
    ctx: Context, clock: FixedClock
) -> None:
    assert work.due_work(ctx, clock.now()) == {}
    case = granted_case(ctx)
    due = work.due_work(ctx, clock.now())
    assert due["render-notices/render-notices"] >= 1
    assert set(due) == {"render-notices/render-notices"}  # pages: the dispatcher's own round
    publish_all(ctx)
    render_pending_notices(ctx, OFFICE)
    with ctx.read() as uow:
        timers = uow.session.scalars(select(Timer).where(Timer.status == TimerStatus.PENDING))
        next_due = min((t.run_at for t in timers), default=None)
    later = work.due_work(ctx, clock.now())
    assert "render-notices/render-notices" not in later
    if next_due is not None:
        assert "sweep-due-timers/sweep-due-timers" not in later
        at = next_due + timedelta(seconds=1)
        assert work.due_work(ctx, at)["sweep-due-timers/sweep-due-timers"] >= 1
    assert case.reference


def test_the_upgrade_asks_for_the_page_of_every_existing_case(ctx: Context) -> None:
    cases = [granted_case(ctx).reference for _ in range(3)]
    config = _config(BRANCHES, BRANCH_TABLES)
    with ctx.db.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0a1b2c3d4e5f")
    upgrade(ctx.db, BRANCHES, BRANCH_TABLES)
    assert set(generations(ctx)) == set(cases)
    with ctx.read() as uow:
        assert len(uow.session.scalars(select(CaseChange)).all()) == 3
    assert isinstance(pages.changed_cases(ctx, 1)[0], Changed)

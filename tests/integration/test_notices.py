"""Notices: rendered from the outbox once, stored with their hash, linked to their event."""

from __future__ import annotations

import hashlib
import io
import threading
from collections import Counter

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from services import protocol
from services.context import Context
from services.engine import FireResult, fire, open_case
from services.errors import UnknownCase
from services.notices import (
    MAX_ATTEMPTS,
    NoticeReport,
    Office,
    document_for,
    render_pending_notices,
)
from storage.database import is_postgresql, make_engine
from storage.models import Document, OutboxMessage, OutboxStatus, ProtocolEntry, ProtocolStatus

TEMPLATE = "notifica_cambio_stato"
OFFICE = Office("Ufficio interdistrettuale di esecuzione penale esterna per il Lazio", "Roma")


def granted_case(ctx: Context) -> FireResult:
    """A demo case driven to `granted`, whose grant asks for a notice."""
    opened = open_case(ctx, "demo", "clerk", {"eligible": True})
    fire(ctx, opened.reference, "file", "clerk", {"protocol": "P-1"})
    fire(ctx, opened.reference, "review", "clerk")
    return fire(ctx, opened.reference, "grant", "clerk")


def outbox(ctx: Context) -> list[OutboxMessage]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def documents(ctx: Context) -> list[Document]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(Document).order_by(Document.id)))


def test_a_notice_is_rendered_once_and_linked_to_its_event(ctx: Context) -> None:
    grant = granted_case(ctx)

    assert render_pending_notices(ctx, office=OFFICE) == NoticeReport(rendered=1)

    [document] = document_for(ctx, grant.reference)
    assert document.event_id == grant.event_id
    assert document.template == TEMPLATE
    assert document.rendered_at == ctx.clock.now()
    assert document.sha256 == hashlib.sha256(document.pdf).hexdigest()
    text = PdfReader(io.BytesIO(document.pdf)).pages[0].extract_text()
    assert grant.reference in text
    assert "art. 3 demo" in text
    assert "in istruttoria" in text and "accolta" in text  # the machine's Italian labels
    assert "PER IL LAZIO" in text  # the office, in the heading's capitals
    assert "2 marzo 2026, ore 10:00" in text  # 09:00 UTC, in Italian time
    text = " ".join(text.split())  # lines as laid out: compare words
    assert "Prot. n. UFFICIO/2026/0000001 del 02/03/2026" in text
    assert "Oggetto: Comunicazione di variazione dello stato della pratica – pratica" in text
    assert "Ufficio di esecuzione penale esterna" in text  # the addressee's role
    assert "indirizzo PEC non registrato" in text  # no reference data: said, not hidden
    assert "Roma, 2 marzo 2026" in text  # the act's date: the day of the event
    assert "firma autografa sostituita a mezzo stampa" in text.lower()
    [message] = outbox(ctx)
    assert (message.id, message.status) == (document.outbox_id, OutboxStatus.DONE)
    assert message.processed_at == ctx.clock.now()

    assert render_pending_notices(ctx, office=OFFICE) == NoticeReport()
    assert len(documents(ctx)) == 1


def test_documents_of_an_unknown_case_are_refused(ctx: Context) -> None:
    with pytest.raises(UnknownCase):
        document_for(ctx, "DEM-2026-999999")


def test_a_notice_another_renderer_stored_is_only_closed(ctx: Context) -> None:
    grant = granted_case(ctx)
    [message] = outbox(ctx)
    with ctx.uow() as uow:
        uow.session.add(
            Document(
                outbox_id=message.id,
                event_id=grant.event_id,
                case_id=message.case_id,
                template=TEMPLATE,
                html="<p>prima</p>",
                pdf=b"%PDF-",
                sha256=hashlib.sha256(b"%PDF-").hexdigest(),
                rendered_at=ctx.clock.now(),
            )
        )
        uow.commit()

    assert render_pending_notices(ctx, office=OFFICE) == NoticeReport(already_rendered=1)

    [document] = documents(ctx)
    assert document.html == "<p>prima</p>"
    assert outbox(ctx)[0].status == OutboxStatus.DONE


def test_a_notice_of_no_declared_type_is_refused_before_it_takes_a_number(ctx: Context) -> None:
    broken = granted_case(ctx)
    with ctx.uow() as uow:
        uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.event_id == broken.event_id)
            .values(payload={"template": "inesistente", "reference": broken.reference})
        )
        uow.commit()

    report = render_pending_notices(ctx, office=OFFICE)

    assert report == NoticeReport(failed=1)
    assert "inesistente declares no subject nor addressees" in report.errors[0]
    with ctx.read() as uow:
        assert uow.session.scalars(select(ProtocolEntry)).all() == []


def test_a_failing_notice_is_retried_then_marked_failed_without_blocking_others(
    ctx: Context,
) -> None:
    broken, fine = granted_case(ctx), granted_case(ctx)
    with ctx.uow() as uow:  # a reminder's template for a change: its render cannot succeed
        uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.event_id == broken.event_id)
            .values(payload={"template": "avviso_scadenza", "reference": broken.reference})
        )
        uow.commit()

    report = render_pending_notices(ctx, office=OFFICE)
    assert report == NoticeReport(rendered=1, failed=1)
    assert [d.reference for d in report.documents] == [fine.reference]
    assert len(report.errors) == 1 and "avviso_scadenza" in report.errors[0]
    for attempt in range(2, MAX_ATTEMPTS + 1):
        assert render_pending_notices(ctx, office=OFFICE) == NoticeReport(failed=1)
        assert outbox(ctx)[0].attempts == attempt
    assert render_pending_notices(ctx, office=OFFICE) == NoticeReport()

    failed, done = outbox(ctx)
    assert failed.status == OutboxStatus.FAILED
    assert failed.last_error is not None
    assert failed.last_error.startswith("UndefinedError")
    assert failed.processed_at == ctx.clock.now()
    assert done.status == OutboxStatus.DONE
    assert [document.event_id for document in documents(ctx)] == [fine.event_id]
    # The failed notice was numbered before its render: its number stays, annulled with the
    # reason (art. 54 D.P.R. 445/2000), and is never given again; the good one is sealed.
    with ctx.read() as uow:
        entries = uow.session.scalars(select(ProtocolEntry).order_by(ProtocolEntry.number))
        seen = [(e.number, e.outbox_id, e.status, e.sha256 is None) for e in entries]
    assert seen == [
        (1, failed.id, ProtocolStatus.ANNULLED, True),
        (2, done.id, ProtocolStatus.REGISTERED, False),
    ]


def test_limit_and_progress(ctx: Context) -> None:
    for _ in range(3):
        granted_case(ctx)
    told: list[int] = []

    assert render_pending_notices(
        ctx, limit=2, progress=told.append, office=OFFICE
    ) == NoticeReport(rendered=2)
    assert told == [1, 1]
    assert render_pending_notices(ctx, office=OFFICE) == NoticeReport(rendered=1)


def test_two_concurrent_renderers_store_each_notice_once(ctx: Context, database_url: str) -> None:
    """On SQLite both may render a message (the render holds no lock), and the unique
    `documents.outbox_id` keeps one; on PostgreSQL the claim's lock keeps the other away."""
    cases = [granted_case(ctx) for _ in range(6)]
    barrier = threading.Barrier(2)
    reports: list[NoticeReport] = []
    errors: list[BaseException] = []

    def renderer() -> None:
        engine = make_engine(database_url)
        try:
            own = Context(db=engine, machines=ctx.machines, clock=ctx.clock)
            barrier.wait()
            reports.append(render_pending_notices(own, office=OFFICE))
        except BaseException as error:
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=renderer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(report.rendered for report in reports) == len(cases)
    assert sum(report.failed for report in reports) == 0
    if is_postgresql(ctx.db):  # a claimed message is skipped by the other renderer
        assert sum(report.already_rendered for report in reports) == 0
    stored = documents(ctx)
    assert Counter(document.outbox_id for document in stored) == Counter(
        message.id for message in outbox(ctx)
    )
    assert sorted(document.event_id for document in stored) == [case.event_id for case in cases]
    assert {message.status for message in outbox(ctx)} == {OutboxStatus.DONE}


def test_a_notice_numbered_before_a_crash_keeps_its_number(ctx: Context) -> None:
    """A renderer that dies between the numbering (committed) and the store leaves an entry
    without a document: the next renderer finds it and issues the notice under that number,
    so the register has no gap and no number twice."""
    first, second = granted_case(ctx), granted_case(ctx)
    first_message, second_message = outbox(ctx)
    with ctx.read() as uow:
        case_id = uow.repo.case_by_reference(second.reference).id  # type: ignore[union-attr]
    crashed = protocol.register(
        ctx,
        protocol.Numbering(
            outbox_id=second_message.id,
            case_id=case_id,
            reference=second.reference,
            template=TEMPLATE,
            office="UFFICIO",
            subject="Comunicazione",
            addressees=(),
        ),
        ctx.clock.now(),
    )
    assert crashed.number == 1

    report = render_pending_notices(ctx, office=OFFICE)

    assert [(d.reference, d.protocol) for d in report.documents] == [
        (first.reference, "UFFICIO/2026/0000002"),
        (second.reference, "UFFICIO/2026/0000001"),
    ]
    with ctx.read() as uow:
        entries = uow.session.scalars(select(ProtocolEntry).order_by(ProtocolEntry.number))
        assert [(e.number, e.outbox_id) for e in entries] == [
            (1, second_message.id),
            (2, first_message.id),
        ]
    [document] = document_for(ctx, second.reference)
    text = " ".join(PdfReader(io.BytesIO(document.pdf)).pages[0].extract_text().split())
    assert "Prot. n. UFFICIO/2026/0000001" in text

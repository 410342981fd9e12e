"""Rendering of the notices the outbox asks for: each one exactly once, as a stored document.

Each message is claimed, rendered and stored in its own transaction, with the message marked done
in the same commit (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE serializes
renderers). The unique `documents.outbox_id` is the last word: a renderer that loses the race
rolls back and counts the message as already rendered. A render that raises is recorded on the
message and retried by a later pass, until `MAX_ATTEMPTS` mark it failed; it is never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from documents.render import data_it, render_notice
from services.applied import NOTICE_TOPIC
from services.context import Context
from services.errors import UnknownCase
from services.records import DocumentRecord
from storage.models import Document, OutboxMessage
from storage.repository import Repository
from storage.unit_of_work import UnitOfWork

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Office:
    """Who issues the notices, and where."""

    name: str
    place: str


@dataclass(frozen=True)
class Rendered:
    reference: str
    template: str
    sha256: str


@dataclass
class NoticeReport:
    rendered: int = 0
    already_rendered: int = 0
    failed: int = 0  # attempts that raised in this pass (retried later, or given up)
    # What was rendered, and why a render failed, in this pass (not compared: a report equals
    # another with the same counts).
    documents: list[Rendered] = field(default_factory=list, compare=False)
    errors: list[str] = field(default_factory=list, compare=False)

    @property
    def handled(self) -> int:
        return self.rendered + self.already_rendered + self.failed


def render_pending_notices(
    ctx: Context,
    office: Office,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> NoticeReport:
    """Render every pending notice once (at most `limit`); `progress` is told of each one."""
    report = NoticeReport()
    last_id = 0
    while limit is None or report.handled < limit:
        with ctx.uow() as uow:
            message = uow.repo.claim_outbox_after(NOTICE_TOPIC, last_id)
            if message is None:
                break
            last_id, attempts = message.id, message.attempts
            template = str(message.payload.get("template"))
            now = ctx.clock.now()
            try:
                document = _render(ctx, uow, message, office, now)
            except Exception as error:
                uow.rollback()
                reason = f"{type(error).__name__}: {error}"
                uow.repo.record_outbox_failure(last_id, reason, attempts + 1 >= MAX_ATTEMPTS, now)
                uow.commit()
                report.failed += 1
                report.errors.append(f"outbox {last_id} {template}: {reason}")
            else:
                stored = _store(uow.repo, document, now)
                uow.commit()
                if stored:
                    report.rendered += 1
                    reference = str(message.payload.get("reference", document.case_id))
                    report.documents.append(Rendered(reference, document.template, document.sha256))
                else:
                    report.already_rendered += 1
        if progress is not None:
            progress(1)
    return report


def document_for(ctx: Context, reference: str) -> list[DocumentRecord]:
    """The documents rendered for case `reference`, oldest first."""
    with ctx.uow() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        return [DocumentRecord.of(document) for document in uow.repo.documents_of(case.id)]


def _render(
    ctx: Context, uow: UnitOfWork, message: OutboxMessage, office: Office, now: datetime
) -> Document:
    """The notice's document. `office` signs it unless the case's kind names who does (a
    placement's competent UIEPE)."""
    repo = uow.repo
    case = repo.case_by_id(message.case_id)
    event = repo.event(message.event_id)
    machine = ctx.machine(case.kind)
    template = str(message.payload["template"])
    context: dict[str, Any] = {
        "ufficio": office.name,
        "numero": f"{case.reference}/{message.id}",
        "luogo_data": f"{office.place}, {data_it(now)}",
        "emesso_il": now,
        "reference": case.reference,
        "kind": machine.label(case.kind),
        "from_state": "—" if event.from_state is None else machine.label(event.from_state),
        "to_state": machine.label(event.to_state),
        "message": message.payload,  # what the change or reminder said of this notice
        "motivo": event.payload.get("reason"),  # a refusal's reason, if the change gave one
        "event": {
            "trigger": machine.label(event.trigger),
            "sequence": event.sequence,
            "occurred_at": event.occurred_at,  # when it was recorded
            "effective_at": event.effective_at,  # when it took effect in law
            "legal_basis": event.legal_basis,
        },
    }
    kind_context = ctx.notice_context(case.kind)
    if kind_context is not None:
        context.update(kind_context(uow, case, event, now))
    rendered = render_notice(template, context, ctx.template_folders)
    return Document(
        outbox_id=message.id,
        event_id=event.id,
        case_id=case.id,
        template=template,
        html=rendered.html,
        pdf=rendered.pdf,
        sha256=rendered.sha256,
        rendered_at=now,
    )


def _store(repo: Repository, document: Document, now: datetime) -> bool:
    """Insert the document and close its message; False if another renderer had stored one
    first (it is kept, and the message only closed)."""
    savepoint = repo.session.begin_nested()
    try:
        repo.add_document(document)
        savepoint.commit()
        stored = True
    except IntegrityError:
        savepoint.rollback()
        if repo.document_of_outbox(document.outbox_id) is None:
            raise
        stored = False
    repo.mark_outbox_done(document.outbox_id, now)
    return stored

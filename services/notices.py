"""Rendering of the notices the outbox asks for: each one exactly once, as a stored document.

Each message is claimed, its notice rendered, and the document stored with the message marked
done in one commit. A render (WeasyPrint) takes far longer than a transition, so on SQLite it
never holds the one writer: the claim reads a snapshot, the render runs outside any transaction
and only the store writes. On PostgreSQL the claim locks the message (FOR UPDATE SKIP LOCKED)
until its document is stored, so that concurrent renderers pass each other by; that row lock
holds up no sweep and no decision. Either way the unique `documents.outbox_id` is the last word:
a renderer that loses the race keeps the other's document and counts the message as already
rendered. A render that raises is recorded on the message and retried by a later pass, until
`MAX_ATTEMPTS` mark it failed; it is never dropped.
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
from storage.database import is_postgresql
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
        claim = _next(ctx, office, last_id, report)
        if claim is None:
            break
        last_id = claim.outbox_id
        if progress is not None:
            progress(1)
    return report


def document_for(ctx: Context, reference: str) -> list[DocumentRecord]:
    """The documents rendered for case `reference`, oldest first."""
    with ctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        return [DocumentRecord.of(document) for document in uow.repo.documents_of(case.id)]


@dataclass(frozen=True)
class _Claim:
    """A pending message taken at `now`, with what its notice says (`context`), or why that
    could not be read."""

    outbox_id: int
    attempts: int
    case_id: int
    event_id: int
    template: str
    reference: str
    now: datetime
    context: dict[str, Any] | str


def _next(ctx: Context, office: Office, after_id: int, report: NoticeReport) -> _Claim | None:
    """Claim, render and store the first pending notice after `after_id`; None if none is
    left."""
    if is_postgresql(ctx.db):
        with ctx.uow() as uow:
            claim = _claim(ctx, uow, office, after_id)
            if claim is not None:
                _write(uow, claim, _render(ctx, claim), report)
        return claim
    with ctx.read() as snapshot:
        claim = _claim(ctx, snapshot, office, after_id)
    if claim is not None:
        outcome = _render(ctx, claim)
        with ctx.uow() as uow:
            _write(uow, claim, outcome, report)
    return claim


def _claim(ctx: Context, uow: UnitOfWork, office: Office, after_id: int) -> _Claim | None:
    message = uow.repo.claim_outbox_after(NOTICE_TOPIC, after_id)
    if message is None:
        return None
    now = ctx.clock.now()
    try:
        context: dict[str, Any] | str = _context(ctx, uow, message, office, now)
    except Exception as error:
        context = _reason(error)
    return _Claim(
        outbox_id=message.id,
        attempts=message.attempts,
        case_id=message.case_id,
        event_id=message.event_id,
        template=str(message.payload.get("template")),
        reference=str(message.payload.get("reference", message.case_id)),
        now=now,
        context=context,
    )


def _context(
    ctx: Context, uow: UnitOfWork, message: OutboxMessage, office: Office, now: datetime
) -> dict[str, Any]:
    """What the notice says. `office` signs it unless the case's kind names who does (a
    placement's competent UIEPE)."""
    repo = uow.repo
    case = repo.case_by_id(message.case_id)
    event = repo.event(message.event_id)
    machine = ctx.machine(case.kind)
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
    return context


def _render(ctx: Context, claim: _Claim) -> Document | str:
    """The notice's document, or why it could not be rendered."""
    if isinstance(claim.context, str):
        return claim.context
    try:
        rendered = render_notice(claim.template, claim.context, ctx.template_folders)
    except Exception as error:
        return _reason(error)
    return Document(
        outbox_id=claim.outbox_id,
        event_id=claim.event_id,
        case_id=claim.case_id,
        template=claim.template,
        html=rendered.html,
        pdf=rendered.pdf,
        sha256=rendered.sha256,
        rendered_at=claim.now,
    )


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _write(uow: UnitOfWork, claim: _Claim, outcome: Document | str, report: NoticeReport) -> None:
    """Store the document and close its message, or record the failed attempt."""
    if isinstance(outcome, str):
        uow.rollback()  # on PostgreSQL, a statement that failed in the claim aborted it
        give_up = claim.attempts + 1 >= MAX_ATTEMPTS
        uow.repo.record_outbox_failure(claim.outbox_id, outcome, give_up, claim.now)
        uow.commit()
        report.failed += 1
        report.errors.append(f"outbox {claim.outbox_id} {claim.template}: {outcome}")
        return
    stored = _store(uow.repo, outcome, claim.now)
    uow.commit()
    if stored:
        report.rendered += 1
        report.documents.append(Rendered(claim.reference, outcome.template, outcome.sha256))
    else:
        report.already_rendered += 1


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

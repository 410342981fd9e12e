"""Issuing the notices the outbox asks for: each one exactly once, as an act the office can
sign and send.

A notice is an act of its issuing office: the office's letterhead and signatory (reference
data), the addressees its type declares with their certified e-mail, its subject, the place
and the date of the event it records (never the rendering time), and a number of the office's
outgoing protocol register (services/protocol.py), given in its own transaction before the
render so that a crash in between keeps it. The PDF is archival (PDF/A) and, where the office's
certificate is configured, signed (PAdES); otherwise it carries the printed-signature wording
(art. 3 co. 2 d.lgs. 39/1993). Its fingerprint enters the register and the case's chain, and
one delivery per addressee is queued (services/delivery.py).

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

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from documents.render import data_it, render_notice
from machines.calendar import rome_date
from services import protocol
from services.applied import NOTICE_TOPIC
from services.context import Context
from services.errors import UnknownCase
from services.letterheads import fallback_letterhead
from services.procedure import IDENTITY_PARTIES, PARTIES, NoticeType
from services.protocol import Numbering, Registration
from services.records import DocumentRecord
from services.settings import Settings
from storage.database import is_postgresql
from storage.models import (
    CaseEvent,
    Delivery,
    DeliveryStatus,
    Document,
    Letterhead,
    OutboxMessage,
)
from storage.repository import Repository
from storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:  # pyHanko takes 0.4 s to import: only where a notice is signed
    from documents.signing import Signer

MAX_ATTEMPTS = 3
DEFAULT_OFFICE_CODE = "UFFICIO"

# The notices every kind may issue (the shared templates), for kinds whose procedure does not
# declare them: addressed to the office that follows the case.
SHARED_NOTICES = {
    "notifica_cambio_stato": NoticeType(
        "Comunicazione di variazione dello stato della pratica", ("office",)
    ),
    "avviso_scadenza": NoticeType("Avviso di prossima scadenza di un termine", ("office",)),
}


@dataclass(frozen=True)
class Office:
    """Who issues the notices of kinds that do not name their office, and where; `signer`
    signs every notice (the office's certificate), if configured."""

    name: str
    place: str
    signer: Signer | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Office:
        signer = None
        if settings.signing_key is not None and settings.signing_certificate is not None:
            from documents.signing import OfficeCertificate, load_signer

            passphrase = settings.signing_passphrase
            signer = load_signer(
                OfficeCertificate(
                    key=settings.signing_key,
                    certificate=settings.signing_certificate,
                    chain=tuple(settings.signing_chain),
                    passphrase=None if passphrase is None else passphrase.encode(),
                )
            )
        return cls(settings.office_name, settings.office_place, signer)


@dataclass(frozen=True)
class Rendered:
    reference: str
    template: str
    sha256: str
    protocol: str = ""


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
    """A pending message taken at `now`, with what its notice says (`context`) and how it is
    registered (`numbering`), or why that could not be read."""

    outbox_id: int
    attempts: int
    case_id: int
    event_id: int
    template: str
    reference: str
    now: datetime
    context: dict[str, Any] | str
    numbering: Numbering | None = None
    letterhead: Letterhead | None = None


def _next(ctx: Context, office: Office, after_id: int, report: NoticeReport) -> _Claim | None:
    """Claim, number, render and store the first pending notice after `after_id`; None if
    none is left."""
    if is_postgresql(ctx.db):
        with ctx.uow() as uow:
            claim = _claim(ctx, uow, office, after_id)
            if claim is not None:
                _write(uow, claim, _issue(ctx, office, claim), report)
        return claim
    with ctx.read() as snapshot:
        claim = _claim(ctx, snapshot, office, after_id)
    if claim is not None:
        outcome = _issue(ctx, office, claim)
        with ctx.uow() as uow:
            _write(uow, claim, outcome, report)
    return claim


def _claim(ctx: Context, uow: UnitOfWork, office: Office, after_id: int) -> _Claim | None:
    message = uow.repo.claim_outbox_after(NOTICE_TOPIC, after_id)
    if message is None:
        return None
    now = ctx.clock.now()
    claim = _Claim(
        outbox_id=message.id,
        attempts=message.attempts,
        case_id=message.case_id,
        event_id=message.event_id,
        template=str(message.payload.get("template")),
        reference=str(message.payload.get("reference", message.case_id)),
        now=now,
        context="",
    )
    try:
        context, numbering, letterhead = _context(ctx, uow, message, office, claim)
    except Exception as error:
        return replace(claim, context=_reason(error))
    return replace(claim, context=context, numbering=numbering, letterhead=letterhead)


def _context(
    ctx: Context, uow: UnitOfWork, message: OutboxMessage, office: Office, claim: _Claim
) -> tuple[dict[str, Any], Numbering, Letterhead]:
    """What the notice says, how it is registered, and whose letterhead it bears: the office
    its kind names (`emittente`; `office` for kinds that name none)."""
    repo = uow.repo
    case = repo.case_by_id(message.case_id)
    event = repo.event(message.event_id)
    machine = ctx.machine(case.kind)
    context: dict[str, Any] = {
        "emesso_il": claim.now,
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
        context.update(kind_context(uow, case, event, claim.now))
    issuer = context.get("emittente") or {
        "codice": DEFAULT_OFFICE_CODE,
        "nome": office.name,
        "sede": office.place,
    }
    code = str(issuer["codice"])
    letterhead = uow.outgoing.letterhead(code) or fallback_letterhead(
        code, str(issuer["nome"]), str(issuer["sede"])
    )
    notice = ctx.notice_type(case.kind, claim.template) or SHARED_NOTICES.get(claim.template)
    if notice is None:
        raise ValueError(f"notice {claim.template} declares no subject nor addressees")
    addressees = _addressees(uow, notice, context.get("parti") or {"office": letterhead.name})
    subject = f"{notice.subject} – pratica {case.reference}"
    context.update(
        intestazione={
            "ministero": letterhead.ministry,
            "dipartimento": letterhead.department,
            "ufficio": letterhead.name,
            "indirizzo": letterhead.address,
            "telefono": letterhead.phone,
            "pec": letterhead.pec,
        },
        destinatari=[
            {"role": a["role"], "ruolo": PARTIES[a["role"]], "nome": a["nome"], "pec": a["pec"]}
            for a in addressees
        ],
        oggetto=subject,
        luogo_data=f"{letterhead.place}, {data_it(_act_day(message, event))}",
        firma={
            "qualifica": letterhead.signer_role,
            "nome": letterhead.signer_name,
            "digitale": office.signer is not None,
        },
    )
    numbering = Numbering(
        outbox_id=message.id,
        case_id=case.id,
        reference=case.reference,
        template=claim.template,
        office=code,
        subject=subject,
        addressees=tuple(addressees),
    )
    return context, numbering, letterhead


def _act_day(message: OutboxMessage, event: CaseEvent) -> date:
    """The act's date: the day the event it records took effect in law, or the day its
    message names (`dated`: a reminder is dated when it is due, not when its term started);
    never the rendering time."""
    dated = message.payload.get("dated")
    if dated is None:
        return rome_date(event.effective_at)
    text = str(dated)
    return date.fromisoformat(text) if len(text) == 10 else rome_date(datetime.fromisoformat(text))


def _addressees(
    uow: UnitOfWork, notice: NoticeType, parties: dict[str, Any]
) -> list[dict[str, Any]]:
    """The notice's addressees this case has, in the order its type gives, each with its
    certified e-mail from the reference data (None where none is registered)."""
    named = [(role, str(parties[role])) for role in notice.addressees if parties.get(role)]
    if not named:
        raise ValueError(f"notice {notice.subject!r}: none of {notice.addressees} in this case")
    pecs = uow.outgoing.addressees([name for _, name in named])
    return [{"role": role, "nome": name, "pec": pecs.get(name)} for role, name in named]


def _issue(ctx: Context, office: Office, claim: _Claim) -> tuple[Document, Registration] | str:
    """Number, render and sign the notice; its document and registration, or why it could
    not be made."""
    if isinstance(claim.context, str) or claim.numbering is None or claim.letterhead is None:
        return str(claim.context)
    try:
        registration = protocol.register(ctx, claim.numbering, claim.now)
    except Exception as error:
        return _reason(error)
    context = {
        **claim.context,
        "emesso_il": registration.registered_at,
        "protocollo": {
            "numero": registration.label,
            "registrato_il": registration.registered_at,
        },
    }
    try:
        rendered = render_notice(claim.template, context, ctx.template_folders)
        pdf, signature = rendered.pdf, "printed"
        if office.signer is not None:
            from documents.signing import sign_pdf

            pdf = sign_pdf(
                pdf,
                office.signer,
                name=claim.letterhead.signer_name or claim.letterhead.name,
                location=claim.letterhead.place,
                reason=f"Prot. n. {registration.label}",
                signed_at=registration.registered_at,
            )
            signature = "pades"
    except Exception as error:
        return _reason(error)
    document = Document(
        outbox_id=claim.outbox_id,
        event_id=claim.event_id,
        case_id=claim.case_id,
        template=claim.template,
        html=rendered.html,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        rendered_at=claim.now,
        signature=signature,
    )
    return document, registration


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _write(
    uow: UnitOfWork,
    claim: _Claim,
    outcome: tuple[Document, Registration] | str,
    report: NoticeReport,
) -> None:
    """Store the document, seal its registration and queue its deliveries, closing its
    message; or record the failed attempt (the last one annuls its registration)."""
    if isinstance(outcome, str):
        uow.rollback()  # on PostgreSQL, a statement that failed in the claim aborted it
        give_up = claim.attempts + 1 >= MAX_ATTEMPTS
        uow.repo.record_outbox_failure(claim.outbox_id, outcome, give_up, claim.now)
        if give_up:
            uow.outgoing.annul_entry(claim.outbox_id, outcome)
        uow.commit()
        report.failed += 1
        report.errors.append(f"outbox {claim.outbox_id} {claim.template}: {outcome}")
        return
    document, registration = outcome
    stored = _store(uow, claim, document, registration)
    uow.commit()
    if stored:
        report.rendered += 1
        report.documents.append(
            Rendered(claim.reference, document.template, document.sha256, registration.label)
        )
    else:
        report.already_rendered += 1


def _store(uow: UnitOfWork, claim: _Claim, document: Document, registration: Registration) -> bool:
    """Insert the document with its deliveries and close its message; False if another
    renderer had stored one first (it is kept, and the message only closed)."""
    repo: Repository = uow.repo
    savepoint = repo.session.begin_nested()
    try:
        repo.add_document(
            document, {"protocol": registration.label, "signature": document.signature}
        )
        savepoint.commit()
        stored = True
    except IntegrityError:
        savepoint.rollback()
        if repo.document_of_outbox(document.outbox_id) is None:
            raise
        stored = False
    if stored:
        uow.outgoing.seal_entry(document.outbox_id, document.sha256)
        assert claim.numbering is not None
        for index, addressee in enumerate(claim.numbering.addressees, start=1):
            repo.session.add(
                Delivery(
                    document_id=document.id,
                    case_id=document.case_id,
                    role=addressee["role"],
                    addressee=addressee["nome"],
                    address=addressee["pec"],
                    identity_annex=addressee["role"] in IDENTITY_PARTIES,
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    next_attempt_at=claim.now,
                    message_id=_message_id(registration, index),
                    created_at=claim.now,
                )
            )
    repo.mark_outbox_done(document.outbox_id, claim.now)
    return stored


def _message_id(registration: Registration, index: int) -> str:
    """The Message-ID of the notice's message to its `index`-th addressee: the same on every
    attempt, so that a receipt names the message it answers."""
    office = re.sub(r"[^A-Za-z0-9.-]", "-", registration.office)
    return f"<prot.{office}.{registration.year}.{registration.number:07d}.{index}@misure>"

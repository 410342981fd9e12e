"""Delivery of the notices: each stored document sent by certified e-mail (PEC) to each of its
addressees, at most once, with retries, and every outcome on the case's history.

A delivery row (made with the document) is sent in three steps:

1. claim, in one committed transaction: the row, due and pending, becomes SENDING with a lease
   (`next_attempt_at` = now + `LEASE`) and one more attempt; on PostgreSQL it is taken with
   FOR UPDATE SKIP LOCKED, so that concurrent deliverers pass each other by (on SQLite the
   one writer serialises the claims). What the message needs (the PDF, the protocol entry,
   the sender's letterhead, the identity for the annex) is read in that transaction;
2. the message is built (the identification annex rendered now, never stored) and handed to
   the transport, outside any transaction;
3. in a second transaction the row becomes SENT and "notice_sent" is put on the case's
   history; or, if the server refused or could not be reached, PENDING again after a backoff
   (`DeliveryPolicy.delay`) with "notice_delivery_failed", and after the last attempt FAILED
   with "notice_undelivered": an incident.

Nothing is sent twice after a crash: a crash before the claim is committed leaves the row
pending, sent once by a later pass; a crash after it leaves it SENDING, and the next pass
after the lease finds it and marks it UNCERTAIN ("notice_delivery_uncertain"): never sent again
blindly, the PEC receipts tell whether it arrived (`record_receipt`). The lease must outlast a
send: the SMTP transport's timeout is far below it.

One case remains that no sender can settle: a connection lost after the server received the
whole message but before its answer reached us is reported as an error and the message tried
again; a delivery receipt for the first copy then settles it (`record_receipt`).

The person's identity (`Identity`) is read only to render the annex for the court and the
prison; it is never stored with the message, and never in an event, a log line, an artifact
or an error.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from documents.render import ROME, html_to_pdf, render_html
from services.context import Context
from services.errors import InvalidInput, UnknownCase, UnknownMessage
from services.files import write_whole
from services.procedure import PARTIES
from services.protocol import protocol_label
from services.settings import Settings
from storage.models import (
    Case,
    Delivery,
    DeliveryStatus,
    Document,
    Identity,
    Letterhead,
    ProtocolEntry,
    ProtocolStatus,
)
from storage.unit_of_work import UnitOfWork

LEASE = timedelta(minutes=10)  # how long a claimed message may take before it is uncertain
SMTP_TIMEOUT = 60.0  # seconds, per SMTP operation: far below the lease
ACTOR = "sistema"
ANNEX_TEMPLATE = "allegato_identificativo"
ANNEX_FILENAME = "allegato_identificativo.pdf"
NO_SMTP = "nessun server SMTP configurato (MISURE_SMTP_HOST)"
NO_ADDRESS = "indirizzo PEC del destinatario non registrato"
NO_ANNEX = "allegato identificativo non disponibile"
LEASE_LOST = (
    "invio interrotto dopo la consegna al server: esito non registrato, "
    "verificare le ricevute PEC prima di ogni nuovo invio"
)

# The case's history: what each outcome is recorded as, and on which basis.
SENT = "notice_sent"
RETRY = "notice_delivery_failed"
UNDELIVERED = "notice_undelivered"
UNCERTAIN = "notice_delivery_uncertain"
RECEIPT = "notice_receipt"
SENT_BASIS = (
    "artt. 45 co. 2 e 47 co. 2 lett. d) d.lgs. 82/2005: trasmissione tra pubbliche "
    "amministrazioni mediante posta elettronica certificata (D.P.R. 68/2005)"
)
RECEIPT_BASIS = {
    "consegna": "art. 6 D.P.R. 68/2005, art. 45 co. 2 d.lgs. 82/2005: ricevuta di avvenuta "
    "consegna",
    "mancata_consegna": "art. 6 D.P.R. 68/2005: avviso di mancata consegna",
}
ReceiptKind = Literal["consegna", "mancata_consegna"]

STATUS_LABELS: dict[str, str] = {
    DeliveryStatus.PENDING: "da inviare",
    DeliveryStatus.SENDING: "in invio",
    DeliveryStatus.SENT: "inviata",
    DeliveryStatus.FAILED: "non recapitata",
    DeliveryStatus.UNCERTAIN: "esito incerto",
}
INCIDENT_STATUSES = (DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN)


# transports -----------------------------------------------------------------------------------
class Transport(Protocol):
    """Where messages are handed over. `send` returns once the message is accepted; it raises
    `smtplib.SMTPException` or `OSError` if it was not (the message is tried again)."""

    @property
    def describe(self) -> str:
        """Where the messages go, in Italian."""
        ...

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpTransport:
    """The certified-mail provider's SMTP server. `security`: "ssl" (implicit TLS), "starttls",
    or "none" (plain text: only for a test server on the loopback)."""

    host: str
    port: int
    security: Literal["ssl", "starttls", "none"] = "ssl"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = SMTP_TIMEOUT

    @property
    def describe(self) -> str:
        security = {"ssl": "TLS", "starttls": "STARTTLS", "none": "senza cifratura"}
        return f"server SMTP {self.host}:{self.port} ({security[self.security]})"

    def send(self, message: EmailMessage) -> None:
        context = None if self.security == "none" else ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password or "")
            refused = client.send_message(message)
            if refused:  # one recipient: never here, unless a server answers oddly
                raise smtplib.SMTPRecipientsRefused(refused)
        except BaseException:
            client.close()
            raise
        # Accepted: a failure to say goodbye is no failure to send.
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


@dataclass(frozen=True)
class EmlDirectory:
    """Each message written as `<its Message-ID>.eml` into `path` (written whole, then moved
    into place: never half a file; the same message again replaces its file, never doubles
    it). `note` says why messages are written here rather than sent."""

    path: Path
    note: str | None = None

    @property
    def describe(self) -> str:
        written = f"messaggi scritti in {self.path}"
        return written if self.note is None else f"{self.note}: {written}"

    def file_for(self, message: EmailMessage) -> Path:
        return self.path / f"{_safe_name(str(message['Message-ID'] or 'senza-id'))}.eml"

    def send(self, message: EmailMessage) -> None:
        # CRLF, as on the wire
        write_whole(self.file_for(message), message.as_bytes(policy=email_policy.SMTP))


def transport_from(settings: Settings) -> SmtpTransport | EmlDirectory:
    """The SMTP server if `MISURE_SMTP_HOST` is set; else `.eml` files in
    `MISURE_OUTBOX_DIR`, saying so."""
    if settings.smtp_host:
        return SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
        )
    return EmlDirectory(settings.outbox_dir, note=NO_SMTP)


def _safe_name(message_id: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._@-]+", "_", message_id.strip().strip("<>")).strip(".")
    return name or "senza-id"


# policy ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryPolicy:
    """How often a refused message is tried (`attempts` in all) and how long to wait after
    the n-th failed attempt: `backoff_seconds` * 2**(n-1)."""

    attempts: int = 5
    backoff_seconds: int = 60

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff_seconds < 1:
            raise ValueError("at least one attempt, and a backoff of at least one second")

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(settings.delivery_attempts, settings.delivery_backoff_seconds)

    def delay(self, attempt: int) -> timedelta:
        """The wait after failed attempt number `attempt` (1, 2, ...)."""
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        return timedelta(seconds=self.backoff_seconds * 2 ** (attempt - 1))

    def schedule(self) -> tuple[timedelta, ...]:
        """The waits between the attempts, in order (none after the last)."""
        return tuple(self.delay(attempt) for attempt in range(1, self.attempts))


# what the services hand out -------------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryRecord:
    """One message of a notice to one addressee, as the entry points show it."""

    id: int
    reference: str
    protocol: str | None  # "OFFICE/YEAR/NUMBER"
    document_id: int
    role: str
    addressee: str
    address: str | None
    identity_annex: bool
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    message_id: str
    sent_at: datetime | None
    created_at: datetime

    @property
    def role_label(self) -> str:
        return PARTIES.get(self.role, self.role)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def reason(self) -> str:
        """Why it is an incident (or why the last attempt failed)."""
        return self.last_error or ""


@dataclass
class DeliveryReport:
    """What one pass did: counts (compared) and the deliveries sent and the incidents found
    (not compared)."""

    transport: str = field(default="", compare=False)
    sent: int = 0
    retried: int = 0  # refused or unreachable: tried again later
    failed: int = 0  # refused at the last attempt, or no address: incidents
    uncertain: int = 0  # left mid-send by a crash: incidents
    delivered: list[DeliveryRecord] = field(default_factory=list, compare=False)
    incidents: list[DeliveryRecord] = field(default_factory=list, compare=False)
    retries: list[DeliveryRecord] = field(default_factory=list, compare=False)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.uncertain


@dataclass(frozen=True)
class Receipt:
    delivery: DeliveryRecord
    kind: ReceiptKind
    replayed: bool  # the same receipt was recorded before: nothing written


# the pass -------------------------------------------------------------------------------------
def deliver_pending(
    ctx: Context,
    transport: Transport,
    policy: DeliveryPolicy,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> DeliveryReport:
    """Mark the messages a crash left mid-send uncertain, then send every message due now
    (at most `limit`), each once in this pass; `progress` is told of each one."""
    report = DeliveryReport(transport=transport.describe)
    _expire_leases(ctx, report)
    due_by = ctx.clock.now()  # a message tried again in this pass is due after it
    handled = 0
    while limit is None or handled < limit:
        claimed = _claim(ctx, policy, due_by, report)
        if claimed is None:
            break
        if isinstance(claimed, _Outgoing):
            _send(ctx, transport, policy, claimed, report)
        handled += 1
        if progress is not None:
            progress(1)
    return report


def deliveries_of(ctx: Context, reference: str) -> list[DeliveryRecord]:
    """The messages of case `reference`'s notices, oldest first."""
    with ctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        query = _listed().where(Delivery.case_id == case.id).order_by(Delivery.id)
        return [_record_of(row) for row in uow.session.execute(query).all()]


def delivery_incidents(ctx: Context) -> list[DeliveryRecord]:
    """The messages that need a person: refused after every attempt or never addressed
    (failed), or left mid-send by a crash (uncertain)."""
    with ctx.read() as uow:
        query = (
            _listed()
            .where(Delivery.status.in_([str(status) for status in INCIDENT_STATUSES]))
            .order_by(Delivery.id)
        )
        return [_record_of(row) for row in uow.session.execute(query).all()]


def record_receipt(ctx: Context, message_id: str, kind: ReceiptKind, at: datetime) -> Receipt:
    """Record a PEC receipt for the message `message_id` ("consegna": delivered into the
    addressee's mailbox at `at`; "mancata_consegna": it could not be) on its case's history.
    A delivery receipt settles a message whose outcome was uncertain; a non-delivery notice
    makes the message an incident. The same receipt twice is recorded once."""
    if kind not in RECEIPT_BASIS:
        raise InvalidInput(
            f"ricevuta {kind!r} sconosciuta (consegna, mancata_consegna)", field="kind"
        )
    if at.tzinfo is None:
        raise InvalidInput("l'istante della ricevuta va dato con il fuso orario", field="at")
    wanted = message_id.strip()
    if not wanted.startswith("<"):
        wanted = f"<{wanted}>"
    with ctx.uow() as uow:
        query = select(Delivery).where(Delivery.message_id == wanted)
        if uow.postgresql:
            query = query.with_for_update()
        row = uow.session.scalars(query).one_or_none()
        if row is None:
            raise UnknownMessage(message_id)
        if row.attempts == 0:
            raise InvalidInput(f"il messaggio {wanted} non è mai stato inviato: nessuna ricevuta")
        replayed = any(
            event.trigger == RECEIPT
            and event.payload.get("message_id") == wanted
            and event.payload.get("kind") == kind
            for event in uow.repo.history(row.case_id)
        )
        if not replayed:
            now = ctx.clock.now()
            if kind == "consegna":
                row.status = DeliveryStatus.SENT
                row.sent_at = row.sent_at or at
            else:
                row.status = DeliveryStatus.FAILED
                row.last_error = f"avviso di mancata consegna del {_rome(at)}"
            uow.session.flush()
            facts = _facts_of(uow.session, row)
            uow.repo.record_on_case(
                row.case_id,
                RECEIPT,
                ACTOR,
                {**facts, "kind": kind, "receipt_at": at.isoformat()},
                RECEIPT_BASIS[kind],
                now,
            )
        record = _record_by_id(uow.session, row.id)
        if not replayed:
            uow.commit()
    return Receipt(record, kind, replayed)


def report_markdown(report: DeliveryReport, open_incidents: int | None = None) -> str:
    """The pass as a markdown artifact: its counts and the incidents it found."""
    lines = [
        "# Invio delle comunicazioni",
        "",
        f"Canale: {_cell(report.transport)}",
        "",
        "| inviate | da ritentare | non recapitate | esito incerto |",
        "|---|---|---|---|",
        f"| {report.sent} | {report.retried} | {report.failed} | {report.uncertain} |",
        "",
    ]
    if report.incidents:
        lines += [
            f"## Incidenti di questa esecuzione ({len(report.incidents)})",
            "",
            "| pratica | protocollo | destinatario | PEC | stato | motivo |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(i.reference)} | {_cell(i.protocol or '-')} | {_cell(i.addressee)} | "
            f"{_cell(i.address or '-')} | {_cell(i.status_label)} | {_cell(i.reason)} |"
            for i in report.incidents
        ]
        lines.append("")
    if open_incidents is not None:
        lines.append(f"Incidenti aperti in totale: {open_incidents} (`misure notices incidents`).")
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")


# claim, send, record --------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class _Person:
    """The protected identity, for the annex only; its repr says nothing of it."""

    surname: str
    given_names: str
    born_on: date
    born_in: str
    tax_code: str | None

    def __repr__(self) -> str:
        return "_Person(<riservato>)"


@dataclass(frozen=True)
class _Sender:
    """The issuing office, as its letterhead gives it."""

    name: str
    ministry: str
    department: str
    address: str
    pec: str
    phone: str
    signer_name: str
    signer_role: str

    @classmethod
    def of(cls, row: Letterhead) -> _Sender:
        return cls(
            row.name, row.ministry, row.department, row.address, row.pec, row.phone,
            row.signer_name, row.signer_role,
        )  # fmt: skip


@dataclass(frozen=True)
class _Outgoing:
    """A claimed message and everything it is made of."""

    delivery_id: int
    case_id: int
    reference: str
    role: str
    addressee: str
    address: str
    message_id: str
    attempt: int
    identity_annex: bool
    office: str
    year: int
    number: int
    registered_at: datetime
    subject: str
    template: str
    document_id: int
    pdf: bytes = field(repr=False)
    sha256: str
    signature: str
    sender: _Sender
    person: _Person | None = field(repr=False)

    @property
    def protocol(self) -> str:
        """The protocol number as the notice shows it."""
        return protocol_label(self.office, self.year, self.number)

    def facts(self) -> dict[str, Any]:
        return {
            "delivery": self.delivery_id,
            "document": self.document_id,
            "role": self.role,
            "addressee": self.addressee,
            "address": self.address,
            "protocol": self.protocol,
            "message_id": self.message_id,
        }


class _NotReady(Exception):
    """What the message needs is missing: `final` if no later attempt can help."""

    def __init__(self, reason: str, final: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.final = reason, final


_DUE = text("deliveries.status = 'pending'")  # a literal, for the partial index's plan


def _claim(
    ctx: Context, policy: DeliveryPolicy, due_by: datetime, report: DeliveryReport
) -> _Outgoing | bool | None:
    """Claim the first message due by `due_by`: the message to send (its row committed
    SENDING), True if it was settled here (no address, nothing to send), None if none is
    due."""
    with ctx.uow() as uow:
        query = (
            select(Delivery)
            .where(_DUE, Delivery.next_attempt_at <= due_by)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(1)
        )
        if uow.postgresql:
            query = query.with_for_update(skip_locked=True)
        row = uow.session.scalars(query).one_or_none()
        if row is None:
            return None
        now = ctx.clock.now()
        attempt = row.attempts + 1
        try:
            outgoing = _outgoing(uow.session, row, attempt)
        except _NotReady as missing:
            row.attempts = attempt
            _refused(uow, row, attempt, missing.reason, missing.final, policy, now, report)
            uow.commit()
            return True
        row.status = DeliveryStatus.SENDING
        row.attempts = attempt
        row.next_attempt_at = now + LEASE
        uow.commit()
        return outgoing


def _outgoing(session: Session, row: Delivery, attempt: int) -> _Outgoing:
    if row.address is None:
        raise _NotReady(NO_ADDRESS, final=True)
    document = session.get_one(Document, row.document_id)
    entry = session.scalars(
        select(ProtocolEntry).where(ProtocolEntry.outbox_id == document.outbox_id)
    ).one_or_none()
    if entry is None:
        raise _NotReady("comunicazione senza registrazione nel protocollo in uscita")
    if entry.status == ProtocolStatus.ANNULLED:
        raise _NotReady(f"registrazione di protocollo annullata: {entry.annulled_reason}", True)
    sender = session.get(Letterhead, entry.office)
    if sender is None:
        raise _NotReady(f"carta intestata dell'ufficio {entry.office} non registrata (PEC)")
    person = None
    if row.identity_annex:
        identity = session.get(Identity, row.case_id)
        if identity is not None:
            person = _Person(
                identity.surname,
                identity.given_names,
                identity.born_on,
                identity.born_in,
                identity.tax_code,
            )
    return _Outgoing(
        delivery_id=row.id,
        case_id=row.case_id,
        reference=entry.reference,
        role=row.role,
        addressee=row.addressee,
        address=row.address,
        message_id=row.message_id,
        attempt=attempt,
        identity_annex=row.identity_annex,
        office=entry.office,
        year=entry.year,
        number=entry.number,
        registered_at=entry.registered_at,
        subject=entry.subject,
        template=entry.template,
        document_id=document.id,
        pdf=document.pdf,
        sha256=document.sha256,
        signature=document.signature,
        sender=_Sender.of(sender),
        person=person,
    )


def _send(
    ctx: Context,
    transport: Transport,
    policy: DeliveryPolicy,
    outgoing: _Outgoing,
    report: DeliveryReport,
) -> None:
    """Build and hand over the claimed message, and record the outcome. An error no transport
    is expected to raise leaves the outcome unknown: the message is then uncertain."""
    now = ctx.clock.now()
    try:
        annex = _annex(outgoing, now)
        message = _message(outgoing, now, annex)
    except Exception as error:  # nothing was handed over; never the error's text (the annex)
        reason = f"messaggio non composto ({type(error).__name__})"
        _after_refusal(ctx, policy, outgoing, reason, report)
        return
    try:
        transport.send(message)
    except (smtplib.SMTPException, OSError) as error:
        _after_refusal(ctx, policy, outgoing, _smtp_reason(error), report)
        return
    except Exception as error:
        _uncertain_now(
            ctx, outgoing, f"esito dell'invio sconosciuto ({type(error).__name__})", report
        )
        return
    _after_send(ctx, outgoing, annex is not None, report)


def _annex(outgoing: _Outgoing, now: datetime) -> bytes | None:
    """The identification annex (only for a party entitled to it, and only if the identity
    is recorded), rendered now and never kept."""
    person = outgoing.person
    if not outgoing.identity_annex or person is None:
        return None
    html = render_html(
        ANNEX_TEMPLATE,
        {
            "ufficio": outgoing.sender.name,
            "protocollo": {"numero": outgoing.protocol, "registrato_il": outgoing.registered_at},
            "reference": outgoing.reference,
            "destinatario": outgoing.addressee,
            "generato_il": now,
            "persona": {
                "cognome": person.surname,
                "nome": person.given_names,
                "nato_il": person.born_on,
                "nato_a": person.born_in,
                "codice_fiscale": person.tax_code,
            },
        },
    )
    return html_to_pdf(html)


def _message(outgoing: _Outgoing, now: datetime, annex: bytes | None) -> EmailMessage:
    """The PEC message of a claimed delivery: from the issuing office's PEC to the addressee's,
    the notice's PDF attached (and the identification annex, if given)."""
    sender = outgoing.sender
    registered = _rome_day(outgoing.registered_at)
    subject = " ".join(outgoing.subject.split())
    message = EmailMessage()
    message["From"] = Address(display_name=sender.name, addr_spec=sender.pec)
    message["To"] = Address(display_name=outgoing.addressee, addr_spec=outgoing.address)
    message["Subject"] = f"Prot. n. {outgoing.protocol} del {registered} – {subject}"
    message["Date"] = format_datetime(now.astimezone(ROME))
    message["Message-ID"] = outgoing.message_id
    signed = (
        "Il documento è firmato digitalmente ai sensi del d.lgs. 82/2005."
        if outgoing.signature == "pades"
        else "Il documento reca la firma autografa sostituita a mezzo stampa ai sensi "
        "dell'art. 3, comma 2, del d.lgs. 39/1993."
    )
    lines = [
        f"{sender.ministry}",
        f"{sender.department}",
        f"{sender.name}",
        "",
        f"Alla c.a. di: {outgoing.addressee} ({PARTIES.get(outgoing.role, outgoing.role)})",
        "",
        f"Oggetto: {subject}",
        f"Protocollo in uscita n. {outgoing.number} del {registered} ({outgoing.protocol})",
        f"Riferimento pratica: {outgoing.reference}",
        "",
        "Si trasmette in allegato la comunicazione in oggetto, registrata al protocollo "
        "in uscita di questo ufficio.",
        signed,
        f"Impronta SHA-256 del documento: {outgoing.sha256}",
    ]
    if annex is not None:
        lines += [
            "",
            "Si unisce l'allegato identificativo riservato della persona cui la pratica si "
            "riferisce, destinato esclusivamente a codesto destinatario (art. 15 D.M. "
            "128/2025): non va inoltrato né unito ad atti accessibili a terzi.",
        ]
    lines += [
        "",
        f"{sender.signer_role}",
        f"{sender.signer_name}",
        "",
        f"{sender.address} · PEC {sender.pec}"
        + (f" · tel. {sender.phone}" if sender.phone else ""),
        "Messaggio di posta elettronica certificata inviato dal sistema di gestione delle "
        "pratiche; le ricevute di accettazione e di consegna ne attestano l'invio e il recapito.",
    ]
    message.set_content("\n".join(lines) + "\n")
    message.add_attachment(
        outgoing.pdf,
        maintype="application",
        subtype="pdf",
        filename=_safe_name(f"{outgoing.reference}_{outgoing.template}_prot_{outgoing.number}.pdf"),
    )
    if annex is not None:
        message.add_attachment(
            annex, maintype="application", subtype="pdf", filename=ANNEX_FILENAME
        )
    return message


def _after_send(
    ctx: Context, outgoing: _Outgoing, with_annex: bool, report: DeliveryReport
) -> None:
    with ctx.uow() as uow:
        now = ctx.clock.now()
        row = _locked(uow, outgoing.delivery_id)
        row.status = DeliveryStatus.SENT
        row.sent_at = now
        payload = {**outgoing.facts(), "attempt": outgoing.attempt}
        if outgoing.identity_annex:
            payload["identity_annex"] = "allegato" if with_annex else NO_ANNEX
        uow.repo.record_on_case(outgoing.case_id, SENT, ACTOR, payload, SENT_BASIS, now)
        uow.session.flush()
        record = _record_by_id(uow.session, row.id)
        uow.commit()
    report.sent += 1
    report.delivered.append(record)


def _after_refusal(
    ctx: Context,
    policy: DeliveryPolicy,
    outgoing: _Outgoing,
    reason: str,
    report: DeliveryReport,
) -> None:
    with ctx.uow() as uow:
        row = _locked(uow, outgoing.delivery_id)
        _refused(uow, row, outgoing.attempt, reason, False, policy, ctx.clock.now(), report)
        uow.commit()


def _refused(
    uow: UnitOfWork,
    row: Delivery,
    attempt: int,
    reason: str,
    final: bool,
    policy: DeliveryPolicy,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """Attempt `attempt` failed for `reason`: try again after the backoff, or, at the last
    attempt (or if `final`), give up: an incident. Recorded on the case."""
    reason = reason[:2000]
    row.last_error = reason
    facts = _facts_of(uow.session, row)
    if final or attempt >= policy.attempts:
        row.status = DeliveryStatus.FAILED
        payload = {**facts, "attempts": attempt, "reason": reason}
        uow.repo.record_on_case(row.case_id, UNDELIVERED, ACTOR, payload, SENT_BASIS, now)
        uow.session.flush()
        report.failed += 1
        report.incidents.append(_record_by_id(uow.session, row.id))
        return
    row.status = DeliveryStatus.PENDING
    row.next_attempt_at = now + policy.delay(attempt)
    payload = {
        **facts,
        "attempt": attempt,
        "reason": reason,
        "next_attempt_at": row.next_attempt_at.isoformat(),
    }
    uow.repo.record_on_case(row.case_id, RETRY, ACTOR, payload, SENT_BASIS, now)
    uow.session.flush()
    report.retried += 1
    report.retries.append(_record_by_id(uow.session, row.id))


def _uncertain_now(ctx: Context, outgoing: _Outgoing, reason: str, report: DeliveryReport) -> None:
    with ctx.uow() as uow:
        row = _locked(uow, outgoing.delivery_id)
        _mark_uncertain(uow, row, reason, ctx.clock.now(), report)
        uow.commit()


def _expire_leases(ctx: Context, report: DeliveryReport) -> None:
    """The messages left SENDING past their lease (a crash between the hand-over and its
    record) become uncertain: incidents, never sent again blindly."""
    with ctx.uow() as uow:
        now = ctx.clock.now()
        query = (
            select(Delivery)
            .where(Delivery.status == DeliveryStatus.SENDING, Delivery.next_attempt_at <= now)
            .order_by(Delivery.id)
        )
        if uow.postgresql:
            query = query.with_for_update(skip_locked=True)
        rows = uow.session.scalars(query).all()
        for row in rows:
            _mark_uncertain(uow, row, LEASE_LOST, now, report)
        if rows:
            uow.commit()


def _mark_uncertain(
    uow: UnitOfWork, row: Delivery, reason: str, now: datetime, report: DeliveryReport
) -> None:
    row.status = DeliveryStatus.UNCERTAIN
    row.last_error = reason
    payload = {**_facts_of(uow.session, row), "attempt": row.attempts, "reason": reason}
    uow.repo.record_on_case(row.case_id, UNCERTAIN, ACTOR, payload, SENT_BASIS, now)
    uow.session.flush()
    report.uncertain += 1
    report.incidents.append(_record_by_id(uow.session, row.id))


def _locked(uow: UnitOfWork, delivery_id: int) -> Delivery:
    query = (
        select(Delivery).where(Delivery.id == delivery_id).execution_options(populate_existing=True)
    )
    if uow.postgresql:
        query = query.with_for_update()
    return uow.session.scalars(query).one()


def _smtp_reason(error: BaseException) -> str:
    """What the server said (its reply code and text), or why it could not be reached."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        said = "; ".join(f"{code} {_text(reply)}" for code, reply in error.recipients.values())
        return f"destinatario rifiutato: {said}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}".strip()


def _text(reply: bytes | str) -> str:
    said = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(said.split())


# reads ----------------------------------------------------------------------------------------
def _listed() -> Select[Any]:  # outer join: the protocol may be missing
    return (
        select(
            Delivery, Case.reference, ProtocolEntry.office, ProtocolEntry.year, ProtocolEntry.number
        )
        .join(Case, Case.id == Delivery.case_id)
        .join(Document, Document.id == Delivery.document_id)
        .outerjoin(ProtocolEntry, ProtocolEntry.outbox_id == Document.outbox_id)
    )


def _record_of(row: Sequence[Any]) -> DeliveryRecord:
    delivery, reference, office, year, number = row
    protocol = None if office is None else protocol_label(office, year, number)
    return DeliveryRecord(
        id=delivery.id,
        reference=reference,
        protocol=protocol,
        document_id=delivery.document_id,
        role=delivery.role,
        addressee=delivery.addressee,
        address=delivery.address,
        identity_annex=delivery.identity_annex,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        message_id=delivery.message_id,
        sent_at=delivery.sent_at,
        created_at=delivery.created_at,
    )


def _record_by_id(session: Session, delivery_id: int) -> DeliveryRecord:
    return _record_of(session.execute(_listed().where(Delivery.id == delivery_id)).one())


def _facts_of(session: Session, row: Delivery) -> dict[str, Any]:
    """What an event says of the message: never who the person is."""
    record = _record_by_id(session, row.id)
    return {
        "delivery": row.id,
        "document": row.document_id,
        "role": row.role,
        "addressee": row.addressee,
        "address": row.address,
        "protocol": record.protocol,
        "message_id": row.message_id,
    }


def _rome(instant: datetime) -> str:
    return instant.astimezone(ROME).strftime("%d/%m/%Y %H:%M")


def _rome_day(instant: datetime) -> str:
    return instant.astimezone(ROME).strftime("%d/%m/%Y")

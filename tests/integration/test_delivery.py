"""Delivery of notices by certified e-mail: a real SMTP server on the loopback (aiosmtpd), a real
database (SQLite and PostgreSQL), the clock moved by hand.

The notices are made here directly (document, protocol entry, letterhead, deliveries) on a demo
case opened through the services, so that these tests depend on the renderer for nothing."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import typer
from aiosmtpd.controller import Controller
from pypdf import PdfReader
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from cli.common import run
from cli.delivery import register
from services.clock import FixedClock
from services.context import Context
from services.delivery import (
    LEASE,
    NO_ADDRESS,
    NO_ANNEX,
    NO_SMTP,
    RECEIPT,
    RETRY,
    SENT,
    UNCERTAIN,
    UNDELIVERED,
    DeliveryPolicy,
    DeliveryReport,
    EmlDirectory,
    SmtpTransport,
    deliver_pending,
    deliveries_of,
    delivery_incidents,
    record_receipt,
    transport_from,
)
from services.engine import fire, open_case
from services.errors import InvalidInput, UnknownCase, UnknownMessage
from services.settings import Settings
from storage.database import make_engine
from storage.models import (
    CaseEvent,
    Delivery,
    DeliveryStatus,
    Document,
    Identity,
    Letterhead,
    OutboxMessage,
    ProtocolEntry,
)

OFFICE = "UIEPE-LAZIO"
SENDER_PEC = "uiepe.lazio@pec.giustizia.it"
POLICY = DeliveryPolicy(attempts=3, backoff_seconds=60)
ADDRESSEES = {  # role: (name, PEC, identification annex)
    "court": ("Tribunale di sorveglianza di Roma", "tribsorv.roma@pec.giustizia.example", True),
    "prison": ("Casa circondariale di Roma Rebibbia", "cc.rebibbia@pec.giustizia.example", True),
    "facility": ("Comunità Il Ponte", "comunita.ilponte@pec.example", False),
}
# Who the case is: never in an event, a record, a message's text.
SURNAME, GIVEN, BORN_IN, TAX_CODE = "Esposito", "Gennaro Salvatore", "Pozzuoli", "SPSGNR80E17G964K"
SECRETS = (SURNAME, GIVEN, BORN_IN, TAX_CODE)


# a real SMTP server -----------------------------------------------------------------------------
class Mailbox:
    """What the server accepted; `reply` makes it refuse every message with that reply."""

    def __init__(self) -> None:
        self.accepted: list[tuple[str, list[str], bytes]] = []
        self.calls = 0
        self.reply: str | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.calls += 1
            if self.reply is not None:
                return self.reply
            self.accepted.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Ok: queued"

    def messages(self) -> list[EmailMessage]:
        return [_parse(content) for _, _, content in self.accepted]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, SmtpTransport]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield box, SmtpTransport("127.0.0.1", controller.port, security="none", timeout=10)
    finally:
        controller.stop()


def _parse(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


# notices made by hand -------------------------------------------------------------------------
@dataclass(frozen=True)
class Notice:
    reference: str
    case_id: int
    document_id: int
    pdf: bytes
    number: int
    message_ids: dict[str, str]  # role: Message-ID

    @property
    def label(self) -> str:
        return f"{OFFICE}/2026/{self.number:07d}"


_numbers = iter(range(1, 10_000))


def issue(
    ctx: Context,
    roles: tuple[str, ...] = ("court", "prison", "facility"),
    identity: bool = True,
    addresses: dict[str, str | None] | None = None,
    office: str = OFFICE,
) -> Notice:
    """A demo case granted through the services (its grant asks for a notice), and its
    notice as the renderer stores it: document, protocol entry, one delivery per addressee."""
    opened = open_case(ctx, "demo", "clerk", {"eligible": True})
    fire(ctx, opened.reference, "file", "clerk", {"protocol": "P-1"})
    fire(ctx, opened.reference, "review", "clerk")
    granted = fire(ctx, opened.reference, "grant", "clerk")
    now = ctx.clock.now()
    number = next(_numbers)
    pdf = b"%PDF-1.7\n% notifica " + opened.reference.encode() + b"\n%%EOF\n"
    with ctx.uow() as uow:
        session = uow.session
        if session.get(Letterhead, OFFICE) is None:
            session.add(
                Letterhead(
                    office=OFFICE,
                    ministry="Ministero della Giustizia",
                    department="Dipartimento per la giustizia minorile e di comunità",
                    name="Ufficio interdistrettuale di esecuzione penale esterna per il Lazio",
                    address="Via Giulia 52, 00186 Roma",
                    pec=SENDER_PEC,
                    phone="06 0000000",
                    signer_name="dott.ssa Anna Bianchi",
                    signer_role="Il Direttore",
                    place="Roma",
                    updated_at=now,
                )
            )
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_id == granted.event_id)
        ).one()
        document = Document(
            outbox_id=message.id,
            event_id=granted.event_id,
            case_id=message.case_id,
            template="notifica_cambio_stato",
            html="<p>notifica</p>",
            pdf=pdf,
            sha256=hashlib.sha256(pdf).hexdigest(),
            rendered_at=now,
            signature="printed",
        )
        session.add(document)
        session.add(
            ProtocolEntry(
                office=office,
                year=2026,
                number=number,
                registered_at=now,
                outbox_id=message.id,
                case_id=message.case_id,
                reference=opened.reference,
                template="notifica_cambio_stato",
                subject=f"Esito dell'istanza – pratica {opened.reference}",
                addressees=[{"role": role, "name": ADDRESSEES[role][0]} for role in roles],
                sha256=document.sha256,
            )
        )
        session.flush()
        message_ids = {}
        for role in roles:
            name, pec, annex = ADDRESSEES[role]
            address = (addresses or {}).get(role, pec)
            message_ids[role] = f"<{opened.reference}.{document.id}.{role}@misure.invalid>"
            session.add(
                Delivery(
                    document_id=document.id,
                    case_id=message.case_id,
                    role=role,
                    addressee=name,
                    address=address,
                    identity_annex=annex,
                    next_attempt_at=now,
                    message_id=message_ids[role],
                    created_at=now,
                )
            )
        if identity:
            session.add(
                Identity(
                    case_id=message.case_id,
                    surname=SURNAME,
                    given_names=GIVEN,
                    born_on=date(1980, 5, 17),
                    born_in=BORN_IN,
                    tax_code=TAX_CODE,
                    recorded_at=now,
                )
            )
        uow.commit()
        return Notice(opened.reference, message.case_id, document.id, pdf, number, message_ids)


def rows(ctx: Context, notice: Notice) -> dict[str, Delivery]:
    with ctx.read() as uow:
        found = uow.session.scalars(
            select(Delivery).where(Delivery.document_id == notice.document_id)
        )
        return {row.role: row for row in found}


def history(ctx: Context, notice: Notice) -> list[CaseEvent]:
    with ctx.read() as uow:
        return list(uow.repo.history(notice.case_id))


def delivery_events(ctx: Context, notice: Notice) -> list[CaseEvent]:
    return [e for e in history(ctx, notice) if e.trigger.startswith("notice_")]


def attachments(message: EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in message.iter_attachments():
        assert part.get_content_type() == "application/pdf"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[str(part.get_filename())] = payload
    return found


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    text = part.get_content()
    assert isinstance(text, str)
    return text


def assert_no_identity_in_trail(ctx: Context, notice: Notice) -> None:
    for event_row in history(ctx, notice):
        written = json.dumps(event_row.payload, ensure_ascii=False) + event_row.legal_basis
        for secret in SECRETS:
            assert secret not in written


# the tests ------------------------------------------------------------------------------------
def test_every_addressee_gets_one_message_with_the_notice_and_the_annex_only_if_entitled(
    ctx: Context, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    box, smtp = mailbox
    notice = issue(ctx)

    report = deliver_pending(ctx, smtp, POLICY)

    assert report == DeliveryReport(sent=3)
    assert report.transport == f"server SMTP 127.0.0.1:{smtp.port} (senza cifratura)"
    assert {record.addressee for record in report.delivered} == {
        name for name, _, _ in ADDRESSEES.values()
    }
    messages = {str(m["To"].addresses[0].addr_spec): m for m in box.messages()}
    assert len(box.accepted) == 3 and len(messages) == 3
    for role, (name, pec, entitled) in ADDRESSEES.items():
        message = messages[pec]
        assert message["From"].addresses[0].addr_spec == SENDER_PEC
        assert message["Message-ID"] == notice.message_ids[role]
        assert message["Subject"] == (
            f"Prot. n. {notice.label} del 02/03/2026 – Esito dell'istanza – pratica "
            f"{notice.reference}"
        )
        assert message["To"].addresses[0].display_name == name
        text = body(message)
        assert "Si trasmette in allegato" in text and notice.reference in text
        assert notice.label in text
        assert not any(secret in text for secret in SECRETS)
        files = attachments(message)
        notice_pdf = f"{notice.reference}_notifica_cambio_stato_prot_{notice.number}.pdf"
        assert files[notice_pdf] == notice.pdf  # the stored document, byte for byte
        if entitled:
            assert set(files) == {notice_pdf, "allegato_identificativo.pdf"}
            annex = PdfReader(io.BytesIO(files["allegato_identificativo.pdf"]))
            printed = annex.pages[0].extract_text()
            assert "Allegato identificativo riservato" in printed
            assert SURNAME in printed and TAX_CODE in printed and notice.reference in printed
            assert "art. 15 del D.M. 128/2025" in " ".join(printed.split())
        else:
            assert set(files) == {notice_pdf}
    [(mail_from, recipients, _)] = [a for a in box.accepted if "ilponte" in a[1][0]]
    assert (mail_from, recipients) == (SENDER_PEC, ["comunita.ilponte@pec.example"])

    stored = rows(ctx, notice)
    assert {row.status for row in stored.values()} == {DeliveryStatus.SENT}
    assert {row.sent_at for row in stored.values()} == {ctx.clock.now()}
    assert {row.attempts for row in stored.values()} == {1}
    sent = delivery_events(ctx, notice)
    assert [e.trigger for e in sent] == [SENT] * 3
    by_role = {e.payload["role"]: e for e in sent}
    assert by_role["court"].payload == {
        "delivery": stored["court"].id,
        "document": notice.document_id,
        "role": "court",
        "addressee": ADDRESSEES["court"][0],
        "address": ADDRESSEES["court"][1],
        "protocol": notice.label,
        "message_id": notice.message_ids["court"],
        "attempt": 1,
        "identity_annex": "allegato",
    }
    assert "identity_annex" not in by_role["facility"].payload
    assert "d.lgs. 82/2005" in by_role["court"].legal_basis
    assert all(e.from_state == e.to_state == "granted" for e in sent)  # nothing moves
    assert_no_identity_in_trail(ctx, notice)
    assert not any(secret in repr(report) for secret in SECRETS)

    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()  # nothing twice
    assert len(box.accepted) == 3


def test_without_a_recorded_identity_the_message_goes_without_the_annex_and_says_so(
    ctx: Context, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    box, smtp = mailbox
    notice = issue(ctx, roles=("court", "facility"), identity=False)

    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport(sent=2)

    for message in box.messages():
        assert list(attachments(message)) == [
            f"{notice.reference}_notifica_cambio_stato_prot_{notice.number}.pdf"
        ]
    court = next(e for e in delivery_events(ctx, notice) if e.payload["role"] == "court")
    assert court.payload["identity_annex"] == NO_ANNEX == "allegato identificativo non disponibile"


def test_an_addressee_without_a_certified_address_is_an_incident_at_once(
    ctx: Context, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    box, smtp = mailbox
    notice = issue(ctx, roles=("court", "facility"), addresses={"facility": None})

    report = deliver_pending(ctx, smtp, POLICY)

    assert report == DeliveryReport(sent=1, failed=1)
    [incident] = report.incidents
    assert (incident.role, incident.status, incident.reason) == ("facility", "failed", NO_ADDRESS)
    assert [m["To"].addresses[0].addr_spec for m in box.messages()] == [ADDRESSEES["court"][1]]
    failed = rows(ctx, notice)["facility"]
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, NO_ADDRESS)
    [undelivered] = [e for e in delivery_events(ctx, notice) if e.trigger == UNDELIVERED]
    assert undelivered.payload["reason"] == NO_ADDRESS
    assert undelivered.payload["address"] is None
    assert [(i.reference, i.addressee) for i in delivery_incidents(ctx)] == [
        (notice.reference, ADDRESSEES["facility"][0])
    ]
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()


@pytest.mark.parametrize(
    "reply", ["550 5.7.1 Message rejected by policy", "451 4.3.0 Try again later"]
)
def test_a_refusing_server_is_retried_with_backoff_then_the_message_is_an_incident(
    ctx: Context, clock: FixedClock, mailbox: tuple[Mailbox, SmtpTransport], reply: str
) -> None:
    box, smtp = mailbox
    box.reply = reply
    notice = issue(ctx, roles=("facility",))
    start = clock.now()

    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport(retried=1)
    row = rows(ctx, notice)["facility"]
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == start + timedelta(seconds=60)
    assert row.last_error == reply

    clock.advance(timedelta(seconds=59))  # not due yet
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()
    clock.advance(timedelta(seconds=1))
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport(retried=1)
    row = rows(ctx, notice)["facility"]
    assert row.next_attempt_at == start + timedelta(seconds=60 + 120)

    clock.advance(timedelta(seconds=119))
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()
    clock.advance(timedelta(seconds=1))
    report = deliver_pending(ctx, smtp, POLICY)
    assert report == DeliveryReport(failed=1)
    assert [i.reason for i in report.incidents] == [reply]

    row = rows(ctx, notice)["facility"]
    assert (row.status, row.attempts, row.sent_at) == ("failed", 3, None)
    clock.advance(timedelta(days=1))
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()  # given up: never again
    assert box.calls == 3 and box.accepted == []

    events = delivery_events(ctx, notice)
    assert [e.trigger for e in events] == [RETRY, RETRY, UNDELIVERED]
    assert [e.occurred_at for e in events] == [
        start,
        start + timedelta(seconds=60),
        start + timedelta(seconds=180),
    ]
    assert [e.payload["attempt"] for e in events[:2]] == [1, 2]
    assert [e.payload["next_attempt_at"] for e in events[:2]] == [
        (start + timedelta(seconds=60)).isoformat(),
        (start + timedelta(seconds=180)).isoformat(),
    ]
    assert events[2].payload["attempts"] == 3
    assert {e.payload["reason"] for e in events} == {reply}
    [incident] = delivery_incidents(ctx)
    assert (incident.reference, incident.status_label, incident.reason) == (
        notice.reference,
        "non recapitata",
        reply,
    )


def test_a_server_that_cannot_be_reached_is_retried(ctx: Context, clock: FixedClock) -> None:
    notice = issue(ctx, roles=("facility",))
    nowhere = SmtpTransport("127.0.0.1", _free_port(), security="none", timeout=5)

    assert deliver_pending(ctx, nowhere, POLICY) == DeliveryReport(retried=1)
    row = rows(ctx, notice)["facility"]
    assert row.status == "pending" and row.last_error is not None
    assert "ConnectionRefusedError" in row.last_error


class Crash(BaseException):
    """The process dies (a kill, a power cut): nothing after it runs."""


@dataclass
class CrashAfterHandOver:
    """Hands the message to the server, which accepts it, then the process dies."""

    inner: SmtpTransport

    @property
    def describe(self) -> str:
        return self.inner.describe

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        raise Crash


def test_a_crash_after_the_hand_over_leaves_the_message_uncertain_never_sent_again(
    ctx: Context, clock: FixedClock, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    box, smtp = mailbox
    notice = issue(ctx)

    with pytest.raises(Crash):
        deliver_pending(ctx, CrashAfterHandOver(smtp), POLICY)
    assert len(box.accepted) == 1
    [first] = box.messages()
    crashed = next(role for role, mid in notice.message_ids.items() if mid == first["Message-ID"])
    row = rows(ctx, notice)[crashed]
    assert (row.status, row.attempts) == ("sending", 1)

    clock.advance(LEASE - timedelta(seconds=1))  # another pass, within the lease: skipped
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport(sent=2)
    assert rows(ctx, notice)[crashed].status == "sending"

    clock.advance(timedelta(seconds=1))  # the lease is over: uncertain, not sent again
    report = deliver_pending(ctx, smtp, POLICY)
    assert report == DeliveryReport(uncertain=1)
    assert [i.message_id for i in report.incidents] == [notice.message_ids[crashed]]
    assert "ricevute PEC" in report.incidents[0].reason
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()
    clock.advance(timedelta(days=2))
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()

    assert Counter(m["Message-ID"] for m in box.messages()) == Counter(
        notice.message_ids.values()
    )  # each exactly once
    assert rows(ctx, notice)[crashed].status == "uncertain"
    [uncertain] = [e for e in delivery_events(ctx, notice) if e.trigger == UNCERTAIN]
    assert uncertain.payload["message_id"] == notice.message_ids[crashed]
    assert [i.status for i in delivery_incidents(ctx)] == ["uncertain"]

    # The PEC delivery receipt settles it: sent, no longer an incident.
    receipt = record_receipt(ctx, notice.message_ids[crashed], "consegna", clock.now())
    assert (receipt.delivery.status, receipt.replayed) == ("sent", False)
    assert delivery_incidents(ctx) == []
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()
    assert len(box.accepted) == 3


def test_a_crash_before_the_claim_is_committed_leaves_it_pending_and_it_is_sent_once(
    ctx: Context, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    box, smtp = mailbox
    notice = issue(ctx, roles=("facility",))

    def die(session: Session) -> None:
        raise Crash

    event.listen(Session, "before_commit", die)
    try:
        with pytest.raises(Crash):
            deliver_pending(ctx, smtp, POLICY)
    finally:
        event.remove(Session, "before_commit", die)
    row = rows(ctx, notice)["facility"]
    assert (row.status, row.attempts) == ("pending", 0)
    assert box.calls == 0

    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport(sent=1)
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()
    assert [m["Message-ID"] for m in box.messages()] == [notice.message_ids["facility"]]


def test_concurrent_deliverers_send_each_message_exactly_once(
    ctx: Context, database_url: str, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    box, smtp = mailbox
    notices = [issue(ctx, identity=False) for _ in range(5)]
    barrier = threading.Barrier(3)
    reports: list[DeliveryReport] = []
    errors: list[BaseException] = []

    def deliverer() -> None:
        engine = make_engine(database_url)
        try:
            own = Context(db=engine, machines=ctx.machines, clock=ctx.clock)
            barrier.wait()
            reports.append(deliver_pending(own, smtp, POLICY))
        except BaseException as error:
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=deliverer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    expected = Counter(mid for n in notices for mid in n.message_ids.values())
    assert sum(report.sent for report in reports) == sum(expected.values()) == 15
    assert Counter(m["Message-ID"] for m in box.messages()) == expected
    for notice in notices:
        assert [e.trigger for e in delivery_events(ctx, notice)] == [SENT] * 3


def test_a_missing_letterhead_is_retried_not_sent_anonymously(
    ctx: Context, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    box, smtp = mailbox
    notice = issue(ctx, roles=("facility",), office="UIEPE-IGNOTO")

    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport(retried=1)
    row = rows(ctx, notice)["facility"]
    assert row.last_error is not None and "UIEPE-IGNOTO" in row.last_error
    assert box.calls == 0


def test_messages_written_as_eml_files_are_whole_and_never_doubled(
    ctx: Context, tmp_path: Path
) -> None:
    notice = issue(ctx)
    outbox = tmp_path / "outbox"
    transport = transport_from(Settings(smtp_host=None, outbox_dir=outbox))
    assert isinstance(transport, EmlDirectory)
    assert transport.describe == f"{NO_SMTP}: messaggi scritti in {outbox}"
    assert "nessun server SMTP configurato" in transport.describe

    assert deliver_pending(ctx, transport, POLICY) == DeliveryReport(sent=3)

    files = sorted(outbox.iterdir())
    assert len(files) == 3 and all(f.suffix == ".eml" for f in files)
    written = {f.name: f.read_bytes() for f in files}
    parsed = {str(m["Message-ID"]): m for m in (_parse(b) for b in written.values())}
    assert set(parsed) == set(notice.message_ids.values())
    for role, mid in notice.message_ids.items():
        files_in = attachments(parsed[mid])
        assert notice.pdf in files_in.values()
        assert ("allegato_identificativo.pdf" in files_in) == ADDRESSEES[role][2]

    assert deliver_pending(ctx, transport, POLICY) == DeliveryReport()
    assert {f.name: f.read_bytes() for f in outbox.iterdir()} == written

    # The same message handed over again replaces its file: one file per message.
    again = parsed[notice.message_ids["facility"]]
    transport.send(again)
    assert sorted(f.name for f in outbox.iterdir()) == sorted(written)


def test_smtp_is_used_when_a_host_is_configured() -> None:
    transport = transport_from(
        Settings(
            smtp_host="smtps.pec.example", smtp_port=465, smtp_user="u", smtp_password="s3greto"
        )
    )
    assert transport == SmtpTransport("smtps.pec.example", 465, "ssl", "u", "s3greto")
    assert "s3greto" not in repr(transport)
    assert transport.describe == "server SMTP smtps.pec.example:465 (TLS)"


def test_receipts_are_recorded_once_and_a_non_delivery_is_an_incident(
    ctx: Context, clock: FixedClock, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    _, smtp = mailbox
    notice = issue(ctx, roles=("court", "facility"), identity=False)
    with pytest.raises(InvalidInput):  # never sent: no receipt can be for it
        record_receipt(ctx, notice.message_ids["court"], "consegna", clock.now())
    deliver_pending(ctx, smtp, POLICY)
    at = clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(minutes=1))

    first = record_receipt(ctx, notice.message_ids["court"], "consegna", at)
    again = record_receipt(ctx, notice.message_ids["court"].strip("<>"), "consegna", at)
    lost = record_receipt(ctx, notice.message_ids["facility"], "mancata_consegna", at)

    assert (first.replayed, again.replayed, lost.replayed) == (False, True, False)
    assert (first.delivery.status, lost.delivery.status) == ("sent", "failed")
    receipts = [e for e in delivery_events(ctx, notice) if e.trigger == RECEIPT]
    assert [(e.payload["role"], e.payload["kind"]) for e in receipts] == [
        ("court", "consegna"),
        ("facility", "mancata_consegna"),
    ]
    assert receipts[0].payload["receipt_at"] == at.isoformat()
    assert "D.P.R. 68/2005" in receipts[0].legal_basis
    assert [(i.role, i.status) for i in delivery_incidents(ctx)] == [("facility", "failed")]
    with pytest.raises(UnknownMessage):
        record_receipt(ctx, "<nessuno@misure.invalid>", "consegna", at)
    with pytest.raises(InvalidInput):
        record_receipt(ctx, notice.message_ids["court"], "letta", at)  # type: ignore[arg-type]


def test_deliveries_of_a_case(ctx: Context, mailbox: tuple[Mailbox, SmtpTransport]) -> None:
    _, smtp = mailbox
    notice = issue(ctx, roles=("court", "facility"), identity=False)
    deliver_pending(ctx, smtp, POLICY)

    found = deliveries_of(ctx, notice.reference)

    assert [(d.role, d.status, d.protocol) for d in found] == [
        ("court", "sent", notice.label),
        ("facility", "sent", notice.label),
    ]
    assert found[0].role_label == "Autorità giudiziaria"
    with pytest.raises(UnknownCase):
        deliveries_of(ctx, "DEM-2026-999999")


def test_limit_and_progress(ctx: Context, mailbox: tuple[Mailbox, SmtpTransport]) -> None:
    _, smtp = mailbox
    issue(ctx, identity=False)
    told: list[int] = []

    assert deliver_pending(ctx, smtp, POLICY, limit=2, progress=told.append) == DeliveryReport(
        sent=2
    )
    assert told == [1, 1]
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport(sent=1)


# the command line -----------------------------------------------------------------------------
def test_the_command_line(
    ctx: Context,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notice = issue(ctx, roles=("court", "facility"), addresses={"facility": None})
    monkeypatch.setenv("MISURE_DATABASE_URL", database_url)
    monkeypatch.setenv("MISURE_MACHINE_MODULES", '["tests.support.demo"]')
    monkeypatch.setenv("MISURE_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("MISURE_SMTP_HOST", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    app = typer.Typer()
    notices_app = typer.Typer()
    app.add_typer(notices_app, name="notices")
    register(notices_app)
    now = ("--now", "2026-03-02T10:00:00+01:00")

    assert run(app, ["notices", "deliver", *now]) == 0
    said = capsys.readouterr()
    assert "1 inviate, 0 da ritentare, 1 non recapitate, 0 con esito incerto" in said.out
    assert "nessun server SMTP configurato" in said.err
    assert "incidente:" in said.err and NO_ADDRESS in said.err
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1

    assert run(app, ["notices", "deliveries", notice.reference, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["deliveries"]
    assert [(d["role"], d["status"]) for d in listed] == [("court", "sent"), ("facility", "failed")]

    assert run(app, ["notices", "incidents"]) == 0
    assert ADDRESSEES["facility"][0] in capsys.readouterr().out
    assert run(app, ["notices", "incidents", "--json"]) == 0
    assert [i["role"] for i in json.loads(capsys.readouterr().out)["incidents"]] == ["facility"]

    court = notice.message_ids["court"]
    assert run(app, ["notices", "receipt", court, "--consegna", *now]) == 0
    assert "ricevuta di consegna registrata" in capsys.readouterr().out
    assert run(app, ["notices", "receipt", court, "--consegna", "--json", *now]) == 0
    assert json.loads(capsys.readouterr().out)["replayed"] is True

    assert run(app, ["notices", "receipt", "<nessuno@x>", "--mancata-consegna"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "nessuna comunicazione inviata con Message-ID <nessuno@x>" in line
    assert run(app, ["notices", "receipt", court, "--json"]) == 1
    assert json.loads(capsys.readouterr().err)["error"] == "invalid_input"
    assert run(app, ["notices", "deliveries", "DEM-2026-999999"]) == 1
    assert capsys.readouterr().out == ""

    # nothing of the person anywhere a command printed or a trail kept
    with ctx.read() as uow:
        assert uow.session.scalars(select(Identity)).all() != []
    assert_no_identity_in_trail(ctx, notice)


def test_rows_claimed_elsewhere_are_left_alone(
    ctx: Context, clock: FixedClock, mailbox: tuple[Mailbox, SmtpTransport]
) -> None:
    """A message SENDING within its lease (another deliverer at work) is neither sent nor
    made uncertain."""
    box, smtp = mailbox
    notice = issue(ctx, roles=("facility",))
    with ctx.uow() as uow:
        uow.session.execute(
            update(Delivery)
            .where(Delivery.document_id == notice.document_id)
            .values(status="sending", attempts=1, next_attempt_at=clock.now() + LEASE)
        )
        uow.commit()

    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport()
    clock.advance(LEASE)
    assert deliver_pending(ctx, smtp, POLICY) == DeliveryReport(uncertain=1)
    assert box.calls == 0

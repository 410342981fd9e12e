"""Typed SQLAlchemy 2 models: cases, their events, timers, the outbox and rendered documents.

Every instant is stored in UTC (`UTCDateTime`); SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Bounds the services check before writing, so that no database refuses what another stored.
ACTOR_LENGTH = 120
KEY_LENGTH = 255
Id = BigInteger().with_variant(Integer, "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(14, 2, asdecimal=True)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant; naive values are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Case(Base):
    """A case: its state is moved only by its kind's machine; `version` locks optimistically."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the mapper
    __table_args__ = (Index("ix_cases_kind_state", "kind", "state"),)


class CaseEvent(Base):
    """Append-only trail: one row for every change of a case, numbered per case and chained
    (storage/chain.py): `hash` covers `prev_hash`, the previous event's, and this one's
    content. No code updates or deletes a row; on the database a trigger refuses it."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    legal_basis: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(KEY_LENGTH), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it was recorded
    # When it took effect in law: a lapse at its term's due instant, even if recorded later.
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("case_id", "sequence", name="uq_case_events_sequence"),)


class EventRepeat(Base):
    """The same message that changes nothing (a late decision) received again: counted on the
    event that recorded it first, not appended to the trail, so that no client can grow a
    case's history without bound."""

    __tablename__ = "event_repeats"

    event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimerStatus(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Timer(Base):
    """A legal deadline that fires a trigger, or a reminder that issues a notice: due at
    `due_at`; the sweep tries it at `run_at` (later after a failure)."""

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    name: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(60))
    fires: Mapped[str | None] = mapped_column(String(60))  # the trigger, or None for a reminder
    notice: Mapped[str | None] = mapped_column(String(80))  # a reminder's notice template
    legal_basis: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=TimerStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by_event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"))
    resolved_by_event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("(fires IS NULL) <> (notice IS NULL)", name="fires_or_notice"),
        Index(
            "ix_timers_pending_run_at",
            "run_at",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_timers_case_status", "case_id", "status"),
    )


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxMessage(Base):
    """Work a change asked for (a notice to render, a reallocation), written with the change."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"))
    topic: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "ix_outbox_pending_topic",
            "topic",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class Document(Base):
    """A rendered notice: one per outbox message (the unique key makes rendering happen once)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    template: Mapped[str] = mapped_column(String(80))
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How it is signed: "pades" (digitally, with the office's certificate), "printed" (the
    # printed-signature wording, art. 3 co. 2 d.lgs. 39/1993), "none" (before issue 15).
    signature: Mapped[str] = mapped_column(String(12), server_default="none")


class AuditSeal(Base):
    """A day's seal over every case's chain: the last event of each case and its hash
    (`entries`: [reference, sequence, hash], by reference), their digest, chained to the
    previous seal's. The same document is written to a file outside the database and published
    as a Prefect artifact, so that a chain rewritten whole, with its seal row, is still found."""

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    previous: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    cases: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    entries: Mapped[list[list[Any]]] = mapped_column(Json)


class ReferenceCounter(Base):
    """Last number given per prefix and year, for references like ATT-2026-000123."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


# Court registry API ----------------------------------------------------------------------------


class RegistryToken(Base):
    """An API client's token (a court registry's, or another party's a procedure serves): only
    its SHA-256 is kept; revoked tokens stay, for the audit of what they did."""

    __tablename__ = "registry_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    court: Mapped[str] = mapped_column(String(200))  # the party it acts for (a court...)
    label: Mapped[str] = mapped_column(String(200))
    # What the party is: "court" (a court registry), or a role a procedure declares
    # (`Procedure.token_roles`); a route accepts the roles it serves.
    role: Mapped[str] = mapped_column(String(40), server_default="court")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiRequest(Base):
    """The first answer to a registry's write request with a given Idempotency-Key."""

    __tablename__ = "api_requests"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("registry_tokens.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("token_id", "idempotency_key", name="uq_api_requests_key"),)


# Outgoing notices: letterheads, addressees, the protocol register, deliveries -------------------


class Letterhead(Base):
    """An issuing office's letterhead and signatory (reference data): the heading, the
    office's address and certified e-mail (PEC), who signs and where."""

    __tablename__ = "letterheads"

    office: Mapped[str] = mapped_column(String(40), primary_key=True)  # the office's code
    ministry: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    pec: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_role: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(80))  # where its acts are signed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Addressee(Base):
    """Where a party the notices name (a court, a prison, a facility, an office) receives
    them: its certified e-mail (reference data, by the party's name)."""

    __tablename__ = "addressees"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    pec: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProtocolCounter(Base):
    """The last number given by an office's outgoing protocol register in a year."""

    __tablename__ = "protocol_counters"

    office: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class ProtocolStatus(StrEnum):
    REGISTERED = "registered"  # numbered; `sha256` once its document is stored
    ANNULLED = "annulled"  # its document could not be made: the number stays, marked


class ProtocolEntry(Base):
    """A registration in an office's outgoing protocol register (artt. 53-57 D.P.R. 445/2000):
    number (gap-free per office and year, never reused), date and time, subject, addressees
    and the fingerprint of the document. One per notice (`outbox_id`): a notice numbered and
    not yet rendered keeps its number when it is rendered again."""

    __tablename__ = "protocol_entries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    office: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int] = mapped_column(Id, unique=True)  # no foreign key: see services
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(Text)
    addressees: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=ProtocolStatus.REGISTERED)
    annulled_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("office", "year", "number", name="uq_protocol_entries_number"),
        Index("ix_protocol_entries_registered", "office", "registered_at"),
    )


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # to send (again) at `next_attempt_at`
    SENDING = "sending"  # handed to the transport: its outcome is not recorded yet
    SENT = "sent"  # accepted by the mail server
    FAILED = "failed"  # refused after every retry, or no address: an incident
    UNCERTAIN = "uncertain"  # a crash while sending: never sent again blindly, an incident


class Delivery(Base):
    """One message of a notice to one addressee: its attempts and outcome."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    addressee: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(200))  # its PEC, if known
    identity_annex: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("document_id", "role", "addressee", name="uq_deliveries_addressee"),
        Index(
            "ix_deliveries_pending",
            "next_attempt_at",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class Identity(Base):
    """Protected data: who the pseudonymous case is. Read only to make the identification
    annex for the addressees entitled to it (the court, the prison); never in events, logs,
    notices' bodies or artifacts (art. 15 D.M. 128/2025)."""

    __tablename__ = "identities"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    surname: Mapped[str] = mapped_column(String(120))
    given_names: Mapped[str] = mapped_column(String(120))
    born_on: Mapped[date] = mapped_column(Date)
    born_in: Mapped[str] = mapped_column(String(120))
    tax_code: Mapped[str | None] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseChange(Base):
    """A case changed since its page was last published: written by database triggers in the
    transaction of the change (an event appended, a timer failing or retried, a notice failing),
    whatever wrote it; `generation` counts the changes, so that a page published from an older
    generation is published again (storage/pages.py)."""

    __tablename__ = "case_changes"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)


class CasePage(Base):
    """Where a case's page was last published from: the office that follows the case (the one
    issuing its notices) and the court before which it is, as the page said them; the work
    queues group the cases by them."""

    __tablename__ = "case_pages"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    office: Mapped[str] = mapped_column(String(40), index=True)
    office_name: Mapped[str] = mapped_column(String(200))
    court: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PageArtifact(Base):
    """The Prefect artifact that shows a page (a case, a queue, the index): updated in place
    when the page changes, so that a link to it always opens its current text."""

    __tablename__ = "page_artifacts"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    artifact: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

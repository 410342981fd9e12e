"""The tables of funded residential placements (D.M. 128/2025 arts. 11-14): UIEPEs, prisons,
facilities, conventions, the yearly budget and its split, applications, reservations of places,
presence returns and the quarterly monitoring reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, Json, Money, UTCDateTime


class Office(Base):
    """A UIEPE: its territory and the detainees present there (DAP data), which weigh its share
    of the appropriation (art. 13 co. 1)."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(80))  # where its notices are signed
    territory: Mapped[str] = mapped_column(String(200))
    detainees: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("detainees >= 0", name="detainees_not_negative"),)


class Prison(Base):
    """A prison and the UIEPE competent for its location (art. 12 co. 2)."""

    __tablename__ = "prisons"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))


class Facility(Base):
    """A residential facility (arts. 3, 6-7): only registered, not suspended facilities may
    receive attestations. Its standing (`registered`, `suspended`, `cancelled_on`) is what the
    facility register announced (topic `facility_standing`); where no register runs, the
    reference data's facilities count as registered."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    section: Mapped[str] = mapped_column(String(80))  # territorial section of the register
    registered: Mapped[bool] = mapped_column(Boolean)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_on: Mapped[date | None] = mapped_column(Date)


class Convention(Base):
    """A convention between a UIEPE and a facility: daily rate and reserved places, numbered
    1..places, valid from/until (art. 13 co. 3-5)."""

    __tablename__ = "conventions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    daily_rate: Mapped[Decimal] = mapped_column(Money)
    places: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    # The day it ended early: its facility cancelled from the register (art. 5 D.M. 128/2025).
    ended_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("daily_rate > 0", name="rate_positive"),
        CheckConstraint("places > 0", name="places_positive"),
        CheckConstraint("valid_until >= valid_from", name="valid_period"),
        Index("ix_conventions_office", "office_id"),
    )


class BudgetYear(Base):
    """The yearly appropriation (EUR 7,000,000 from 2024, art. 8 co. 6 D.L. 92/2024) and the
    Directorate's stop on new applications (art. 13 co. 7)."""

    __tablename__ = "budget_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    appropriation: Mapped[Decimal] = mapped_column(Money)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("appropriation >= 0", name="appropriation_not_negative"),)


class Allocation(Base):
    """A UIEPE's share of a year's appropriation, as last split (art. 13 co. 1-2, 7)."""

    __tablename__ = "allocations"

    year: Mapped[int] = mapped_column(ForeignKey("budget_years.year"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    detainees: Mapped[int] = mapped_column(Integer)
    split_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Application(Base):
    """What a placement case needs beyond its state: where it came from, which UIEPE handles
    it, and its place in that UIEPE's protocol (art. 12 co. 5: strictly in protocol order)."""

    __tablename__ = "applications"

    @property
    def protocol(self) -> str | None:
        """Its protocol number as the office writes it: NUMBER/YEAR."""
        if self.protocol_number is None:
            return None
        return f"{self.protocol_number}/{self.protocol_year}"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    prison_id: Mapped[int] = mapped_column(ForeignKey("prisons.id"))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    court: Mapped[str] = mapped_column(String(200))
    filed_on: Mapped[date] = mapped_column(Date)
    protocol_year: Mapped[int | None] = mapped_column(Integer)
    protocol_number: Mapped[int | None] = mapped_column(Integer)
    protocol_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint(
            "office_id", "protocol_year", "protocol_number", name="uq_applications_protocol"
        ),
        Index("ix_applications_office_protocol", "office_id", "protocol_at", "protocol_number"),
    )


class ReservationStatus(StrEnum):
    ACTIVE = "active"  # the place is held: attested, at court, granted or occupied
    RELEASED = "released"  # freed before any stay (rejection, lapse, withdrawal)
    ENDED = "ended"  # the funded stay is over


class Reservation(Base):
    """A place held by an attestation. The database keeps one active holder per place and one
    active place per case (partial unique indexes), whatever the code does.

    `committed` is what the place may still cost, charged to the allocation of `budget_year`:
    the maximum cost at attestation, the exact funded period at entry, the days of presence
    once the stay ends, nothing once released (art. 13 co. 5-6)."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    convention_id: Mapped[int] = mapped_column(ForeignKey("conventions.id"))
    place: Mapped[int] = mapped_column(Integer)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    budget_year: Mapped[int] = mapped_column(Integer)
    daily_rate: Mapped[Decimal] = mapped_column(Money)
    committed: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(12), default=ReservationStatus.ACTIVE)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    entered_on: Mapped[date | None] = mapped_column(Date)
    funded_until: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    freed_by_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_by_event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id"))
    closed_by_event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"))

    __table_args__ = (
        CheckConstraint("committed >= 0", name="committed_not_negative"),
        Index(
            "uq_reservations_active_place",
            "convention_id",
            "place",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "uq_reservations_active_case",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_reservations_office_year", "office_id", "budget_year"),
    )


class Presence(Base):
    """One day of a funded stay as the facility reports it: present or absent (art. 13 co. 5:
    the rate is paid only for days of actual presence)."""

    __tablename__ = "presences"

    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    present: Mapped[bool] = mapped_column(Boolean)
    # Found by a supervision visit (art. 10 co. 4 b): the facility's returns no longer change it.
    checked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Report(Base):
    """A report that belongs to no single case (the quarterly monitoring, art. 13 co. 7), with
    its rendered document; one per kind, period and scope."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(20))  # e.g. 2026-Q1
    scope: Mapped[str] = mapped_column(String(20))  # an office code, or NAZIONALE
    figures: Mapped[dict[str, Any]] = mapped_column(Json)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "period", "scope", name="uq_reports_period"),)

"""The tables of the register of residential facilities (D.M. 128/2025 arts. 3-10): the entry of
each facility case, the cancellation procedures, the operators' reports (art. 4), the
supervision visits and prescriptions (art. 10) and the publications of the register (art. 3).
No resident is named here: a visit's presence checks carry case references only."""

from __future__ import annotations

from datetime import date, datetime
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, Json, UTCDateTime


class RegisterEntry(Base):
    """A facility as the register knows it (its case's opening, kept for publication): who runs
    it, where, in which section, since when it is registered, suspended or cancelled."""

    __tablename__ = "register_entries"

    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(200))
    operator_type: Mapped[str] = mapped_column(String(1))
    address: Mapped[str] = mapped_column(String(200))
    section: Mapped[str] = mapped_column(String(80))
    places: Mapped[int] = mapped_column(Integer)
    filed_on: Mapped[date] = mapped_column(Date)
    registered_on: Mapped[date | None] = mapped_column(Date)
    suspended_since: Mapped[date | None] = mapped_column(Date)
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_register_entries_section", "section"),)


class Procedure(Base):
    """A cancellation procedure (art. 5) and the facility it concerns; at most one in progress
    per facility (partial unique index)."""

    __tablename__ = "register_procedures"

    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"), primary_key=True)
    facility_case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    causes: Mapped[list[str]] = mapped_column(Json)
    in_progress: Mapped[bool] = mapped_column(Boolean)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "uq_register_procedures_in_progress",
            "facility_case_id",
            unique=True,
            sqlite_where=text("in_progress"),
            postgresql_where=text("in_progress"),
        ),
    )


class ChangeReport(Base):
    """An operator's report under art. 4: a change to a declared requirement or its loss."""

    __tablename__ = "register_reports"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    facility_case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    event_id: Mapped[int] = mapped_column(Id, ForeignKey("case_events.id"))
    nature: Mapped[str] = mapped_column(String(10))
    requirement: Mapped[str] = mapped_column(String(200))
    occurred_on: Mapped[date] = mapped_column(Date)
    reported_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_register_reports_facility", "facility_case_id"),)


class Visit(Base):
    """A supervision visit of the UIEPE's penitentiary police unit (art. 10 co. 3-4): the day,
    the unit, and who it found present (case references: `checks` maps each to true/false)."""

    __tablename__ = "register_visits"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    facility_case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    event_id: Mapped[int] = mapped_column(Id, ForeignKey("case_events.id"))
    visited_on: Mapped[date] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(String(200))
    checks: Mapped[dict[str, Any]] = mapped_column(Json)
    discrepancies: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_register_visits_facility", "facility_case_id", "visited_on"),)


class Prescription(Base):
    """A prescription of the supervising administration on the art. 7 services, with its
    deadline and outcome; one ignored is a cause of cancellation (art. 5 co. 1 d)."""

    __tablename__ = "register_prescriptions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    facility_case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    number: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(Id, ForeignKey("case_events.id"))
    service: Mapped[str] = mapped_column(String(1))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(10))  # complied / ignored
    outcome_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("outcome IN ('complied', 'ignored')", name="prescription_outcome"),
        Index("uq_register_prescriptions_number", "facility_case_id", "number", unique=True),
    )


class Publication(Base):
    """One publication of the register (art. 3 co. 5-6): the files as published, and why."""

    __tablename__ = "register_publications"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))
    entries: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))  # of the JSON open data
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    csv: Mapped[str] = mapped_column(Text)
    json: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_register_publications_at", "published_at"),)

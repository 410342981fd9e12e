"""The tables of unpaid community work: the host entities' conventions, the seats a convention
offers (never more people at once than its capacity: one active holder per seat, in the
database), the placements and their attendance register. No person's name: cases carry a
pseudonymous reference."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, UTCDateTime

Hours = Numeric(5, 2, asdecimal=True)


class LpuConvention(Base):
    """A convention as signed (art. 54 co. 6 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001): the
    entity, its capacity, its validity; `ended_on`, the first day it no longer holds."""

    __tablename__ = "lpu_conventions"

    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"), primary_key=True)
    entity: Mapped[str] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("valid_until >= valid_from", name="valid_period"),
    )


class Seat(Base):
    """A place among a convention's `capacity`, held by one placement at a time: a partial
    unique index keeps one active holder per seat and one seat per placement."""

    __tablename__ = "lpu_seats"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    convention_case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    seat: Mapped[int] = mapped_column(Integer)
    placement_case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("seat > 0", name="seat_positive"),
        Index(
            "uq_lpu_seats_held",
            "convention_case_id",
            "seat",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
        Index(
            "uq_lpu_seats_holder",
            "placement_case_id",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
    )


class Attendance(Base):
    """One session of the attendance register: the day, start and end, the hours, the activity,
    and both signatures (the person's and the coordinator's). Only attended hours count."""

    __tablename__ = "lpu_attendance"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    placement_case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    event_id: Mapped[int] = mapped_column(Id, ForeignKey("case_events.id"))
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    hours: Mapped[Decimal] = mapped_column(Hours)
    credited: Mapped[Decimal] = mapped_column(Hours)
    activity: Mapped[str] = mapped_column(String(200))
    signed_by_person: Mapped[bool] = mapped_column(Boolean)
    signed_by_coordinator: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        CheckConstraint("hours > 0", name="hours_positive"),
        CheckConstraint("credited >= 0 AND credited <= hours", name="credited_within_hours"),
        Index("ix_lpu_attendance_placement_day", "placement_case_id", "day"),
    )

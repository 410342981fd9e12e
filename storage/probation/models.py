"""The tables of probation with suspension of the trial: each probation's person (a
pseudonymous key: the same key across cases finds the earlier probations, art. 168-bis co. 4
c.p.), the versions of its programme (the judge's integrations keep the earlier ones), and the
days of its LPU part the attendance register reports (art. 168-bis co. 3 c.p.). No name, no tax
code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, Json


class ProbationPerson(Base):
    """Whose probation a case is: the pseudonymous key of the person."""

    __tablename__ = "probation_persons"

    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_probation_persons_person_key", "person_key"),)


class ProgrammeVersion(Base):
    """A version of the programme: drafted by the UEPE, or integrated by the judge."""

    __tablename__ = "probation_programmes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(Id, ForeignKey("case_events.id"))
    by: Mapped[str] = mapped_column(String(20))  # "uepe" (draft) or "judge" (integration)
    on: Mapped[date] = mapped_column(Date)
    components: Mapped[list[Any]] = mapped_column(Json)
    lpu_days: Mapped[int] = mapped_column(Integer)
    lpu_hours_per_day: Mapped[Decimal] = mapped_column(Numeric(4, 2, asdecimal=True))

    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_probation_programmes"),)


class LpuDay(Base):
    """A day of work of the probation's LPU part, as the attendance register reports it."""

    __tablename__ = "probation_lpu_days"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"))
    placement: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("case_id", "day", name="uq_probation_lpu_days"),)

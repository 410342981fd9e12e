"""The SQL of unpaid community work: conventions, seats, the attendance register."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.lpu.models import Attendance, LpuConvention, Seat
from storage.models import Case
from storage.unit_of_work import UnitOfWork


class LpuRepository:
    def __init__(self, session: Session, postgresql: bool) -> None:
        self.session, self.postgresql = session, postgresql

    @classmethod
    def of(cls, uow: UnitOfWork) -> LpuRepository:
        return cls(uow.session, uow.postgresql)

    # conventions --------------------------------------------------------------------------------
    def convention(self, case_id: int, lock: bool = False) -> LpuConvention | None:
        """`lock`: FOR UPDATE on PostgreSQL, so that two placements taking its last seat queue."""
        query = select(LpuConvention).where(LpuConvention.case_id == case_id)
        if lock and self.postgresql:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(query).one_or_none()

    # seats --------------------------------------------------------------------------------------
    def held_seats(self, convention_case_id: int) -> list[int]:
        query = select(Seat.seat).where(
            Seat.convention_case_id == convention_case_id, Seat.released_at.is_(None)
        )
        return sorted(self.session.scalars(query))

    def seat_of(self, placement_case_id: int) -> Seat | None:
        query = select(Seat).where(
            Seat.placement_case_id == placement_case_id, Seat.released_at.is_(None)
        )
        return self.session.scalars(query).one_or_none()

    def take_seat(
        self, convention_case_id: int, seat: int, placement_case_id: int, at: datetime
    ) -> None:
        self.session.add(
            Seat(
                convention_case_id=convention_case_id,
                seat=seat,
                placement_case_id=placement_case_id,
                taken_at=at,
            )
        )
        self.session.flush()

    def release_seat(self, placement_case_id: int, at: datetime) -> int:
        result = self.session.execute(
            update(Seat)
            .where(Seat.placement_case_id == placement_case_id, Seat.released_at.is_(None))
            .values(released_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # attendance ---------------------------------------------------------------------------------
    def hours_between(self, placement_case_id: int, first: date, last: date) -> Decimal:
        """Hours attended from `first` to `last`, both included."""
        query = select(func.coalesce(func.sum(Attendance.hours), 0)).where(
            Attendance.placement_case_id == placement_case_id,
            Attendance.day >= first,
            Attendance.day <= last,
        )
        return Decimal(str(self.session.execute(query).scalar_one()))

    def sessions_on(self, placement_case_id: int, day: date) -> list[tuple[str, str]]:
        """The (start, end) of the sessions attended on `day`, as HH:MM."""
        query = select(Attendance.start, Attendance.end).where(
            Attendance.placement_case_id == placement_case_id, Attendance.day == day
        )
        rows = self.session.execute(query.order_by(Attendance.start))
        return [(row.start.strftime("%H:%M"), row.end.strftime("%H:%M")) for row in rows]

    def credited(self, placement_case_id: int) -> Decimal:
        query = select(func.coalesce(func.sum(Attendance.credited), 0)).where(
            Attendance.placement_case_id == placement_case_id
        )
        return Decimal(str(self.session.execute(query).scalar_one()))

    def register(self, placement_case_id: int) -> Sequence[Attendance]:
        query = select(Attendance).where(Attendance.placement_case_id == placement_case_id)
        return self.session.scalars(query.order_by(Attendance.day, Attendance.start)).all()

    def add_attendance(self, row: Attendance) -> None:
        self.session.add(row)
        self.session.flush()

    # the dashboard ------------------------------------------------------------------------------
    def conventions(self) -> Sequence[tuple[LpuConvention, Case]]:
        """Every convention with its case, by entity, first day and reference."""
        rows = (
            select(LpuConvention, Case)
            .join(Case, Case.id == LpuConvention.case_id)
            .order_by(LpuConvention.entity, LpuConvention.valid_from, Case.reference)
        )
        return [(convention, case) for convention, case in self.session.execute(rows)]

    def seats_held(self) -> dict[int, int]:
        """Convention case -> the seats held now: the people at work under it."""
        rows = (
            select(Seat.convention_case_id, func.count())
            .where(Seat.released_at.is_(None))
            .group_by(Seat.convention_case_id)
        )
        return {case_id: int(held) for case_id, held in self.session.execute(rows)}

    def placements(self, kind: str, states: Sequence[str]) -> Sequence[Case]:
        """The cases of `kind` (the placements) stored in one of `states`, by reference."""
        found = select(Case).where(Case.kind == kind, Case.state.in_(list(states)))
        return self.session.scalars(found.order_by(Case.reference)).all()

    def credited_of(self, placement_case_ids: Sequence[int]) -> dict[int, Decimal]:
        """Placement case -> the hours its register credits (those with none are left out)."""
        if not placement_case_ids:
            return {}
        rows = (
            select(Attendance.placement_case_id, func.sum(Attendance.credited))
            .where(Attendance.placement_case_id.in_(list(placement_case_ids)))
            .group_by(Attendance.placement_case_id)
        )
        return {case_id: Decimal(str(hours)) for case_id, hours in self.session.execute(rows)}

    def placements_of_probation(self, probation: str) -> list[str]:
        """The placements whose declaration names the probation `probation` (its LPU part)."""
        query = select(Case.reference).where(
            Case.kind == "lpu_placement", Case.data["probation"].as_string() == probation
        )
        return list(self.session.scalars(query.order_by(Case.id)))

"""Queries and writes on the placement tables: reference data, applications, reservations,
presence and budgets. It never commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Case, CaseEvent, OutboxMessage, OutboxStatus
from storage.placements.models import (
    Allocation,
    Application,
    BudgetYear,
    Convention,
    Facility,
    Office,
    Presence,
    Prison,
    Report,
    Reservation,
    ReservationStatus,
)
from storage.unit_of_work import UnitOfWork

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class FreePlace:
    convention: Convention
    facility: Facility
    place: int
    free: int  # free places left in the convention, this one included


@dataclass(frozen=True)
class Usage:
    """A UIEPE's money in a budget year: what it holds (`committed`, spend included) and what
    was spent (days of presence x rate)."""

    committed: Decimal
    spent: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.committed - self.spent


@dataclass(frozen=True)
class Holdings:
    """What a convention's reservations hold: how many were ever attested under it (`ever`),
    how many hold a place now (`active`: attested, at court, granted or occupied), the highest
    place number held (0 if none) and the first and last day a held place was attested."""

    ever: int
    active: int
    highest: int
    first_issued: date | None
    last_issued: date | None


# Waiting for a place. Naming the kind lets the (kind, state) index find the few queued cases
# instead of walking every application a UIEPE ever had.
_QUEUED = (Case.kind == "placement", Case.state == "queued")

# Read on every court decision received, built once.
_COURT_OF = (
    select(Application.court)
    .join(Case, Case.id == Application.case_id)
    .where(Case.reference == bindparam("reference"))
)


class PlacementRepository:
    @classmethod
    def of(cls, uow: UnitOfWork) -> PlacementRepository:
        """The placements' queries, in the unit of work's transaction."""
        return cls(uow.session, uow.postgresql)

    def __init__(self, session: Session, postgresql: bool) -> None:
        self.session = session
        self.postgresql = postgresql

    # reference data ---------------------------------------------------------------------------
    def upsert(self, model: type[Any], key: dict[str, Any], values: dict[str, Any]) -> None:
        """Insert or update the row of `model` with primary or unique `key`."""
        dialect_insert = pg_insert if self.postgresql else sqlite_insert
        statement = dialect_insert(model).values(**key, **values)
        self.session.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))

    def office(self, code: str) -> Office | None:
        return self.session.scalars(select(Office).where(Office.code == code)).one_or_none()

    def office_by_id(self, office_id: int) -> Office:
        return self.session.get_one(Office, office_id)

    def offices(self) -> Sequence[Office]:
        return self.session.scalars(select(Office).order_by(Office.code)).all()

    def prison(self, code: str) -> Prison | None:
        return self.session.scalars(select(Prison).where(Prison.code == code)).one_or_none()

    def prison_by_id(self, prison_id: int) -> Prison:
        return self.session.get_one(Prison, prison_id)

    def facility(self, code: str) -> Facility | None:
        return self.session.scalars(select(Facility).where(Facility.code == code)).one_or_none()

    def convention(self, code: str) -> Convention | None:
        query = select(Convention).where(Convention.code == code)
        return self.session.scalars(query).one_or_none()

    def convention_by_id(self, convention_id: int) -> Convention:
        return self.session.get_one(Convention, convention_id)

    def facilities(self) -> Sequence[Facility]:
        return self.session.scalars(select(Facility).order_by(Facility.code)).all()

    def facility_by_id(self, facility_id: int, lock: bool = False) -> Facility:
        """`lock`: FOR SHARE on PostgreSQL, so that the register's change of the facility's
        standing waits for the attestation that read it, and then sees its reservation (or
        the attestation waits and reads the new standing)."""
        if lock and self.postgresql:
            query = select(Facility).where(Facility.id == facility_id).with_for_update(read=True)
            return self.session.scalars(query.execution_options(populate_existing=True)).one()
        return self.session.get_one(Facility, facility_id)

    def held_at_facility(self, facility_id: int) -> list[tuple[Reservation, Case]]:
        """The places held under the facility's conventions, with their cases, by protocol."""
        rows = (
            select(Reservation, Case)
            .join(Convention, Convention.id == Reservation.convention_id)
            .join(Case, Case.id == Reservation.case_id)
            .join(Application, Application.case_id == Reservation.case_id)
            .where(
                Convention.facility_id == facility_id,
                Reservation.status == ReservationStatus.ACTIVE,
            )
            .order_by(Application.protocol_at, Application.protocol_number)
        )
        return [(reservation, case) for reservation, case in self.session.execute(rows)]

    def end_conventions(self, facility_id: int, on: date) -> int:
        """End the facility's conventions still running on `on` (its cancellation)."""
        result = self.session.execute(
            update(Convention)
            .where(
                Convention.facility_id == facility_id,
                Convention.valid_until >= on,
                Convention.ended_on.is_(None),
            )
            .values(ended_on=on)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def holdings(self, convention_id: int) -> Holdings:
        """What the reservations under this convention hold (`Holdings`)."""
        active = Reservation.status == ReservationStatus.ACTIVE
        ever, held, highest, first, last = self.session.execute(
            select(
                func.count(),
                func.count().filter(active),
                func.max(Reservation.place).filter(active),
                func.min(Reservation.issued_on).filter(active),
                func.max(Reservation.issued_on).filter(active),
            ).where(Reservation.convention_id == convention_id)
        ).one()
        return Holdings(int(ever), int(held), int(highest or 0), first, last)

    def conventions(self, office_id: int | None = None) -> Sequence[Convention]:
        query = select(Convention).order_by(Convention.code)
        if office_id is not None:
            query = query.where(Convention.office_id == office_id)
        return self.session.scalars(query).all()

    # budget -----------------------------------------------------------------------------------
    def budget_year(self, year: int, lock: bool = False) -> BudgetYear | None:
        query = select(BudgetYear).where(BudgetYear.year == year)
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def allocation(self, year: int, office_id: int, lock: bool = False) -> Allocation | None:
        """`lock`: hold the row until commit, serializing the commitments of one UIEPE."""
        query = select(Allocation).where(Allocation.year == year, Allocation.office_id == office_id)
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def lock_allocations(self, office_ids: Collection[int]) -> None:
        """Hold every allocation of these UIEPEs until commit, in one order: an attestation
        locks its UIEPE's allocation before it reads the convention it attests under."""
        query = (
            select(Allocation.year)
            .where(Allocation.office_id.in_(office_ids))
            .order_by(Allocation.year, Allocation.office_id)
            .with_for_update()
        )
        self.session.execute(query).all()

    def allocations(self, year: int) -> Sequence[Allocation]:
        query = select(Allocation).where(Allocation.year == year).order_by(Allocation.office_id)
        return self.session.scalars(query).all()

    def usage(self, year: int, office_id: int | None = None) -> Usage:
        """Committed and spent money of `year`, for one UIEPE or (None) all of them."""
        committed = select(func.coalesce(func.sum(Reservation.committed), ZERO)).where(
            Reservation.budget_year == year
        )
        spent = (
            select(func.coalesce(func.sum(Reservation.daily_rate), ZERO))
            .select_from(Presence)
            .join(Reservation, Reservation.id == Presence.reservation_id)
            .where(Reservation.budget_year == year, Presence.present.is_(True))
        )
        if office_id is not None:
            committed = committed.where(Reservation.office_id == office_id)
            spent = spent.where(Reservation.office_id == office_id)
        return Usage(
            committed=Decimal(self.session.execute(committed).scalar_one()).quantize(ZERO),
            spent=Decimal(self.session.execute(spent).scalar_one()).quantize(ZERO),
        )

    def cheapest_rate(self, on: date) -> Decimal | None:
        query = (
            select(func.min(Convention.daily_rate))
            .join(Facility, Facility.id == Convention.facility_id)
            .where(_usable(on))
        )
        rate = self.session.execute(query).scalar_one()
        return None if rate is None else Decimal(rate)

    # applications -----------------------------------------------------------------------------
    def application(self, case_id: int) -> Application | None:
        return self.session.get(Application, case_id)

    def court_of(self, reference: str) -> str | None:
        """The court an application is pending before, by its case reference."""
        return self.session.scalar(_COURT_OF, {"reference": reference})

    def queue(self, office_id: int, limit: int | None = None) -> Sequence[tuple[Application, str]]:
        """The UIEPE's applications waiting for a place, in protocol order (art. 12 co. 5),
        with their case references."""
        query = (
            select(Application, Case.reference)
            .join(Case, Case.id == Application.case_id)
            .where(*_QUEUED, Application.office_id == office_id)
            .order_by(Application.protocol_at, Application.protocol_number, Case.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [(application, reference) for application, reference in self.session.execute(query)]

    def pending_signals(self, *topics: str) -> list[tuple[int, str]]:
        """Pending outbox rows of `topics` on placement cases, with their UIEPE's code."""
        query = (
            select(OutboxMessage.id, Office.code)
            .join(Application, Application.case_id == OutboxMessage.case_id)
            .join(Office, Office.id == Application.office_id)
            .where(OutboxMessage.topic.in_(topics), OutboxMessage.status == OutboxStatus.PENDING)
            .order_by(OutboxMessage.id)
        )
        return [(int(message_id), code) for message_id, code in self.session.execute(query)]

    def offices_with_queue(self) -> Sequence[int]:
        query = (
            select(Application.office_id)
            .join(Case, Case.id == Application.case_id)
            .where(*_QUEUED)
            .distinct()
            .order_by(Application.office_id)
        )
        return self.session.scalars(query).all()

    # places -----------------------------------------------------------------------------------
    def free_places(self, office_id: int, on: date) -> list[FreePlace]:
        """The first free place of each usable convention of the UIEPE on `on` (in force,
        facility registered and not suspended), most free places first, then the lower rate."""
        held = (
            select(Reservation.convention_id, func.count().label("held"))
            .where(Reservation.status == ReservationStatus.ACTIVE)
            .group_by(Reservation.convention_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Convention, Facility, func.coalesce(held.c.held, 0))
            .join(Facility, Facility.id == Convention.facility_id)
            .outerjoin(held, held.c.convention_id == Convention.id)
            .where(Convention.office_id == office_id, _usable(on))
        ).all()
        found = []
        for convention, facility, taken in rows:
            if taken >= convention.places:
                continue
            numbers = set(
                self.session.scalars(
                    select(Reservation.place).where(
                        Reservation.convention_id == convention.id,
                        Reservation.status == ReservationStatus.ACTIVE,
                    )
                )
            )
            first = next(n for n in range(1, convention.places + 1) if n not in numbers)
            found.append(FreePlace(convention, facility, first, convention.places - taken))
        found.sort(key=lambda f: (-f.free, f.convention.daily_rate, f.convention.code))
        return found

    def active_reservation(self, case_id: int) -> Reservation | None:
        query = select(Reservation).where(
            Reservation.case_id == case_id, Reservation.status == ReservationStatus.ACTIVE
        )
        return self.session.scalars(query).one_or_none()

    def reservation_closed_by(self, event_id: int) -> Reservation | None:
        query = select(Reservation).where(Reservation.closed_by_event_id == event_id)
        return self.session.scalars(query).one_or_none()

    def last_reservation(self, case_id: int) -> Reservation | None:
        query = (
            select(Reservation)
            .where(Reservation.case_id == case_id)
            .order_by(Reservation.id.desc())
            .limit(1)
        )
        return self.session.scalars(query).one_or_none()

    def last_release_of(self, convention_id: int, place: int) -> Reservation | None:
        """The reservation that last held this place, if it was freed."""
        query = (
            select(Reservation)
            .where(
                Reservation.convention_id == convention_id,
                Reservation.place == place,
                Reservation.status != ReservationStatus.ACTIVE,
            )
            .order_by(Reservation.id.desc())
            .limit(1)
        )
        return self.session.scalars(query).one_or_none()

    def add_reservation(self, reservation: Reservation) -> None:
        self.session.add(reservation)
        self.session.flush()

    def close_reservation(
        self, reservation_id: int, status: ReservationStatus, committed: Decimal, event_id: int
    ) -> None:
        self.session.execute(
            update(Reservation)
            .where(Reservation.id == reservation_id)
            .values(status=status, committed=committed, closed_by_event_id=event_id)
        )

    def reservations_of(self, office_id: int, status: ReservationStatus) -> Sequence[Reservation]:
        query = select(Reservation).where(
            Reservation.office_id == office_id, Reservation.status == status
        )
        return self.session.scalars(query.order_by(Reservation.id)).all()

    # presence ---------------------------------------------------------------------------------
    def presences(self, reservation_id: int) -> dict[date, bool]:
        query = select(Presence.day, Presence.present).where(
            Presence.reservation_id == reservation_id
        )
        return {day: present for day, present in self.session.execute(query)}

    def record_presences(
        self, reservation_id: int, days: dict[date, bool], checked: bool = False
    ) -> None:
        """Upsert the facility's register for these days; a day a supervision visit checked
        keeps what the visit found, unless `checked` (the visit itself) writes it."""
        if not days:
            return
        dialect_insert = pg_insert if self.postgresql else sqlite_insert
        statement = dialect_insert(Presence).values(
            [
                {"reservation_id": reservation_id, "day": day, "present": present,
                 "checked": checked}
                for day, present in sorted(days.items())
            ]
        )  # fmt: skip
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["reservation_id", "day"],
                set_={"present": statement.excluded.present, "checked": statement.excluded.checked},
                where=None if checked else Presence.checked.is_(False),
            )
        )

    def present_days(self, reservation_id: int) -> int:
        query = select(func.count()).where(
            Presence.reservation_id == reservation_id, Presence.present.is_(True)
        )
        return int(self.session.execute(query).scalar_one())

    # reports ----------------------------------------------------------------------------------
    def report(self, kind: str, period: str, scope: str) -> Report | None:
        query = select(Report).where(
            Report.kind == kind, Report.period == period, Report.scope == scope
        )
        return self.session.scalars(query).one_or_none()

    def reports(self, kind: str, period: str) -> Sequence[Report]:
        query = select(Report).where(Report.kind == kind, Report.period == period)
        return self.session.scalars(query.order_by(Report.scope)).all()

    def add_report(self, report: Report) -> None:
        self.session.add(report)
        self.session.flush()

    def state_counts(self, office_id: int | None = None) -> dict[str, int]:
        query = (
            select(Case.state, func.count())
            .join(Application, Application.case_id == Case.id)
            .group_by(Case.state)
        )
        if office_id is not None:
            query = query.where(Application.office_id == office_id)
        return {state: int(count) for state, count in self.session.execute(query)}

    def trigger_counts(self) -> dict[str, int]:
        """Transitions made on placement cases, by trigger."""
        query = (
            select(CaseEvent.trigger, func.count())
            .join(Application, Application.case_id == CaseEvent.case_id)
            .group_by(CaseEvent.trigger)
        )
        return {trigger: int(count) for trigger, count in self.session.execute(query)}

    def stop(self, year: int, at: datetime | None, reason: str | None) -> None:
        self.session.execute(
            update(BudgetYear)
            .where(BudgetYear.year == year)
            .values(stopped_at=at, stop_reason=reason)
        )


def _usable(on: date) -> Any:
    """A convention in force on `on` (not ended early) with a registered, not suspended
    facility."""
    return and_(
        Convention.valid_from <= on,
        Convention.valid_until >= on,
        or_(Convention.ended_on.is_(None), Convention.ended_on > on),
        Facility.registered.is_(True),
        Facility.suspended.is_(False),
    )

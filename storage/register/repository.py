"""The register's SQL: its entries, procedures, reports, visits, prescriptions, publications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Case, CaseEvent, OutboxMessage, OutboxStatus
from storage.register.models import (
    ChangeReport,
    Prescription,
    Procedure,
    Publication,
    RegisterEntry,
    Visit,
)
from storage.unit_of_work import UnitOfWork


class RegisterRepository:
    def __init__(self, session: Session, postgresql: bool) -> None:
        self.session, self.postgresql = session, postgresql

    @classmethod
    def of(cls, uow: UnitOfWork) -> RegisterRepository:
        return cls(uow.session, uow.postgresql)

    # entries ------------------------------------------------------------------------------------
    def entry(self, case_id: int) -> RegisterEntry | None:
        return self.session.get(RegisterEntry, case_id)

    def entry_by_code(self, code: str) -> RegisterEntry | None:
        found = select(RegisterEntry).where(RegisterEntry.code == code)
        return self.session.scalars(found).one_or_none()

    def entries(self) -> Sequence[tuple[RegisterEntry, Case]]:
        """Every entry with its case, by section and code."""
        rows = (
            select(RegisterEntry, Case)
            .join(Case, Case.id == RegisterEntry.case_id)
            .order_by(RegisterEntry.section, RegisterEntry.code)
        )
        return [(entry, case) for entry, case in self.session.execute(rows)]

    def last_change(self) -> datetime | None:
        return self.session.scalar(select(func.max(RegisterEntry.changed_at)))

    # procedures ---------------------------------------------------------------------------------
    def procedure(self, case_id: int) -> Procedure | None:
        return self.session.get(Procedure, case_id)

    def procedure_in_progress(self, facility_case_id: int) -> Procedure | None:
        found = select(Procedure).where(
            Procedure.facility_case_id == facility_case_id, Procedure.in_progress.is_(True)
        )
        return self.session.scalars(found).one_or_none()

    def procedure_acts(self, facility_case_id: int) -> dict[str, str]:
        """Each cancellation procedure of the facility -> the trigger of its last event."""
        last = (
            select(CaseEvent.case_id, func.max(CaseEvent.sequence).label("sequence"))
            .join(Procedure, Procedure.case_id == CaseEvent.case_id)
            .where(Procedure.facility_case_id == facility_case_id)
            .group_by(CaseEvent.case_id)
            .subquery()
        )
        rows = (
            select(Case.reference, CaseEvent.trigger)
            .join(last, last.c.case_id == Case.id)
            .join(
                CaseEvent,
                (CaseEvent.case_id == last.c.case_id) & (CaseEvent.sequence == last.c.sequence),
            )
        )
        return {reference: trigger for reference, trigger in self.session.execute(rows)}

    def last_event_at(self, case_id: int, triggers: Sequence[str]) -> datetime | None:
        """When the last of `triggers` took effect on the case (a notice sent)."""
        found = select(func.max(CaseEvent.effective_at)).where(
            CaseEvent.case_id == case_id, CaseEvent.trigger.in_(triggers)
        )
        return self.session.scalar(found)

    # reports, visits, prescriptions -------------------------------------------------------------
    def reports(self, facility_case_id: int) -> Sequence[ChangeReport]:
        found = select(ChangeReport).where(ChangeReport.facility_case_id == facility_case_id)
        return self.session.scalars(found.order_by(ChangeReport.id)).all()

    def visits(self, facility_case_id: int) -> Sequence[Visit]:
        found = select(Visit).where(Visit.facility_case_id == facility_case_id)
        return self.session.scalars(found.order_by(Visit.visited_on, Visit.id)).all()

    def last_visits(self) -> dict[int, date]:
        """Facility case -> the day of its last visit."""
        rows = select(Visit.facility_case_id, func.max(Visit.visited_on)).group_by(
            Visit.facility_case_id
        )
        return {case_id: day for case_id, day in self.session.execute(rows)}

    def prescriptions(self, facility_case_id: int) -> Sequence[Prescription]:
        found = select(Prescription).where(Prescription.facility_case_id == facility_case_id)
        return self.session.scalars(found.order_by(Prescription.number)).all()

    def open_prescriptions(self) -> Sequence[tuple[Prescription, str]]:
        """Prescriptions without an outcome, with their facility's reference, by deadline."""
        rows = (
            select(Prescription, Case.reference)
            .join(Case, Case.id == Prescription.facility_case_id)
            .where(Prescription.outcome.is_(None))
            .order_by(Prescription.due_on, Prescription.id)
        )
        return [(p, reference) for p, reference in self.session.execute(rows)]

    def pending_signals(self, topic: str) -> list[int]:
        """The pending outbox rows of `topic` (a republication the register's changes asked)."""
        found = select(OutboxMessage.id).where(
            OutboxMessage.topic == topic, OutboxMessage.status == OutboxStatus.PENDING
        )
        return [int(i) for i in self.session.scalars(found.order_by(OutboxMessage.id))]

    # publications -------------------------------------------------------------------------------
    def last_publication(self) -> Publication | None:
        found = select(Publication).order_by(Publication.published_at.desc(), Publication.id.desc())
        return self.session.scalars(found.limit(1)).first()

"""The SQL of probation: persons, programme versions, the days of the LPU part."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Case, Timer, TimerStatus
from storage.probation.models import LpuDay, ProbationPerson, ProgrammeVersion
from storage.unit_of_work import UnitOfWork


class ProbationRepository:
    def __init__(self, session: Session, postgresql: bool) -> None:
        self.session, self.postgresql = session, postgresql

    @classmethod
    def of(cls, uow: UnitOfWork) -> ProbationRepository:
        return cls(uow.session, uow.postgresql)

    def add_person(self, case_id: int, person_key: str) -> None:
        self.session.add(ProbationPerson(case_id=case_id, person_key=person_key))

    def others_of_person(self, case_id: int) -> Sequence[tuple[str, str]]:
        """(reference, state) of the other probations of the person of case `case_id`."""
        key = select(ProbationPerson.person_key).where(ProbationPerson.case_id == case_id)
        query = (
            select(Case.reference, Case.state)
            .join(ProbationPerson, ProbationPerson.case_id == Case.id)
            .where(ProbationPerson.person_key == key.scalar_subquery(), Case.id != case_id)
            .order_by(Case.id)
        )
        return [(row.reference, row.state) for row in self.session.execute(query)]

    def add_programme(self, row: ProgrammeVersion) -> None:
        self.session.add(row)

    def programmes(self, case_id: int) -> Sequence[ProgrammeVersion]:
        query = select(ProgrammeVersion).where(ProgrammeVersion.case_id == case_id)
        return self.session.scalars(query.order_by(ProgrammeVersion.version)).all()

    def last_version(self, case_id: int) -> int:
        query = select(func.max(ProgrammeVersion.version)).where(
            ProgrammeVersion.case_id == case_id
        )
        return int(self.session.scalar(query) or 0)

    def add_lpu_day(self, case_id: int, placement: str, day: date) -> None:
        """Record a day of the LPU part, once (a second session that day is the same day)."""
        exists = select(LpuDay.id).where(LpuDay.case_id == case_id, LpuDay.day == day)
        if self.session.scalar(exists) is None:
            self.session.add(LpuDay(case_id=case_id, placement=placement, day=day))

    def lpu_days(self, case_id: int) -> int:
        query = select(func.count()).select_from(LpuDay).where(LpuDay.case_id == case_id)
        return int(self.session.scalar(query) or 0)

    def by_reference(self, reference: str) -> int | None:
        query = select(Case.id).where(Case.reference == reference, Case.kind == "probation")
        return self.session.scalar(query)

    def open_cases(self, states: Sequence[str]) -> Sequence[Case]:
        """The probations stored in `states` (the caller judges them in law)."""
        query = select(Case).where(Case.kind == "probation", Case.state.in_(states))
        return self.session.scalars(query.order_by(Case.id)).all()

    def pending_timers(self, case_ids: Sequence[int]) -> dict[int, list[Timer]]:
        """The pending timers of the cases `case_ids`, by case, in due order."""
        if not case_ids:
            return {}
        query = (
            select(Timer)
            .where(Timer.case_id.in_(case_ids), Timer.status == TimerStatus.PENDING)
            .order_by(Timer.due_at)
        )
        found: dict[int, list[Timer]] = {}
        for timer in self.session.scalars(query):
            found.setdefault(timer.case_id, []).append(timer)
        return found

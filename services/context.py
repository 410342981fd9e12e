"""What every service needs: the database, the configured machines and the clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from machines.registry import load_machines
from machines.spec import CaseMachine
from services.clock import Clock
from services.errors import UnknownKind
from services.settings import Settings
from storage.database import make_engine, make_session_factory
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Context:
    db: Engine
    machines: Mapping[str, CaseMachine]
    clock: Clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> Context:
        return cls(
            db=make_engine(settings.database_url),
            machines=load_machines(settings.machine_modules),
            clock=clock,
        )

    @cached_property
    def _sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.db)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self._sessions)

    def machine(self, kind: str) -> CaseMachine:
        try:
            return self.machines[kind]
        except KeyError:
            raise UnknownKind(kind, tuple(self.machines)) from None

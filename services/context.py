"""What every service needs: the database, the configured procedures and their machines, and
the clock. Built in one place (`Context.build`, `Context.from_settings`): the CLI, the API, the
flows, the benchmarks and the tests all start here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from machines.registry import load_machines
from machines.spec import CaseMachine
from services.applied import Applied
from services.clock import Clock
from services.errors import UnknownKind
from services.procedure import (
    NoticeContext,
    NoticeType,
    Procedure,
    SignalHandler,
    load_procedures,
)
from services.settings import Settings
from storage.database import make_engine, make_session_factory, readonly
from storage.repository import Repository
from storage.unit_of_work import UnitOfWork


@cache
def shared_engine(url: str) -> Engine:
    """One engine (one connection pool) per database for a whole process: the tasks of a flow
    run share it."""
    return make_engine(url)


@dataclass(frozen=True)
class Context:
    db: Engine
    machines: Mapping[str, CaseMachine]
    clock: Clock
    procedures: tuple[Procedure, ...] = ()

    @classmethod
    def build(
        cls,
        db: Engine,
        clock: Clock,
        procedures: Iterable[str] = (),
        machine_modules: Iterable[str] = (),
    ) -> Context:
        """The context of the procedures declared by the modules `procedures`, and of the bare
        machines of `machine_modules` (kinds without effects: the engine's own tests)."""
        loaded = load_procedures(procedures)
        machines = dict(load_machines(machine_modules))
        for procedure in loaded:
            for machine in procedure.machines:
                if machine.kind in machines:
                    raise ValueError(f"case kind {machine.kind} is declared twice")
                machines[machine.kind] = machine
        return cls(db=db, machines=machines, clock=clock, procedures=loaded)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock, db: Engine | None = None) -> Context:
        return cls.build(
            db or make_engine(settings.database_url),
            clock,
            settings.procedures,
            settings.machine_modules,
        )

    @cached_property
    def _sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.db)

    @cached_property
    def _read_sessions(self) -> sessionmaker[Session]:
        return make_session_factory(readonly(self.db))

    def uow(self) -> UnitOfWork:
        """A unit of work that writes (on SQLite, it waits for and holds the one writer)."""
        return UnitOfWork(self.db, self._sessions)

    def read(self) -> UnitOfWork:
        """A read unit: a consistent snapshot that never commits, and on SQLite never waits for
        a writer nor holds one up."""
        return UnitOfWork(self.db, self._read_sessions, read_only=True)

    def machine(self, kind: str) -> CaseMachine:
        try:
            return self.machines[kind]
        except KeyError:
            raise UnknownKind(kind, tuple(self.machines)) from None

    # what the procedures plug in ---------------------------------------------------------------
    def apply_effects(self, repo: Repository, applied: Applied) -> None:
        """The procedure's effect of the transition just written, in its transaction, then
        the reactions of every procedure to what it announced (each may announce in turn)."""
        for procedure in self.procedures:
            effect = procedure.effects.get(applied.kind, {}).get(applied.trigger)
            if effect is not None:
                effect(repo, applied)
        heard = 0
        while heard < len(applied.announced):
            topic, message = applied.announced[heard]
            heard += 1
            for procedure in self.procedures:
                reaction = procedure.reactions.get(topic)
                if reaction is not None:
                    reaction(repo, applied, message)

    def provided(self, name: str) -> Callable[..., Any] | None:
        """The service a configured procedure provides under `name`, if one does."""
        return next((p.provides[name] for p in self.procedures if name in p.provides), None)

    def announced_by_some(self, topic: str) -> bool:
        """Whether a configured procedure announces on `topic` (whether anyone keeps, say, a
        register of facilities)."""
        return any(topic in procedure.announces for procedure in self.procedures)

    def facts(self, repo: Repository, kind: str, case_id: int, now: datetime) -> Mapping[str, Any]:
        for procedure in self.procedures:
            if kind in procedure.facts:
                return procedure.facts[kind](repo, case_id, now)
        return {}

    def summary(
        self, repo: Repository, kind: str, case_id: int, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        for procedure in self.procedures:
            if kind in procedure.summaries:
                return procedure.summaries[kind](repo, case_id, data)
        return {}

    def notice_context(self, kind: str) -> NoticeContext | None:
        found = (p.notice_context[kind] for p in self.procedures if kind in p.notice_context)
        return next(found, None)

    def notice_type(self, kind: str, template: str) -> NoticeType | None:
        """The subject and addressees the procedure of `kind` declares for its notices of
        `template`."""
        owners = (p for p in self.procedures if any(m.kind == kind for m in p.machines))
        return next((p.notices[template] for p in owners if template in p.notices), None)

    def token_roles(self) -> dict[str, str]:
        """The API clients' roles the procedures serve beyond court registries, with their
        Italian names."""
        return {role: name for p in self.procedures for role, name in p.token_roles.items()}

    def signal_handler(self, topic: str) -> SignalHandler | None:
        return next((p.signals[topic] for p in self.procedures if topic in p.signals), None)

    @property
    def template_folders(self) -> tuple[Path, ...]:
        return tuple(p.templates for p in self.procedures if p.templates is not None)

    @property
    def table_modules(self) -> tuple[str, ...]:
        return tuple(module for p in self.procedures for module in p.tables)

    @property
    def migration_folders(self) -> tuple[Path, ...]:
        return tuple(p.migrations for p in self.procedures if p.migrations is not None)

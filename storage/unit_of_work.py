"""The unit of work: one transaction that rolls back unless the service commits it; a read unit
never commits, and on SQLite it neither waits for the writer nor holds it up."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.database import is_postgresql, make_session_factory, readonly, writer_lock
from storage.outgoing import OutgoingRepository
from storage.registry import RegistryRepository
from storage.repository import Repository


class UnitOfWork:
    """`with uow:` opens a session; leaving without `commit()` rolls everything back.

    A `read_only` unit reads a consistent snapshot and refuses to commit: on SQLite it begins a
    deferred transaction and leaves the writer lock alone, on PostgreSQL it is READ ONLY.
    `factory` must then be bound to `readonly(engine)`."""

    def __init__(
        self,
        engine: Engine,
        factory: sessionmaker[Session] | None = None,
        read_only: bool = False,
    ) -> None:
        self.engine = engine
        self.read_only = read_only
        self.postgresql = is_postgresql(engine)
        self._factory = factory or make_session_factory(readonly(engine) if read_only else engine)
        self._session: Session | None = None
        self._lock = None if read_only else writer_lock(engine)

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    @property
    def repo(self) -> Repository:
        return Repository(self.session, self.postgresql)

    @property
    def outgoing(self) -> OutgoingRepository:
        return OutgoingRepository(self.session, self.postgresql)

    @property
    def registry(self) -> RegistryRepository:
        return RegistryRepository(self.session)

    def __enter__(self) -> UnitOfWork:
        if self._session is not None:
            raise RuntimeError("the unit of work is already open")
        if self._lock is not None:
            self._lock.acquire()
        try:
            self._session = self._factory()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches the objects read, which
        # keep their loaded values for the caller.
        try:
            self.session.close()
        finally:
            self._session = None
            if self._lock is not None:
                self._lock.release()

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read unit of work does not commit")
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

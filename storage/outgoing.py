"""Queries on what leaves an office: letterheads and addressees (reference data), the outgoing
protocol register, and the protected identities for the identification annex. It never
commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import (
    Addressee,
    Identity,
    Letterhead,
    ProtocolCounter,
    ProtocolEntry,
    ProtocolStatus,
)

COUNTERS = cast(Table, ProtocolCounter.__table__)


@dataclass
class OutgoingRepository:
    session: Session
    postgresql: bool

    # reference data ---------------------------------------------------------------------------
    def letterhead(self, office: str) -> Letterhead | None:
        return self.session.get(Letterhead, office)

    def letterheads(self) -> Sequence[Letterhead]:
        return self.session.scalars(select(Letterhead).order_by(Letterhead.office)).all()

    def put_letterhead(self, letterhead: Letterhead) -> None:
        self.session.merge(letterhead)

    def addressees(self, names: Sequence[str]) -> dict[str, str]:
        """The certified e-mail of each of `names` the reference data know."""
        if not names:
            return {}
        rows = self.session.execute(
            select(Addressee.name, Addressee.pec).where(Addressee.name.in_(names))
        )
        return {name: pec for name, pec in rows}

    def all_addressees(self) -> Sequence[Addressee]:
        return self.session.scalars(select(Addressee).order_by(Addressee.name)).all()

    def put_addressee(self, addressee: Addressee) -> None:
        self.session.merge(addressee)

    def identity(self, case_id: int) -> Identity | None:
        return self.session.get(Identity, case_id)

    def put_identity(self, identity: Identity) -> None:
        self.session.merge(identity)

    # the protocol register --------------------------------------------------------------------
    def entry_of_outbox(self, outbox_id: int) -> ProtocolEntry | None:
        return self.session.scalars(
            select(ProtocolEntry).where(ProtocolEntry.outbox_id == outbox_id)
        ).one_or_none()

    def next_protocol_number(self, office: str, year: int) -> int:
        """The next number of `office`'s register in `year`: the counter row is upserted and
        stays locked until the transaction ends, so that the number and its entry are written
        together or not at all (gap-free)."""
        dialect_insert = pg_insert if self.postgresql else sqlite_insert
        statement = (
            dialect_insert(COUNTERS)
            .values(office=office, year=year, last=1)
            .on_conflict_do_update(
                index_elements=[COUNTERS.c.office, COUNTERS.c.year],
                set_={"last": COUNTERS.c.last + 1},
            )
            .returning(COUNTERS.c.last)
        )
        return int(self.session.execute(statement).scalar_one())

    def add_entry(self, entry: ProtocolEntry) -> None:
        self.session.add(entry)
        self.session.flush()

    def seal_entry(self, outbox_id: int, sha256: str) -> None:
        """Write the fingerprint of the document issued under the entry of `outbox_id`."""
        self.session.execute(
            update(ProtocolEntry)
            .where(ProtocolEntry.outbox_id == outbox_id)
            .values(sha256=sha256)
            .execution_options(synchronize_session=False)
        )

    def annul_entry(self, outbox_id: int, reason: str) -> None:
        """Mark the entry of a notice that will not be issued as annulled (art. 54 D.P.R.
        445/2000): its number stays in the register, never given again."""
        self.session.execute(
            update(ProtocolEntry)
            .where(
                and_(
                    ProtocolEntry.outbox_id == outbox_id,
                    ProtocolEntry.status == ProtocolStatus.REGISTERED,
                    ProtocolEntry.sha256.is_(None),
                )
            )
            .values(status=ProtocolStatus.ANNULLED, annulled_reason=reason[:2000])
            .execution_options(synchronize_session=False)
        )

    def entries_between(
        self, office: str, start: datetime, end: datetime
    ) -> Sequence[ProtocolEntry]:
        """`office`'s registrations from `start` (included) to `end` (excluded), by number."""
        return self.session.scalars(
            select(ProtocolEntry)
            .where(
                ProtocolEntry.office == office,
                ProtocolEntry.registered_at >= start,
                ProtocolEntry.registered_at < end,
            )
            .order_by(ProtocolEntry.year, ProtocolEntry.number)
        ).all()

    def entries_of_year(self, office: str, year: int) -> Sequence[ProtocolEntry]:
        return self.session.scalars(
            select(ProtocolEntry)
            .where(ProtocolEntry.office == office, ProtocolEntry.year == year)
            .order_by(ProtocolEntry.number)
        ).all()

    def protocol_offices(self) -> Sequence[str]:
        return self.session.scalars(
            select(ProtocolEntry.office).distinct().order_by(ProtocolEntry.office)
        ).all()

"""Reads and writes of the trail's audit: the chains as stored, the heads a seal covers, the
seals themselves (append-only, like the events)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.chain import digest_bytes
from storage.models import AuditSeal, Case, CaseEvent, Document

BATCH = 1000


@dataclass(frozen=True)
class ChainedCase:
    id: int
    reference: str
    version: int
    data: dict[str, Any]


@dataclass(frozen=True)
class StoredDocument:
    id: int
    case_id: int
    template: str
    sha256: str
    pdf_sha256: str
    html_sha256: str


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def cases(self, reference: str | None = None) -> Sequence[ChainedCase]:
        query = select(Case.id, Case.reference, Case.version, Case.data).order_by(Case.id)
        if reference is not None:
            query = query.where(Case.reference == reference)
        return [ChainedCase(*row) for row in self.session.execute(query)]

    def events(self, case_id: int | None = None) -> Iterator[CaseEvent]:
        """Every event (or case `case_id`'s), by case and sequence, read in batches."""
        query = select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.sequence)
        if case_id is not None:
            query = query.where(CaseEvent.case_id == case_id)
        yield from self.session.scalars(query.execution_options(yield_per=BATCH))

    def documents(self, case_id: int | None = None) -> Iterator[StoredDocument]:
        """Every rendered document with the SHA-256 of its PDF and HTML as stored now."""
        query = select(
            Document.id, Document.case_id, Document.template, Document.sha256, Document.pdf,
            Document.html,
        ).order_by(Document.id)  # fmt: skip
        if case_id is not None:
            query = query.where(Document.case_id == case_id)
        for row in self.session.execute(query.execution_options(yield_per=100)):
            yield StoredDocument(
                row.id, row.case_id, row.template, row.sha256, digest_bytes(row.pdf),
                digest_bytes(row.html.encode("utf-8")),
            )  # fmt: skip

    def heads(self) -> list[list[Any]]:
        """[reference, sequence, hash] of every case's last event, by reference."""
        rows = self.session.execute(
            select(Case.reference, CaseEvent.sequence, CaseEvent.hash)
            .join(
                CaseEvent,
                (CaseEvent.case_id == Case.id) & (CaseEvent.sequence == Case.version),
            )
            .order_by(Case.reference)
        )
        return [[reference, sequence, hash_] for reference, sequence, hash_ in rows]

    def seals(self) -> Sequence[AuditSeal]:
        return self.session.scalars(select(AuditSeal).order_by(AuditSeal.day)).all()

    def seal_of(self, day: date) -> AuditSeal | None:
        return self.session.scalars(select(AuditSeal).where(AuditSeal.day == day)).one_or_none()

    def last_seal(self) -> AuditSeal | None:
        return self.session.scalars(
            select(AuditSeal).order_by(AuditSeal.day.desc()).limit(1)
        ).one_or_none()

    def add_seal(
        self,
        day: date,
        sealed_at: datetime,
        previous: str | None,
        digest: str,
        entries: list[list[Any]],
    ) -> AuditSeal:
        """Insert a day's seal; `IntegrityError` if that day is sealed already."""
        seal = AuditSeal(
            day=day, sealed_at=sealed_at, previous=previous, digest=digest, cases=len(entries),
            events=sum(int(entry[1]) for entry in entries), entries=entries,
        )  # fmt: skip
        self.session.add(seal)
        self.session.flush()
        return seal

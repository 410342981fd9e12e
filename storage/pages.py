"""Queries behind the case workers' pages: which cases changed since their page was published
(`case_changes`, kept by database triggers), where each page was published from
(`case_pages`), what the work queues list (the cases of an office or a court, their next
deadline, the deadlines coming, the incidents), what work is due for the jobs, and the
incidents put back to work. It never commits."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import (
    Case,
    CaseChange,
    CasePage,
    Delivery,
    DeliveryStatus,
    Document,
    OutboxMessage,
    OutboxStatus,
    PageArtifact,
    ProtocolEntry,
    Timer,
    TimerStatus,
)

PAGES = cast(Table, CasePage.__table__)
INCIDENT_DELIVERIES = (DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN)


@dataclass(frozen=True)
class Changed:
    case_id: int
    reference: str
    generation: int


@dataclass(frozen=True)
class Listed:
    """A case as a queue lists it."""

    case_id: int
    reference: str
    kind: str
    state: str
    updated_at: datetime
    office: str
    office_name: str
    court: str | None


@dataclass(frozen=True)
class Due:
    """A pending timer: a legal term, or a reminder that issues a notice."""

    case_id: int
    name: str
    due_at: datetime
    fires: str | None
    notice: str | None


@dataclass(frozen=True)
class Incident:
    """What failed every attempt on a case and needs a person: a timer, a notice that could
    not be issued, a message not delivered."""

    case_id: int
    what: str  # "timer", "notice", "delivery"
    name: str  # the timer, the template, the addressee
    detail: str


@dataclass(frozen=True)
class Issued:
    """A notice of a case with its protocol registration and its messages."""

    template: str
    rendered_at: datetime
    signature: str
    office: str | None
    year: int | None
    number: int | None
    subject: str | None
    messages: dict[str, int]  # delivery status -> how many


@dataclass
class PageRepository:
    session: Session
    postgresql: bool

    # changes ---------------------------------------------------------------------------------
    def changed(self, limit: int, after: int = 0, held: Collection[int] = ()) -> list[Changed]:
        query = (
            select(CaseChange.case_id, Case.reference, CaseChange.generation)
            .join(Case, Case.id == CaseChange.case_id)
            .where(CaseChange.case_id > after)
        )
        if held:
            query = query.where(CaseChange.case_id.not_in(held))
        rows = self.session.execute(query.order_by(CaseChange.case_id).limit(limit)).all()
        return [Changed(row[0], row[1], row[2]) for row in rows]

    def settle(self, changes: Iterable[Changed]) -> int:
        """Forget the changes whose page is published; a change that came after (a higher
        generation) stays, so that its page is published again."""
        settled = 0
        for change in changes:
            done = self.session.execute(
                delete(CaseChange).where(
                    CaseChange.case_id == change.case_id,
                    CaseChange.generation == change.generation,
                )
            )
            settled += int(getattr(done, "rowcount", 0) or 0)
        return settled

    def routes_of(self, case_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """The office and court each case's page was last published under."""
        if not case_ids:
            return {}
        rows = self.session.execute(
            select(CasePage.case_id, CasePage.office, CasePage.court).where(
                CasePage.case_id.in_(case_ids)
            )
        ).all()
        return {row[0]: (row[1], row[2]) for row in rows}

    def save_route(
        self, case_id: int, office: str, office_name: str, court: str | None, at: datetime
    ) -> None:
        insert = pg_insert if self.postgresql else sqlite_insert
        values = {"office": office, "office_name": office_name, "court": court}
        statement = insert(PAGES).values(case_id=case_id, published_at=at, **values)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[PAGES.c.case_id], set_={**values, "published_at": at}
            )
        )

    def artifact_ids(self, keys: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(PageArtifact.key, PageArtifact.artifact).where(
                    PageArtifact.key.in_(wanted[start : start + 500])
                )
            ).all()
            found.update({row[0]: row[1] for row in rows})
        return found

    def save_artifact(self, key: str, artifact: str, at: datetime) -> None:
        insert = pg_insert if self.postgresql else sqlite_insert
        table = cast(Table, PageArtifact.__table__)
        statement = insert(table).values(key=key, artifact=artifact, updated_at=at)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.key], set_={"artifact": artifact, "updated_at": at}
            )
        )

    # work due --------------------------------------------------------------------------------
    def pending_messages(self, topic: str) -> int:
        """Outbox messages of `topic` waiting to be served."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.topic == topic, OutboxMessage.status == OutboxStatus.PENDING)
            )
            or 0
        )

    def deliveries_due(self, now: datetime) -> int:
        """Messages to send now (never tried, or retried after a refusal)."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
            )
            or 0
        )

    # queues ----------------------------------------------------------------------------------
    def listed(self, office: str | None = None, court: str | None = None) -> list[Listed]:
        query = select(
            Case.id,
            Case.reference,
            Case.kind,
            Case.state,
            Case.updated_at,
            CasePage.office,
            CasePage.office_name,
            CasePage.court,
        ).join(CasePage, CasePage.case_id == Case.id)
        if office is not None:
            query = query.where(CasePage.office == office)
        if court is not None:
            query = query.where(CasePage.court == court)
        rows = self.session.execute(query.order_by(Case.reference)).all()
        return [Listed(*row) for row in rows]

    def routes(self) -> list[tuple[str, str, str | None]]:
        """Every (office, office name, court) a page was published from."""
        rows = self.session.execute(
            select(CasePage.office, CasePage.office_name, CasePage.court).distinct()
        ).all()
        return [(row[0], row[1], row[2]) for row in rows]

    def pending_timers(self, case_ids: Sequence[int] | None = None) -> list[Due]:
        query = select(Timer.case_id, Timer.name, Timer.due_at, Timer.fires, Timer.notice).where(
            Timer.status == TimerStatus.PENDING
        )
        if case_ids is not None:
            query = query.where(Timer.case_id.in_(case_ids))
        rows = self.session.execute(query.order_by(Timer.due_at, Timer.id)).all()
        return [Due(*row) for row in rows]

    def incidents(self, case_ids: Sequence[int] | None = None) -> list[Incident]:
        found: list[Incident] = []
        timers = select(Timer.case_id, Timer.name, Timer.last_error).where(
            Timer.status == TimerStatus.FAILED
        )
        outbox = select(OutboxMessage.case_id, OutboxMessage.payload, OutboxMessage.topic)
        outbox = outbox.add_columns(OutboxMessage.last_error).where(
            OutboxMessage.status == OutboxStatus.FAILED
        )
        deliveries = select(
            Delivery.case_id, Delivery.addressee, Delivery.status, Delivery.last_error
        ).where(Delivery.status.in_([str(s) for s in INCIDENT_DELIVERIES]))
        if case_ids is not None:
            timers = timers.where(Timer.case_id.in_(case_ids))
            outbox = outbox.where(OutboxMessage.case_id.in_(case_ids))
            deliveries = deliveries.where(Delivery.case_id.in_(case_ids))
        for case_id, name, error in self.session.execute(timers).all():
            found.append(Incident(case_id, "timer", name, error or ""))
        for case_id, payload, topic, error in self.session.execute(outbox).all():
            template = str((payload or {}).get("template", topic))
            found.append(Incident(case_id, "notice", template, error or ""))
        for case_id, addressee, status, error in self.session.execute(deliveries).all():
            found.append(Incident(case_id, "delivery", addressee, f"{status}: {error or ''}"))
        return found

    def undelivered(self, case_ids: Sequence[int] | None = None) -> dict[int, int]:
        """Case -> its messages not delivered yet (waiting for an attempt or failed)."""
        query = (
            select(Delivery.case_id, func.count())
            .where(Delivery.status != DeliveryStatus.SENT)
            .group_by(Delivery.case_id)
        )
        if case_ids is not None:
            query = query.where(Delivery.case_id.in_(case_ids))
        return {row[0]: int(row[1]) for row in self.session.execute(query).all()}

    # a case's notices ------------------------------------------------------------------------
    def issued(self, case_id: int) -> list[Issued]:
        rows = self.session.execute(
            select(
                Document.id,
                Document.template,
                Document.rendered_at,
                Document.signature,
                ProtocolEntry.office,
                ProtocolEntry.year,
                ProtocolEntry.number,
                ProtocolEntry.subject,
            )
            .outerjoin(ProtocolEntry, ProtocolEntry.outbox_id == Document.outbox_id)
            .where(Document.case_id == case_id)
            .order_by(Document.id)
        ).all()
        messages: dict[int, dict[str, int]] = {}
        for document_id, status, count in self.session.execute(
            select(Delivery.document_id, Delivery.status, func.count())
            .where(Delivery.case_id == case_id)
            .group_by(Delivery.document_id, Delivery.status)
        ).all():
            messages.setdefault(document_id, {})[status] = int(count)
        return [
            Issued(row[1], row[2], row[3], row[4], row[5], row[6], row[7], messages.get(row[0], {}))
            for row in rows
        ]

    def retry_timers(self, case_id: int, at: datetime) -> list[str]:
        """The case's failed timers, pending again and due for the sweep at once."""
        failed = self.session.scalars(
            select(Timer).where(and_(Timer.case_id == case_id, Timer.status == TimerStatus.FAILED))
        ).all()
        for timer in failed:
            timer.status = TimerStatus.PENDING
            timer.attempts = 0
            timer.run_at = at
            timer.resolved_at = None
        return [timer.name for timer in failed]

    def failed_notices(self, case_id: int) -> Sequence[OutboxMessage]:
        return self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id, OutboxMessage.status == OutboxStatus.FAILED)
            .order_by(OutboxMessage.id)
        ).all()

    def supersede(self, message: OutboxMessage, at: datetime) -> None:
        """A failed message put back to work as a new one: done, saying so."""
        message.status = OutboxStatus.DONE
        message.processed_at = at
        message.last_error = f"ripresa in un nuovo messaggio ({message.last_error or ''})"[:2000]

    def failed_deliveries(self, case_id: int) -> Sequence[Delivery]:
        return self.session.scalars(
            select(Delivery).where(
                Delivery.case_id == case_id, Delivery.status == DeliveryStatus.FAILED
            )
        ).all()

    def retry_deliveries(self, case_id: int, addresses: dict[str, str], at: datetime) -> list[str]:
        """The case's refused messages, to send again at once, each to its addressee's
        certified e-mail as the reference data give it now. An uncertain message is not among
        them: it may have been delivered, and only its receipt (or a person who checked) says
        whether to send it again."""
        failed = self.failed_deliveries(case_id)
        for delivery in failed:
            delivery.address = addresses.get(delivery.addressee, delivery.address)
            delivery.status = DeliveryStatus.PENDING
            delivery.attempts = 0
            delivery.next_attempt_at = at
        return [delivery.addressee for delivery in failed]

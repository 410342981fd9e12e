"""What the services hand to the entry points: plain, frozen values, never ORM rows (which
would carry the session's lazy loads and writes out of the unit of work)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import Case, CaseEvent, Document, RegistryToken, Timer


@dataclass(frozen=True)
class CaseRecord:
    reference: str
    kind: str
    state: str  # as stored; `CaseDetail.state` is the state in law
    version: int
    data: dict[str, Any]
    opened_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Case) -> CaseRecord:
        return cls(
            row.reference, row.kind, row.state, row.version, dict(row.data), row.opened_at,
            row.updated_at,
        )  # fmt: skip


@dataclass(frozen=True)
class TimerRecord:
    name: str
    state: str
    fires: str | None
    notice: str | None
    legal_basis: str
    due_at: datetime
    status: str
    attempts: int
    last_error: str | None
    created_by_event_id: int  # the event that started its term

    @classmethod
    def of(cls, row: Timer) -> TimerRecord:
        return cls(
            row.name, row.state, row.fires, row.notice, row.legal_basis, row.due_at, row.status,
            row.attempts, row.last_error, row.created_by_event_id,
        )  # fmt: skip


@dataclass(frozen=True)
class EventRecord:
    id: int
    sequence: int
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    payload: dict[str, Any]
    legal_basis: str
    idempotency_key: str | None
    occurred_at: datetime  # when it was recorded
    effective_at: datetime  # when it took effect in law
    repeats: int = 0  # the same message received again, counted here (late decisions)

    @classmethod
    def of(cls, row: CaseEvent, repeats: int = 0) -> EventRecord:
        return cls(
            row.id, row.sequence, row.trigger, row.from_state, row.to_state, row.actor,
            dict(row.payload), row.legal_basis, row.idempotency_key, row.occurred_at,
            row.effective_at, repeats,
        )  # fmt: skip


@dataclass(frozen=True)
class DocumentRecord:
    id: int
    outbox_id: int
    event_id: int
    template: str
    sha256: str
    rendered_at: datetime
    pdf: bytes

    @classmethod
    def of(cls, row: Document) -> DocumentRecord:
        return cls(
            row.id, row.outbox_id, row.event_id, row.template, row.sha256, row.rendered_at, row.pdf
        )


@dataclass(frozen=True)
class TokenRecord:
    id: int
    court: str  # the party it acts for: the court, for a court registry
    label: str
    created_at: datetime
    revoked_at: datetime | None
    role: str

    @classmethod
    def of(cls, row: RegistryToken) -> TokenRecord:
        return cls(row.id, row.court, row.label, row.created_at, row.revoked_at, row.role)

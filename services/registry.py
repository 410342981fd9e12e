"""Court registries as API clients: one token per registry, shown once, stored as a hash,
revocable; and the memory of their write requests, so that a retried request gets its first
answer (the same key with another body is a conflict)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.context import Context
from services.errors import DomainError, InvalidInput
from storage.models import ApiRequest, RegistryToken
from storage.unit_of_work import UnitOfWork

PREFIX = "mrt"  # misure registry token


class TokenNotFound(DomainError):
    status = 404
    code = "unknown_token"


@dataclass(frozen=True)
class Registry:
    """An authenticated registry: what a request may act for."""

    token_id: int
    court: str
    label: str

    @property
    def actor(self) -> str:
        return f"cancelleria: {self.court} (token {self.token_id})"


@dataclass(frozen=True)
class Issued:
    token_id: int
    court: str
    token: str  # shown once; only its hash is kept


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(ctx: Context, court: str, label: str = "") -> Issued:
    court = court.strip()
    if not court:
        raise InvalidInput("a token needs the court its registry serves")
    secret = f"{PREFIX}_{secrets.token_urlsafe(32)}"
    with ctx.uow() as uow:
        row = RegistryToken(
            court=court,
            label=label.strip() or court,
            token_hash=_hash(secret),
            created_at=ctx.clock.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        token_id = row.id
        uow.commit()
    return Issued(token_id, court, secret)


def revoke_token(ctx: Context, token_id: int) -> None:
    with ctx.uow() as uow:
        row = uow.session.get(RegistryToken, token_id)
        if row is None:
            raise TokenNotFound(f"no token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = ctx.clock.now()
        uow.commit()


def tokens(ctx: Context) -> list[RegistryToken]:
    with ctx.uow() as uow:
        return list(uow.registry.tokens())


def authenticate(ctx: Context, token: str) -> Registry | None:
    """The registry a token belongs to, or None (unknown or revoked: the same answer)."""
    with ctx.uow() as uow:
        return _registry(uow, token)


def _registry(uow: UnitOfWork, token: str) -> Registry | None:
    if not token.startswith(f"{PREFIX}_") or len(token) > 200:
        return None
    row = uow.registry.token_by_hash(_hash(token))
    if row is None or row.revoked_at is not None:
        return None
    return Registry(row.id, row.court, row.label)


@dataclass(frozen=True)
class Admission:
    """What a write request finds, read in one transaction: who sent it (None: refused), the
    first answer to its key if any, and whether the case is before the registry's court."""

    registry: Registry | None
    first: tuple[str, Answer] | None
    in_scope: bool


def admit(ctx: Context, token: str, key: str, reference: str) -> Admission:
    with ctx.uow() as uow:
        found = _registry(uow, token)
        if found is None:
            return Admission(None, None, False)
        row = uow.registry.request(found.token_id, key)
        first = None if row is None else (row.request_hash, Answer(row.status_code, row.response))
        case = uow.repo.case_by_reference(reference)
        application = None if case is None else uow.placements.application(case.id)
        in_scope = application is not None and application.court == found.court
        return Admission(found, first, in_scope)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def request_hash(method: str, path: str, body: Any) -> str:
    import json

    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def remembered(ctx: Context, registry: Registry, key: str) -> tuple[str, Answer] | None:
    """The first request made with `key` by this registry: its hash and its answer."""
    with ctx.uow() as uow:
        row = uow.registry.request(registry.token_id, key)
        if row is None:
            return None
        return row.request_hash, Answer(row.status_code, dict(row.response))


def remember(
    ctx: Context, registry: Registry, key: str, digest: str, answer: Answer, at: datetime
) -> tuple[str, Answer]:
    """Keep the answer to a request; if another request with the same key was kept first,
    return that one instead."""
    with ctx.uow() as uow:
        uow.session.add(
            ApiRequest(
                token_id=registry.token_id,
                idempotency_key=key,
                request_hash=digest,
                status_code=answer.status,
                response=answer.body,
                created_at=at,
            )
        )
        try:
            uow.commit()
        except IntegrityError:
            uow.rollback()
        else:
            return digest, answer
    first = remembered(ctx, registry, key)
    assert first is not None
    return first

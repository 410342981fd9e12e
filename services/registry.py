"""Court registries as API clients: one token per registry, shown once, stored as a hash,
revocable; and the memory of their write requests, so that a retried request gets its first
answer (the same key with another body is a conflict)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from services import engine
from services.context import Context
from services.errors import DomainError, InvalidInput
from services.records import TokenRecord
from storage.models import RegistryToken
from storage.registry import Admission
from storage.repository import VersionConflict
from storage.unit_of_work import UnitOfWork

PREFIX = "mrt"  # misure registry token
TEXT_LENGTH = 200  # registry_tokens.court and .label


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
    court, label = court.strip(), label.strip()
    if not court:
        raise InvalidInput("a token needs the court its registry serves", "court")
    if len(court) > TEXT_LENGTH or len(label) > TEXT_LENGTH:
        raise InvalidInput(f"court and label have at most {TEXT_LENGTH} characters", "court")
    secret = f"{PREFIX}_{secrets.token_urlsafe(32)}"
    with ctx.uow() as uow:
        row = RegistryToken(
            court=court,
            label=label or court,
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


def tokens(ctx: Context) -> list[TokenRecord]:
    with ctx.read() as uow:
        return [TokenRecord.of(token) for token in uow.registry.tokens()]


def authenticate(ctx: Context, token: str) -> Registry | None:
    """The registry a token belongs to, or None (unknown or revoked: the same answer)."""
    with ctx.read() as uow:
        return _registry(uow, token)


def _registry(uow: UnitOfWork, token: str) -> Registry | None:
    if not _well_formed(token):
        return None
    found = uow.registry.live_token(_hash(token))
    return None if found is None else Registry(*found)


def _admission(uow: UnitOfWork, token: str, key: str) -> Admission | None:
    return uow.registry.admission(_hash(token), key) if _well_formed(token) else None


def _well_formed(token: str) -> bool:
    return token.startswith(f"{PREFIX}_") and len(token) <= 200


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Handled:
    """What became of a write request: `registry` is None if the token was refused; else
    `answer` is the answer kept for its key, to the request whose hash is `digest` (another
    request's, if the key was used before), and `fresh` says it was applied now."""

    registry: Registry | None
    digest: str = ""
    answer: Answer | None = None
    fresh: bool = False


Apply = Callable[[UnitOfWork, Registry], Answer]
Explain = Callable[[UnitOfWork, DomainError], Answer]


def handle_write(
    ctx: Context,
    token: str,
    key: str,
    digest: str,
    reference: str,
    apply: Apply,
    explain: Explain,
) -> Handled:
    """One write request on case `reference`, in one transaction: authenticate the registry,
    answer a key used before with its first answer, else `apply` the request and keep its
    answer under the key. A domain error of `apply` undoes what it wrote and is kept as
    `explain` answers it; a case that moved meanwhile, or the same key committed first by a
    concurrent request, starts the transaction again."""

    def work(uow: UnitOfWork) -> Handled:
        admission = _admission(uow, token, key)
        if admission is None:
            return Handled(None)
        found = Registry(*admission.token)
        if admission.first is not None:
            first_digest, status, body = admission.first
            return Handled(found, first_digest, Answer(status, body))
        try:
            answer = apply(uow, found)
        except DomainError as error:
            if not error.caught_up:  # else only the refused step was undone: the lapse stands
                uow.rollback()
            answer = explain(uow, error)
        uow.registry.remember(
            found.token_id, key, digest, answer.status, answer.body, ctx.clock.now()
        )
        uow.commit()
        return Handled(found, digest, answer, fresh=True)

    # A concurrent request with the same key kept first (IntegrityError): the next round
    # answers with its answer.
    return engine.in_fresh_transactions(ctx, reference, work, (VersionConflict, IntegrityError))


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()

"""API clients: court registries, and the parties a procedure serves (`Procedure.token_roles`:
the host entities of unpaid community work). One token per client, shown once, stored as a
hash, revocable, with its role: a route accepts only the role it serves. And the memory of
their write requests, so that a retried request gets its first answer (the same key with
another body is a conflict)."""

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
COURT = "court"  # a court registry: the role every procedure's court routes accept
COURT_LABEL = "cancelleria"


class TokenNotFound(DomainError):
    status = 404
    code = "unknown_token"


@dataclass(frozen=True)
class Registry:
    """An authenticated client: the party it acts for (a court, for a court registry), its
    role and the role's Italian name (for the history's actor)."""

    token_id: int
    party: str
    label: str
    role: str = COURT
    role_label: str = COURT_LABEL

    @property
    def actor(self) -> str:
        return f"{self.role_label}: {self.party} (token {self.token_id})"


@dataclass(frozen=True)
class Issued:
    token_id: int
    party: str
    role: str
    token: str  # shown once; only its hash is kept


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(ctx: Context, party: str, label: str = "", role: str = COURT) -> Issued:
    """A token acting for `party` (the court a registry serves, or the party of `role`)."""
    party, label = party.strip(), label.strip()
    if not party:
        raise InvalidInput(
            "il token deve indicare per chi agisce (l'autorità giudiziaria o l'ente)", "court"
        )
    if len(party) > TEXT_LENGTH or len(label) > TEXT_LENGTH:
        raise InvalidInput(
            f"autorità (court) ed etichetta (label) hanno al più {TEXT_LENGTH} caratteri", "court"
        )
    if role != COURT and role not in ctx.token_roles():
        raise InvalidInput(f"nessuna procedura configurata serve il ruolo {role!r}", "role")
    secret = f"{PREFIX}_{secrets.token_urlsafe(32)}"
    with ctx.uow() as uow:
        row = RegistryToken(
            court=party,
            label=label or party,
            role=role,
            token_hash=_hash(secret),
            created_at=ctx.clock.now(),
        )
        uow.session.add(row)
        uow.session.flush()
        token_id = row.id
        uow.commit()
    return Issued(token_id, party, role, secret)


def revoke_token(ctx: Context, token_id: int) -> None:
    with ctx.uow() as uow:
        row = uow.session.get(RegistryToken, token_id)
        if row is None:
            raise TokenNotFound(f"nessun token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = ctx.clock.now()
        uow.commit()


def tokens(ctx: Context) -> list[TokenRecord]:
    with ctx.read() as uow:
        return [TokenRecord.of(token) for token in uow.registry.tokens()]


def authenticate(ctx: Context, token: str, role: str = COURT) -> Registry | None:
    """The client a token belongs to if it has `role`, or None (unknown, revoked or of another
    role: the same answer)."""
    if not _well_formed(token):
        return None
    with ctx.read() as uow:
        found = uow.registry.live_token(_hash(token))
    return None if found is None else _client(ctx, found, role)


def _client(ctx: Context, token: tuple[int, str, str, str], role: str) -> Registry | None:
    token_id, party, label, has = token
    if has != role:
        return None
    named = COURT_LABEL if role == COURT else ctx.token_roles().get(role, role)
    return Registry(token_id, party, label, role, named)


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
    role: str = COURT,
) -> Handled:
    """One write request on case `reference`, in one transaction: authenticate the client (a
    token of another role than `role` is refused as an unknown one), answer a key used before
    with its first answer, else `apply` the request and keep its answer under the key. A
    domain error of `apply` undoes what it wrote and is kept as `explain` answers it; a case
    that moved meanwhile, or the same key committed first by a concurrent request, starts the
    transaction again."""

    def work(uow: UnitOfWork) -> Handled:
        admission = _admission(uow, token, key)
        found = None if admission is None else _client(ctx, admission.token, role)
        if admission is None or found is None:
            return Handled(None)
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


def admit(ctx: Context, token: str, key: str, role: str) -> Handled:
    """For a request whose work commits in several transactions (a register of many sessions,
    each on its own): the client of `role` (`registry` None if refused) and, if `key` was
    used before, its first answer. The caller does the work, then `keep`s the answer."""
    with ctx.read() as uow:
        admission = _admission(uow, token, key)
    found = None if admission is None else _client(ctx, admission.token, role)
    if admission is None or found is None:
        return Handled(None)
    if admission.first is None:
        return Handled(found)
    first_digest, status, body = admission.first
    return Handled(found, first_digest, Answer(status, body))


def keep(ctx: Context, client: Registry, key: str, digest: str, answer: Answer) -> Handled:
    """Keep `answer` under `key`, unless a concurrent request with the same key kept one first:
    then that one is the answer (its work was idempotent: it did the same)."""
    try:
        with ctx.uow() as uow:
            uow.registry.remember(
                client.token_id, key, digest, answer.status, answer.body, ctx.clock.now()
            )
            uow.commit()
    except IntegrityError:
        with ctx.read() as uow:
            kept = uow.registry.answer(client.token_id, key)
        if kept is not None:
            first_digest, status, body = kept
            return Handled(client, first_digest, Answer(status, body))
        raise
    return Handled(client, digest, answer, fresh=True)

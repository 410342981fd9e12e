"""Queries on registry tokens and the API's remembered requests. It never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select
from sqlalchemy.orm import Session

from storage.models import ApiRequest, RegistryToken

# Read on every write request, built once.
_LIVE_TOKEN = select(
    RegistryToken.id, RegistryToken.court, RegistryToken.label, RegistryToken.role
).where(RegistryToken.token_hash == bindparam("token_hash"), RegistryToken.revoked_at.is_(None))
# One round trip: the live token with this hash and the first request its registry made with
# this Idempotency-Key, if any.
_ADMISSION = (
    select(
        RegistryToken.id,
        RegistryToken.court,
        RegistryToken.label,
        RegistryToken.role,
        ApiRequest.request_hash,
        ApiRequest.status_code,
        ApiRequest.response,
    )
    .outerjoin(
        ApiRequest,
        and_(
            ApiRequest.token_id == RegistryToken.id,
            ApiRequest.idempotency_key == bindparam("key"),
        ),
    )
    .where(RegistryToken.token_hash == bindparam("token_hash"), RegistryToken.revoked_at.is_(None))
)
_REMEMBER = insert(cast(Table, ApiRequest.__table__))


@dataclass(frozen=True)
class Admission:
    """A live token's (id, party, label, role) and the first (hash, status, answer) made with a
    key."""

    token: tuple[int, str, str, str]
    first: tuple[str, int, dict[str, Any]] | None


class RegistryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def tokens(self) -> Sequence[RegistryToken]:
        return self.session.scalars(select(RegistryToken).order_by(RegistryToken.id)).all()

    def live_token(self, token_hash: str) -> tuple[int, str, str, str] | None:
        """(id, party, label, role) of the token with this hash, unless it was revoked."""
        row = self.session.execute(_LIVE_TOKEN, {"token_hash": token_hash}).one_or_none()
        return None if row is None else (row.id, row.court, row.label, row.role)

    def admission(self, token_hash: str, key: str) -> Admission | None:
        """The live token with this hash (None: unknown or revoked), with the first request
        its registry made with `key`."""
        row = self.session.execute(_ADMISSION, {"token_hash": token_hash, "key": key}).first()
        if row is None:
            return None
        first = None if row.request_hash is None else (
            row.request_hash, row.status_code, row.response
        )  # fmt: skip
        return Admission((row.id, row.court, row.label, row.role), first)

    def answer(self, token_id: int, key: str) -> tuple[str, int, dict[str, Any]] | None:
        """The (hash, status, answer) kept for the token's request with `key`, if any."""
        row = self.session.execute(
            select(ApiRequest.request_hash, ApiRequest.status_code, ApiRequest.response).where(
                ApiRequest.token_id == token_id, ApiRequest.idempotency_key == key
            )
        ).first()
        return None if row is None else (row.request_hash, row.status_code, row.response)

    def remember(
        self,
        token_id: int,
        key: str,
        digest: str,
        status: int,
        answer: dict[str, Any],
        at: datetime,
    ) -> None:
        """Keep the answer to a request; `IntegrityError` if its key was kept first."""
        self.session.execute(
            _REMEMBER,
            {"token_id": token_id, "idempotency_key": key, "request_hash": digest,
             "status_code": status, "response": answer, "created_at": at},
        )  # fmt: skip

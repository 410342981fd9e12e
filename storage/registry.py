"""Queries on registry tokens and the API's remembered requests. It never commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage.models import ApiRequest, RegistryToken

# Read on every write request, built once.
_LIVE_TOKEN = select(RegistryToken.id, RegistryToken.court, RegistryToken.label).where(
    RegistryToken.token_hash == bindparam("token_hash"), RegistryToken.revoked_at.is_(None)
)
_REQUEST = select(ApiRequest.request_hash, ApiRequest.status_code, ApiRequest.response).where(
    ApiRequest.token_id == bindparam("token_id"), ApiRequest.idempotency_key == bindparam("key")
)


class RegistryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def tokens(self) -> Sequence[RegistryToken]:
        return self.session.scalars(select(RegistryToken).order_by(RegistryToken.id)).all()

    def live_token(self, token_hash: str) -> tuple[int, str, str] | None:
        """(id, court, label) of the token with this hash, unless it was revoked."""
        row = self.session.execute(_LIVE_TOKEN, {"token_hash": token_hash}).one_or_none()
        return None if row is None else (row.id, row.court, row.label)

    def request(self, token_id: int, key: str) -> tuple[str, int, dict[str, Any]] | None:
        """(hash, status, answer) of the request a registry made first with `key`."""
        row = self.session.execute(_REQUEST, {"token_id": token_id, "key": key}).one_or_none()
        return None if row is None else (row.request_hash, row.status_code, row.response)

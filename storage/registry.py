"""Queries on registry tokens and the API's remembered requests. It never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ApiRequest, RegistryToken


class RegistryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def tokens(self) -> Sequence[RegistryToken]:
        return self.session.scalars(select(RegistryToken).order_by(RegistryToken.id)).all()

    def token_by_hash(self, token_hash: str) -> RegistryToken | None:
        query = select(RegistryToken).where(RegistryToken.token_hash == token_hash)
        return self.session.scalars(query).one_or_none()

    def request(self, token_id: int, key: str) -> ApiRequest | None:
        query = select(ApiRequest).where(
            ApiRequest.token_id == token_id, ApiRequest.idempotency_key == key
        )
        return self.session.scalars(query).one_or_none()

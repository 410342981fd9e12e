"""The test procedure's own table, created by its own migration branch (migrations/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, Id, UTCDateTime


class PermitRow(Base):
    __tablename__ = "test_permits"

    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id"), primary_key=True)
    prison: Mapped[str] = mapped_column(String(20))
    hours: Mapped[int | None] = mapped_column(Integer)
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

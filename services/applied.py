"""A transition just written, as the effects of its kind see it (services/effects.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.repository import Repository

NOTICE_TOPIC = "notice"  # outbox rows asking for a notice to be rendered


@dataclass(frozen=True)
class Applied:
    """`data` is the case's data after the transition; `event_id` its event."""

    case_id: int
    reference: str
    kind: str
    trigger: str
    from_state: str | None
    to_state: str
    payload: Mapping[str, Any]
    data: Mapping[str, Any]
    event_id: int
    at: datetime


Effect = Callable[[Repository, Applied], None]

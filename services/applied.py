"""A transition just written, as the effects of its procedure see it (services/procedure.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.repository import Repository

NOTICE_TOPIC = "notice"  # outbox rows asking for a notice to be rendered


@dataclass(frozen=True)
class Applied:
    """`data` is the case's data after the transition; `event_id` its event; `at` the
    instant it took effect in law, `recorded_at` when it was written."""

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
    recorded_at: datetime


Effect = Callable[[Repository, Applied], None]


class LazyFacts(Mapping[str, Any]):
    """What a procedure knows of a case beyond its row, each fact read from its tables only
    when a guard asks for it (most transitions read none)."""

    def __init__(self, loaders: Mapping[str, Callable[[], Any]]) -> None:
        self._loaders = loaders
        self._known: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._known:
            self._known[name] = self._loaders[name]()
        return self._known[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


Facts = Callable[[Repository, int, datetime], Mapping[str, Any]]
Summary = Callable[[Repository, int, Mapping[str, Any]], dict[str, Any]]

"""A transition just written, as the effects of its procedure see it (services/procedure.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.repository import Repository

NOTICE_TOPIC = "notice"  # outbox rows asking for a notice to be rendered


@dataclass(frozen=True)
class FollowUp:
    """A transition another case must make in the same transaction (a facility suspended by
    the procedure that orders it)."""

    reference: str
    trigger: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Applied:
    """`data` is the case's data after the transition; `event_id` its event; `at` the
    instant it took effect in law, `recorded_at` when it was written.

    An effect may ask for more in the same transaction: `then` a transition of another case
    (fired after the effects, by the system, with every rule of its machine), `announce` a
    message on a topic that other procedures react to (`Procedure.reactions`)."""

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
    follow_ups: list[FollowUp] = field(default_factory=list, compare=False)
    announced: list[tuple[str, dict[str, Any]]] = field(default_factory=list, compare=False)

    def then(self, reference: str, trigger: str, payload: Mapping[str, Any] | None = None) -> None:
        self.follow_ups.append(FollowUp(reference, trigger, dict(payload or {})))

    def announce(self, topic: str, message: Mapping[str, Any]) -> None:
        self.announced.append((topic, dict(message)))


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
Reaction = Callable[[Repository, Applied, Mapping[str, Any]], None]
"""What a procedure does, in the announcing transaction, when another announces on a topic:
(the repository, the change that announced, the message)."""
Summary = Callable[[Repository, int, Mapping[str, Any]], dict[str, Any]]

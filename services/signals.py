"""What the entry points do, at once, when a change emits a signal (an outbox topic other
than a notice): for `reallocate`, serve the queues whose places were freed.

Each topic names the deployment that serves it where Prefect runs, and the service that serves
it in this process otherwise; the outbox row stays the durable record, so a scheduled run
catches up whatever an entry point could not start."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services import reallocation
from services.context import Context


@dataclass(frozen=True)
class SignalHandler:
    deployment: str  # flow-name/deployment-name in prefect.yaml
    run: Callable[[Context], object]


HANDLERS: Mapping[str, SignalHandler] = {
    reallocation.TOPIC: SignalHandler(
        "reallocate-freed-places/reallocate-freed-places", reallocation.reallocate_signalled
    ),
}


def handled(signals: tuple[str, ...] | list[str]) -> list[str]:
    """The topics among `signals` that an entry point acts on, once each."""
    return [topic for topic in dict.fromkeys(signals) if topic in HANDLERS]

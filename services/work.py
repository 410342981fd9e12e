"""What work is due, job by job, so that a job runs when it has something to do instead of on
a clock that mostly finds nothing (the dispatcher, `misure dispatch`, asks this every few
seconds). Each probe is one indexed count; procedures add theirs through their signals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.applied import NOTICE_TOPIC
from services.context import Context
from storage.pages import PageRepository
from storage.unit_of_work import UnitOfWork

Count = Callable[[UnitOfWork, datetime], int]


@dataclass(frozen=True)
class Probe:
    """`deployment` (flow/deployment, as Prefect names it) has work when `count` > 0."""

    deployment: str
    count: Count


def _pages(uow: UnitOfWork) -> PageRepository:
    return PageRepository(uow.session, uow.postgresql)


SHARED_PROBES = (
    Probe("sweep-due-timers/sweep-due-timers", lambda uow, now: uow.repo.count_due(now)),
    Probe(
        "render-notices/render-notices",
        lambda uow, now: _pages(uow).pending_messages(NOTICE_TOPIC),
    ),
    Probe("deliver-notices/deliver-notices", lambda uow, now: _pages(uow).deliveries_due(now)),
)


def probes(ctx: Context) -> tuple[Probe, ...]:
    """The shared jobs', then each procedure's signal deployments (their pending messages)."""
    found = list(SHARED_PROBES)
    for procedure in ctx.procedures:
        for topic, handler in procedure.signals.items():
            found.append(Probe(handler.deployment, _pending(topic)))
    return tuple(found)


def _pending(topic: str) -> Count:
    return lambda uow, now: _pages(uow).pending_messages(topic)


def due_work(ctx: Context, now: datetime) -> dict[str, int]:
    """Deployment -> how much work it has now (only those that have some)."""
    due: dict[str, int] = {}
    with ctx.read() as uow:
        for probe in probes(ctx):
            count = probe.count(uow, now)
            if count:
                due[probe.deployment] = due.get(probe.deployment, 0) + count
    return due

"""Reallocate freed places: every UIEPE's queue served in protocol order while places and
coverage last (`misure placement reallocate` without Prefect). Scheduled every few minutes,
and started at once (`flows.dispatch`) when a rejection or a withdrawal frees a place."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import context, publish_table
from services.placements import reallocation


@task(retries=2, retry_delay_seconds=5)
def serve_queues(now: str | None) -> tuple[int, list[dict[str, Any]], dict[str, str]]:
    ctx = context(now)
    signalled = reallocation.reallocate_signalled(ctx)
    every = reallocation.reallocate(ctx)  # and places that appeared without a signal
    attested = signalled.attested + every.attested
    return signalled.signals, [reallocation.attested_row(a) for a in attested], every.stopped_by


@flow(name="reallocate-freed-places")
def reallocate_freed_places(now: str | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    signals, rows, stopped = serve_queues(now)
    publish_table("reallocation", rows, "Attestazioni rilasciate in ordine di protocollo")
    for office, why in stopped.items():
        logger.info("%s: queue waits (%s)", office, why)
    logger.info("%d signals; %d attestations", signals, len(rows))
    return {"signals": signals, "attested": [row["pratica"] for row in rows]}

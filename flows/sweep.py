"""Sweep due timers: lapse attestations, end funded stays, issue reminders; then hand freed
places on at once (`misure timers sweep` without Prefect)."""

from __future__ import annotations

import math
from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import context, publish_table
from services import reallocation, timers


@task(retries=2, retry_delay_seconds=5)
def sweep_batch(now: str | None, batch: int) -> dict[str, Any]:
    """At most `batch` due timers; safe to run beside other sweeps (claims skip each other)."""
    ctx = context(now)
    report = timers.sweep(ctx, ctx.clock.now(), batch=batch, limit=batch)
    return {
        "fired": report.fired,
        "cancelled": report.cancelled,
        "retried": report.retried,
        "failed": report.failed,
        "incidents": report.incidents,
        "rows": [
            {
                "pratica": h.reference,
                "termine": h.timer,
                "scadenza": h.due_at.isoformat(),
                "esito": h.outcome,
            }
            for h in report.handled_timers
        ],
    }


@task(retries=2, retry_delay_seconds=5)
def reallocate_signalled(now: str | None) -> list[dict[str, Any]]:
    ctx = context(now)
    return [_attested_row(a) for a in reallocation.reallocate_signalled(ctx).attested]


def _attested_row(attested: reallocation.Attested) -> dict[str, Any]:
    return {
        "pratica": attested.reference,
        "UIEPE": attested.office,
        "protocollo": attested.protocol_number,
        "struttura": attested.facility,
        "posto": f"{attested.convention}/{attested.place}",
        "posto liberato da": attested.reassigned_from or "",
    }


@flow(name="sweep-due-timers", log_prints=False)
def sweep_due_timers(now: str | None = None, batch: int = 500) -> dict[str, int]:
    logger = get_run_logger()
    ctx = context(now)
    due = timers.count_due(ctx, ctx.clock.now())
    batches = max(1, math.ceil(due / batch))
    results = sweep_batch.map([now] * batches, [batch] * batches).result()
    totals = {k: sum(r[k] for r in results) for k in ("fired", "cancelled", "retried", "failed")}
    for incident in (i for r in results for i in r["incidents"]):
        logger.error("incident: %s", incident)
    rows = [row for r in results for row in r["rows"]]
    publish_table("sweep-due-timers", rows, "Termini scaduti gestiti in questa esecuzione")
    attested = reallocate_signalled(now) if totals["fired"] else []
    publish_table("reallocation", attested, "Posti liberati e riassegnati in ordine di protocollo")
    logger.info("%d due: %s; %d places reassigned", due, totals, len(attested))
    return {"due": due, **totals, "attested": len(attested)}

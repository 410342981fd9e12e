"""Sweep due timers (attestations lapsing, funded stays ending, reminders); then serve at once
the signals the fired transitions emitted, through their procedures' handlers (freed places
reassigned). `misure timers sweep` without Prefect."""

from __future__ import annotations

import math
from typing import Any

from prefect import flow, get_run_logger, task

from documents.render import data_ora_it
from flows.common import context, publish_table
from services import timers


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
        "signals": report.signals,
        "rows": [
            {
                "pratica": h.reference,
                "termine": h.timer,
                "scadenza": data_ora_it(h.due_at),
                "esito": h.outcome,
            }
            for h in report.handled_timers
        ],
    }


@task(retries=2, retry_delay_seconds=5)
def serve_signal(now: str | None, topic: str) -> list[dict[str, Any]]:
    """What the procedure's handler of `topic` did (e.g. the attestations of freed places)."""
    ctx = context(now)
    handler = ctx.signal_handler(topic)
    return [] if handler is None else handler.run(ctx)


@flow(name="sweep-due-timers", log_prints=False)
def sweep_due_timers(now: str | None = None, batch: int = 500) -> dict[str, Any]:
    logger = get_run_logger()
    ctx = context(now)
    due = timers.count_due(ctx, ctx.clock.now())
    batches = max(1, math.ceil(due / batch))
    results = sweep_batch.map([now] * batches, [batch] * batches).result()
    totals = {k: sum(r[k] for r in results) for k in ("fired", "cancelled", "retried", "failed")}
    incidents = [i for r in results for i in r["incidents"]]
    for incident in incidents:
        logger.error("incident: %s", incident)
    rows = [row for r in results for row in r["rows"]]
    publish_table("sweep-due-timers", rows, "Termini scaduti gestiti in questa esecuzione")
    served: dict[str, int] = {}
    for topic in dict.fromkeys(s for r in results for s in r["signals"]):
        handler = ctx.signal_handler(topic)
        if handler is None:
            continue
        done = serve_signal(now, topic)
        publish_table(f"signal-{topic}", done, handler.label or topic)
        served[topic] = len(done)
    logger.info("%d due: %s; signals served: %s", due, totals, served)
    if incidents:  # a failed run, with the reason, on the Runs page (see retry-incident)
        raise RuntimeError("termini non eseguiti: " + "; ".join(map(str, incidents[:10])))
    return {"due": due, **totals, "served": served}

"""Act on the signals a change emitted, at once, instead of waiting for the schedules
(ARCHITECTURE.md: deployments can be run on demand with an idempotency key).

Called after the change committed, by the entry points (CLI, court API), never by services:
where Prefect runs (PREFECT_API_URL) the signal's deployment is started, keyed by the change;
otherwise, or if Prefect cannot be reached, its service runs in this process. Either way the
outbox row stays pending until served, so the scheduled run catches up anything missed."""

from __future__ import annotations

import logging
import os

from services.context import Context

log = logging.getLogger(__name__)


def act_on_signals(ctx: Context, signals: tuple[str, ...] | list[str], key: str) -> list[str]:
    """Serve each handled topic of `signals`; return what was done, one line each (Italian)."""
    done = []
    for topic in dict.fromkeys(signals):
        handler = ctx.signal_handler(topic)
        if handler is None:
            continue
        run = start_deployment(handler.deployment, f"{topic}:{key}")
        if run is not None:
            done.append(f"{topic}: avviata l'esecuzione {run} di {handler.deployment}")
            continue
        try:
            rows = handler.run(ctx)
        except Exception as error:  # the change stands; the schedule serves the signal
            log.warning("%s not served at once (%s): the schedule will", topic, error)
            done.append(f"{topic}: non eseguito ora ({error}); lo farà l'esecuzione programmata")
        else:
            done.append(f"{topic}: {handler.label or 'eseguito'}: {len(rows)}")
    return done


def start_deployment(deployment: str, key: str) -> str | None:
    """Create a run of `deployment` now, where Prefect runs; the same `key` twice is one run.
    Returns the flow run id, or None if there is no Prefect server or it could not be
    reached."""
    if not os.environ.get("PREFECT_API_URL"):
        return None
    from prefect.client.schemas.objects import FlowRun  # import prefect only when needed
    from prefect.deployments import run_deployment

    try:
        run = run_deployment(deployment, timeout=0, idempotency_key=key, as_subflow=False)
    except Exception as error:
        log.warning("%s not started at once (%s)", deployment, error)
        return None
    assert isinstance(run, FlowRun)  # called from sync code: not a coroutine
    return str(run.id)

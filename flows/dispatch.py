"""Start the reallocation flow at once when a change frees a place, instead of waiting for its
schedule (ARCHITECTURE.md: deployments can be run on demand with an idempotency key).

Called after the change committed, by the entry points (CLI, court API), never by services.
If the Prefect server is unreachable the place is reassigned by the next scheduled run."""

from __future__ import annotations

import logging

REALLOCATE = "reallocate-freed-places/reallocate-freed-places"
log = logging.getLogger(__name__)


def start_reallocation(key: str) -> str | None:
    """Create a run of the reallocation deployment now; the same `key` (the freeing event)
    twice is one run. Returns the flow run id, or None if Prefect could not be reached."""
    from prefect.client.schemas.objects import FlowRun  # import prefect only when needed
    from prefect.deployments import run_deployment

    try:
        run = run_deployment(REALLOCATE, timeout=0, idempotency_key=key, as_subflow=False)
    except Exception as error:  # the schedule catches up; say so, do not fail the change
        log.warning("reallocation not started at once (%s): the schedule will run it", error)
        return None
    assert isinstance(run, FlowRun)  # called from sync code: not a coroutine
    return str(run.id)

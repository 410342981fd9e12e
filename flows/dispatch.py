"""Act on the signals a change emitted, at once, instead of waiting for the schedules
(ARCHITECTURE.md: deployments can be run on demand with an idempotency key); and start each job
when it has work due (`Dispatcher`, run by `misure dispatch` in the stack).

Called after the change committed, by the entry points (CLI, court API), never by services:
where Prefect runs (PREFECT_API_URL) the signal's deployment is started, keyed by the change;
otherwise, or if Prefect cannot be reached, its service runs in this process. Either way the
outbox row stays pending until served, so the scheduled run catches up anything missed."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from time import monotonic
from uuid import UUID

from services import work
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


@dataclass
class Dispatcher:
    """Starts each deployment of `services.work.probes` when it has work due and its last run
    (started here) is over, instead of a schedule every minute that mostly finds nothing: the
    Runs page shows the runs that changed something. A deployment whose last run failed waits
    `backoff` seconds before it is started again (its failure is on the Runs page meanwhile);
    a case whose page could not be published waits `page_backoff` seconds, twice as long
    after each failure up to `backoff`, while the other cases' pages go on."""

    backoff: float = 300.0
    page_backoff: float = 10.0
    last: dict[str, tuple[str, float]] = field(default_factory=dict)  # run id, when started
    held: dict[int, tuple[float, float]] = field(default_factory=dict)  # case: retry at, wait

    def round(self, ctx: Context) -> list[str]:
        """Start what is due now, then publish the pages of the changed cases (a backfill of
        many pages never holds a due timer up more than a batch); one Italian line per act."""
        from prefect.client.orchestration import get_client

        started: list[str] = []
        due = work.due_work(ctx, ctx.clock.now())
        with get_client(sync_client=True) as client:
            for deployment, count in due.items():
                previous = self.last.get(deployment)
                if previous is not None:
                    state = client.read_flow_run(UUID(previous[0])).state
                    if state is None or not state.is_final():
                        continue  # still running: it takes what came meanwhile
                    if not state.is_completed() and monotonic() - previous[1] < self.backoff:
                        continue
                key = f"dispatch:{deployment}:{ctx.clock.now().isoformat()}"
                run = start_deployment(deployment, key)
                if run is not None:
                    self.last[deployment] = (run, monotonic())
                    started.append(f"{deployment}: {count} da fare, avviata l'esecuzione {run}")
        return started + self.publish_pages(ctx)

    def publish_pages(self, ctx: Context, batch: int = 50) -> list[str]:
        """The pages of up to `batch` changed cases and their offices' queues, published here
        and now: a change shows within seconds, without a flow run for each."""
        from flows.pages import publish_round

        now = monotonic()
        done = publish_round(ctx, 0, batch, [c for c, (at, _) in self.held.items() if at > now])
        failed = dict(zip(done["failed_cases"], done["failed"], strict=True))
        for case_id in [c for c, (at, _) in self.held.items() if at <= now and c not in failed]:
            del self.held[case_id]  # tried again, and published (or not in this batch)
        lines = []
        for case_id, failure in failed.items():
            previous = self.held.get(case_id)
            wait = self.page_backoff if previous is None else min(self.backoff, 2 * previous[1])
            self.held[case_id] = (now + wait, wait)
            lines.append(f"pagina non pubblicata: {failure} (nuovo tentativo tra {wait:g} s)")
        if done["published"]:
            lines.insert(
                0, f"pagine pubblicate: pratiche {done['published']}, code {done['queues']}"
            )
        return lines

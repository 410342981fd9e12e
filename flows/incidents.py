"""Retry what failed every attempt on a case, once its cause is removed: its failed timers, its
notices that could not be issued, its refused messages (`misure case retry REF`). The run fails,
saying why, if the case still has an incident afterwards."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows.common import context, office
from services import delivery, incidents
from services.settings import Settings


@flow(name="retry-incident")
def retry_incident(
    reference: str, actor: str = "prefect", now: str | None = None
) -> dict[str, Any]:
    logger = get_run_logger()
    settings = Settings()
    outcome = incidents.retry(
        context(now),
        reference,
        actor,
        office(),
        delivery.transport_from(settings),
        delivery.DeliveryPolicy.from_settings(settings),
    )
    logger.info("%s: %s", reference, outcome.summary)
    if outcome.left:
        raise RuntimeError(f"{reference}: incidenti ancora aperti: " + "; ".join(outcome.left))
    return {"retried": outcome.retried.count}

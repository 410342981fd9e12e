"""Send the notices due by certified e-mail (PEC), each message at most once
(`misure notices deliver`), and publish what the pass did and the incidents it found."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.common import context
from services import delivery
from services.settings import Settings


@task(retries=2, retry_delay_seconds=5)
def deliver(now: str | None, limit: int) -> dict[str, Any]:
    """One pass; retrying it is safe: a message handed over is never handed over again."""
    settings = Settings()
    ctx = context(now)
    transport = delivery.transport_from(settings)
    report = delivery.deliver_pending(
        ctx, transport, delivery.DeliveryPolicy.from_settings(settings), limit=limit
    )
    return {
        "sent": report.sent,
        "retried": report.retried,
        "failed": report.failed,
        "uncertain": report.uncertain,
        "transport": report.transport,
        "smtp": not isinstance(transport, delivery.EmlDirectory),
        "incidents": [
            f"{i.reference} prot. {i.protocol or '-'} a {i.addressee}: {i.status_label}, {i.reason}"
            for i in report.incidents
        ],
        "markdown": delivery.report_markdown(report, len(delivery.delivery_incidents(ctx))),
    }


@flow(name="deliver-notices")
def deliver_notices(now: str | None = None, limit: int = 1000) -> dict[str, int]:
    logger = get_run_logger()
    result = deliver(now, limit)
    if not result["smtp"]:
        logger.warning("%s", result["transport"])
    for incident in result["incidents"]:
        logger.warning("delivery incident: %s", incident)
    if result["sent"] or result["retried"] or result["failed"] or result["uncertain"]:
        create_markdown_artifact(
            key="notice-deliveries",
            markdown=result["markdown"],
            description=(
                f"Invii: {result['sent']} inviati, {result['retried']} da ritentare, "
                f"{result['failed']} non recapitati, {result['uncertain']} con esito incerto"
            ),
        )
    logger.info(
        "%d sent, %d to retry, %d failed, %d uncertain (%s)",
        result["sent"], result["retried"], result["failed"], result["uncertain"],
        result["transport"],
    )  # fmt: skip
    if result["incidents"]:  # a failed run, with the reason, on the Runs page
        raise RuntimeError("consegne non riuscite: " + "; ".join(result["incidents"][:10]))
    return {k: result[k] for k in ("sent", "retried", "failed", "uncertain")}

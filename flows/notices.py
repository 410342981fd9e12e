"""Render pending notices to HTML and PDF, each exactly once (`misure notices render`)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import context, office, publish_table
from services import notices


@task(retries=2, retry_delay_seconds=5)
def render(now: str | None, limit: int) -> dict[str, Any]:
    report = notices.render_pending_notices(context(now), office(), limit=limit)
    return {
        "rendered": report.rendered,
        "already": report.already_rendered,
        "failed": report.failed,
        "errors": report.errors,
        "rows": [
            {
                "pratica": d.reference,
                "modello": d.template,
                "protocollo": d.protocol,
                "sha256": d.sha256[:16],
            }
            for d in report.documents
        ],
    }


@flow(name="render-notices")
def render_notices(now: str | None = None, limit: int = 1000) -> dict[str, int]:
    logger = get_run_logger()
    result = render(now, limit)
    for error in result["errors"]:
        logger.warning("notice not rendered: %s", error)
    publish_table("notices", result["rows"], "Comunicazioni rese in questa esecuzione")
    logger.info("%d rendered, %d failed", result["rendered"], result["failed"])
    if result["errors"]:  # a failed run, with the reason, on the Runs page
        raise RuntimeError("comunicazioni non emesse: " + "; ".join(result["errors"][:10]))
    return {k: result[k] for k in ("rendered", "already", "failed")}

"""The UEPE's probations at a glance, every morning (`misure probation dashboard`): per office the
probations running, before the judge, to sign and in inquiry; the reports due this month; the
hearings in the next 30 days; and the incidents (periodic or final reports past their term),
each logged as a warning. One markdown artifact, `probation-dashboard`, and one table by office,
`probation-offices`."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.common import context, publish_table
from services.probation import dashboard


@flow(name="probation-dashboard")
def probation_dashboard(now: str | None = None) -> dict[str, Any]:
    ctx = context(now)
    board = dashboard.probation_dashboard(ctx)
    logger = get_run_logger()
    for incident in board.incidents:
        logger.warning("%s", incident)
    create_markdown_artifact(
        markdown=dashboard.dashboard_markdown(board),
        key="probation-dashboard",
        description=f"Messe alla prova al {board.today:%d/%m/%Y}",
    )
    publish_table(
        "probation-offices",
        [
            {
                "UEPE": o.uepe,
                "in corso": o.running,
                "udienza di revoca": o.revocation_pending,
                "al giudice": o.before_the_judge,
                "verbale da firmare": o.to_sign,
                "in istruttoria": o.in_inquiry,
            }
            for o in board.offices
        ],
        f"Messe alla prova per UEPE al {board.today:%d/%m/%Y}",
    )
    logger.info(
        "probation: %d offices, %d reports due this month, %d hearings ahead, %d incidents",
        len(board.offices), len(board.reports_due), len(board.hearings), len(board.incidents),
    )  # fmt: skip
    return {
        "offices": len(board.offices),
        "running": sum(o.running for o in board.offices),
        "reports_due": [d.reference for d in board.reports_due],
        "hearings": [h.reference for h in board.hearings],
        "incidents": list(board.incidents),
    }

"""Unpaid community work at a glance, every morning (`misure lpu dashboard`): per host entity its
conventions in force, the people at work and the places left, the placements in progress with
the hours owed, credited and left, those to receive; and the incidents (conventions ending
within 60 days with no renewal, final reports past their term, breaches awaiting the judge),
each logged as a warning. One markdown artifact, `lpu-dashboard`, and one table by entity,
`lpu-entities`."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.common import context, publish_table
from services.lpu import dashboard


@flow(name="lpu-dashboard")
def lpu_dashboard(now: str | None = None) -> dict[str, Any]:
    ctx = context(now)
    board = dashboard.lpu_dashboard(ctx)
    logger = get_run_logger()
    for incident in board.incidents:
        logger.warning("%s", incident)
    create_markdown_artifact(
        markdown=dashboard.dashboard_markdown(board, board.today),
        key="lpu-dashboard",
        description=f"Lavoro di pubblica utilità al {board.today:%d/%m/%Y}",
    )
    publish_table(
        "lpu-entities",
        [
            {
                "ente": e.entity,
                "convenzioni in vigore": len(e.conventions),
                "capienza": e.capacity,
                "persone al lavoro": e.at_work,
                "posti liberi": e.capacity_left,
                "inserimenti in corso": len(e.placements),
                "da accogliere": len(e.to_receive),
                "ore dovute": e.hours_owed,
                "ore svolte": str(e.hours_credited),
                "ore residue": str(e.hours_left),
            }
            for e in board.entities
        ],
        f"Lavoro di pubblica utilità per ente al {board.today:%d/%m/%Y}",
    )
    logger.info(
        "lpu: %d entities, %d placements at work, %d to receive, %d incidents",
        len(board.entities), sum(len(e.placements) for e in board.entities),
        sum(len(e.to_receive) for e in board.entities), len(board.incidents),
    )  # fmt: skip
    return {
        "entities": len(board.entities),
        "at_work": sum(e.at_work for e in board.entities),
        "placements": [p.reference for e in board.entities for p in e.placements],
        "to_receive": [p.reference for e in board.entities for p in e.to_receive],
        "expiring": [e.reference for e in board.expiring],
        "overdue_reports": [r.reference for r in board.overdue_reports],
        "breaches": [b.reference for b in board.breaches],
        "incidents": list(board.incidents),
    }

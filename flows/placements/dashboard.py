"""Each UIEPE's day: places reserved, occupied and free, the queue in protocol order, the
budget allocated, committed and spent; one markdown artifact per UIEPE, one table for all."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.common import context, publish_table
from machines.calendar import rome_date
from services.placements import dashboard


@flow(name="daily-dashboard")
def daily_dashboard(now: str | None = None) -> int:
    ctx = context(now)
    today = rome_date(ctx.clock.now())
    boards = dashboard.dashboards(ctx)
    for board in boards:
        create_markdown_artifact(
            markdown=dashboard.dashboard_markdown(board, today),
            key=f"dashboard-{board.office.lower()}",
            description=f"{board.office} al {today:%d/%m/%Y}",
        )
    publish_table(
        "dashboard",
        [
            {
                "UIEPE": b.office,
                "posti": b.places,
                "riservati": b.reserved,
                "occupati": b.occupied,
                "liberi": b.free,
                "in attesa": len(b.queue),
                "assegnato": str(b.allocated),
                "impegnato": str(b.committed),
                "speso": str(b.spent),
            }
            for b in boards
        ],
        f"Situazione degli UIEPE al {today:%d/%m/%Y}",
    )
    get_run_logger().info("%d dashboards", len(boards))
    return len(boards)

"""The quarterly budget monitoring per UIEPE and national (`misure budget monitor`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from prefect import flow, get_run_logger, task

from flows.common import context, publish_table
from machines.calendar import rome_date
from services.placements import budget


def _quarter_ended(today: date) -> tuple[int, int]:
    """The last quarter that has ended on `today`."""
    quarter = (today.month - 1) // 3  # 0 in January-March: the last quarter of last year
    return (today.year, quarter) if quarter else (today.year - 1, 4)


@task(retries=2, retry_delay_seconds=30)
def monitor(now: str | None, year: int | None, quarter: int | None) -> budget.Monitoring:
    ctx = context(now)
    if year is None or quarter is None:
        year, quarter = _quarter_ended(rome_date(ctx.clock.now()))
    return budget.monitor(ctx, year, quarter)


@flow(name="quarterly-monitoring")
def quarterly_monitoring(
    now: str | None = None, year: int | None = None, quarter: int | None = None
) -> dict[str, object]:
    result = monitor(now, year, quarter)
    rows = [
        {k: str(v) for k, v in asdict(figures).items()}
        for figures in [*result.offices, result.national]
    ]
    publish_table("monitoring", rows, f"Monitoraggio {result.year}-Q{result.quarter}")
    if result.stop:
        get_run_logger().warning("new applications stopped: %s", result.stop)
    return {"period": f"{result.year}-Q{result.quarter}", "stop": result.stop}

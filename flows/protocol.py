"""Export each office's outgoing protocol register of a day as CSV and PDF (artt. 53-57 D.P.R.
445/2000: the daily register is kept), into MISURE_PROTOCOL_DIR (`misure notices protocol`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import context, publish_table
from machines.calendar import rome_date
from services import protocol
from services.settings import Settings


@task(retries=2, retry_delay_seconds=5)
def export(now: str | None, day: str | None) -> list[dict[str, Any]]:
    ctx = context(now)
    the_day = (
        rome_date(ctx.clock.now()) - timedelta(days=1) if day is None else date.fromisoformat(day)
    )
    folder = Settings().protocol_dir
    rows = []
    for office in protocol.offices(ctx):
        csv_path, pdf_path, count = protocol.write_day_register(
            ctx, office, the_day, folder, ctx.clock.now()
        )
        rows.append(
            {
                "ufficio": office,
                "giorno": the_day.isoformat(),
                "registrazioni": count,
                "csv": str(csv_path),
                "pdf": str(pdf_path),
            }
        )
    return rows


@flow(name="protocol-register")
def protocol_register(now: str | None = None, day: str | None = None) -> int:
    """The registers of `day` (default: yesterday, Italian time) of every office."""
    rows = export(now, day)
    publish_table("protocol-register", rows, "Registri giornalieri di protocollo in uscita")
    get_run_logger().info("%d registers written", len(rows))
    return len(rows)

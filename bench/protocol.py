"""`make bench`: the outgoing protocol register under concurrent renderers (issue 15).

N notices (2,000) issued by four `misure notices render` processes at once on PostgreSQL, one
of them killed with SIGKILL once a tenth of them are stored, then a finisher for what it held;
beside it, the baseline measured in the same run: one renderer alone over the same number of
notices on a fresh database. The table gives both rates, their ratio, and what the register
holds afterwards (numbers contiguous per office and year, none given twice, every notice
numbered and sealed by its document's fingerprint).

Environment: MISURE_BENCH_POSTGRES_URL (required), MISURE_BENCH_NOTICES (N, 2,000). Tables go
to stdout, progress to stderr.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.placement_sweep import fresh
from services.clock import FixedClock
from tests.support.renderers import Run, check_register, render_with, seed_notices

err = Console(stderr=True)
out = Console(width=160)


def measured(
    postgres_url: str, folder: Path, n: int, renderers: int, kill: bool
) -> tuple[Run, str]:
    """One run on a fresh database: its timing and what the register holds."""
    with fresh("PostgreSQL", folder, postgres_url) as url:
        seed_notices(url, n, _clock())
        run = render_with(url, renderers, folder / f"{renderers}", n // 10 if kill else None)
        check = check_register(url)
    right = (
        check.contiguous
        and len(check.numbers) == n == check.notices
        and not (check.twice or check.unnumbered or check.unsealed or check.pending)
    )
    verdict = (
        f"1..{len(check.numbers):,} contiguous, each once, all sealed"
        if right
        else f"WRONG: {len(check.twice)} twice, {len(check.unnumbered)} unnumbered, "
        f"{len(check.unsealed)} unsealed, {check.pending} pending"
    )
    return run, verdict


def _clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def main() -> None:
    postgres_url = os.environ.get("MISURE_BENCH_POSTGRES_URL", "")
    if not postgres_url:
        sys.exit("MISURE_BENCH_POSTGRES_URL is not set: the protocol benchmark needs PostgreSQL")
    n = int(os.environ.get("MISURE_BENCH_NOTICES", "2000"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        err.log(f"baseline: one renderer over {n:,} notices")
        alone, alone_verdict = measured(postgres_url, folder / "alone", n, 1, kill=False)
        err.log(f"four renderers over {n:,} notices, one killed with SIGKILL")
        four, four_verdict = measured(postgres_url, folder / "four", n, 4, kill=True)
    table = Table(
        "renderers", "notices", "seconds", "notices/s", "ratio to one", "killed", "register",
        title=f"Outgoing protocol register: {n:,} notices on PostgreSQL",
    )  # fmt: skip
    for label, run, verdict in (("1", alone, alone_verdict), ("4", four, four_verdict)):
        table.add_row(
            label, f"{n:,}", f"{run.seconds:,.1f}", f"{n / run.seconds:,.1f}",
            f"{alone.seconds / run.seconds:.2f}", "yes" if run.killed else "no", verdict,
        )  # fmt: skip
    out.print(table)


if __name__ == "__main__":
    main()

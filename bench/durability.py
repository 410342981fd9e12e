"""`make bench`: what durable commits cost the embedded default (issue 11, item 2). SQLite in WAL
mode with `synchronous=NORMAL` may lose the last commits on a power loss; our engine sets
`synchronous=FULL`, which syncs the log at every commit so that a commit that returned survives
one. Both fire 'review' (one transaction each) on fresh databases in the same run, alternating,
and the table gives FULL's rate as a ratio to NORMAL's.

Environment: MISURE_BENCH_SYNC_N (transitions per setting and round, 2,000). Tables go to stdout,
progress to stderr.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.engine import migrate, transitions_seconds

SETTINGS = ("NORMAL", "FULL")
ROUNDS = 3
err = Console(stderr=True)
out = Console(width=160)


def seconds(folder: Path, synchronous: str, n: int) -> float:
    """Seconds for `n` transitions on a fresh SQLite database with `synchronous`."""
    path = folder / f"{uuid.uuid4().hex}.db"
    url = f"sqlite:///{path}"
    migrate(url)
    try:
        return transitions_seconds(url, n, lambda _done: None, synchronous)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def main() -> None:
    n = int(os.environ.get("MISURE_BENCH_SYNC_N", 2_000))
    started = time.perf_counter()
    spent = dict.fromkeys(SETTINGS, 0.0)
    with tempfile.TemporaryDirectory(prefix="misure-bench-") as tmp:
        for round_ in range(1, ROUNDS + 1):
            for synchronous in SETTINGS:
                taken = seconds(Path(tmp), synchronous, n)
                err.log(
                    f"SQLite: fire 'review' on {n:,} cases, synchronous={synchronous}, "
                    f"round {round_}: {taken:,.1f} s, {n / taken:,.0f}/s"
                )
                spent[synchronous] += taken
    rate = {synchronous: ROUNDS * n / taken for synchronous, taken in spent.items()}
    table = Table(title="Durable commits on SQLite (fire 'review', one transaction each)")
    table.add_column("synchronous")
    for header in ("n", "seconds", "ours/s", "ratio to NORMAL"):
        table.add_column(header, justify="right")
    for synchronous in SETTINGS:
        table.add_row(
            synchronous,
            f"{ROUNDS * n:,}",
            f"{spent[synchronous]:,.1f}",
            f"{rate[synchronous]:,.0f}",
            f"{rate[synchronous] / rate['NORMAL']:.2f}",
        )
    out.print(table)
    wall = round(time.perf_counter() - started)
    out.print(f"Wall time of the durability run: {wall} s", highlight=False)


if __name__ == "__main__":
    main()

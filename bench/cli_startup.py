"""`make bench`: how soon the `misure` command answers (issue 16, "a CLI that answers at once").

Each command is started N times (MISURE_BENCH_RUNS, 15) as its own process, in turns, beside the
baseline measured in the same run: `python -c pass`, the same interpreter starting and doing
nothing. The table gives each median, its difference to the baseline and the ratio, and whether
the target is met: `misure --help` and `misure terms due` under 0.3 s above the baseline,
`misure case show` and `misure case list` under 0.5 s above it, on a SQLite database holding the
demo of every configured procedure (what `make run` loads), created in a temporary folder. Three
references, measured alike, give what a command cannot go below: importing Typer with rich and
pydantic (Typer 0.29 reads every option with it); SQLAlchemy's ORM (what reads a case); and the
two with pydantic's models and the shared tables' mappings (storage.models), what `case show`
and `case list` import at the very least, whatever else they do.

Bytecode: as after the first run of an installed `misure`, the processes find their modules
compiled (in a cache in the temporary folder, filled by an untimed first run of each command);
in a shell with PYTHONDONTWRITEBYTECODE=1 and no cache, every start compiles the project's
modules again (`--no-bytecode` measures that). Tables go to stdout, progress to stderr.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
MISURE = str(Path(sys.executable).with_name("misure"))
TYPER = "import typer, rich.console, pydantic"
ORM = "import sqlalchemy.orm"
READ = "import typer, rich.console, pydantic.main, sqlalchemy.orm, storage.models"
err = Console(stderr=True)
out = Console(width=140)


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str]
    target: float | None  # seconds above the baseline; None: the baseline, or a reference


def demo_database(folder: Path) -> tuple[dict[str, str], str]:
    """A SQLite database with each configured procedure's demo, as `misure stack` loads it; the
    environment that points at it, and a case to show."""
    env = {
        **os.environ,
        "MISURE_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "MISURE_REGISTER_DIR": str(folder / "register"),
        "MISURE_OUTBOX_DIR": str(folder / "outbox"),
        "MISURE_PROTOCOL_DIR": str(folder / "protocol"),
        "MISURE_SEALS_DIR": str(folder / "seals"),
        "PYTHONPATH": str(ROOT),
    }
    script = (
        "from datetime import UTC, datetime\n"
        "from services import engine, schema\n"
        "from services.clock import FixedClock\n"
        "from services.context import Context\n"
        "from services.procedure import attribute\n"
        "from services.settings import Settings\n"
        "ctx = Context.from_settings(Settings(), FixedClock(datetime.now(UTC)))\n"
        "schema.upgrade(ctx.db, ctx.migration_folders, ctx.table_modules)\n"
        "for procedure in ctx.procedures:\n"
        "    if procedure.demo is not None:\n"
        "        attribute(procedure.demo)(ctx)\n"
        "rows = engine.list_cases(ctx, limit=100_000)\n"
        "print(len(rows), rows[len(rows) // 2].reference)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"loading the demo failed:\n{done.stderr}")
    count, reference = done.stdout.split()[-2:]
    err.print(f"demo loaded in {time.monotonic() - started:.0f} s: {count} cases")
    return env, reference


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def measure(commands: list[Command], env: dict[str, str], runs: int) -> dict[str, list[float]]:
    """Each command `runs` times, in turns (a slow moment of the machine falls on all alike),
    after an untimed first run of each."""
    for command in commands:
        timed(command.argv, env)
    found: dict[str, list[float]] = {command.label: [] for command in commands}
    for n in range(runs):
        err.print(f"round {n + 1}/{runs}", end="\r")
        for command in commands:
            found[command.label].append(timed(command.argv, env))
    err.print()
    return found


def table(commands: list[Command], found: dict[str, list[float]], title: str) -> Table:
    baseline = statistics.median(found[commands[0].label])
    shown = Table(
        "command", "median (s)", "above baseline (s)", "ratio", "target", "met", title=title
    )
    for n, command in enumerate(commands):
        median = statistics.median(found[command.label])
        above, ratio = f"{median - baseline:+.3f}", f"{median / baseline:.2f}"
        if n == 0:
            shown.add_row(command.label, f"{median:.3f}", "", ratio, "baseline", "")
        elif command.target is None:
            shown.add_row(command.label, f"{median:.3f}", above, ratio, "reference", "")
        else:
            met = "yes" if median - baseline < command.target else "NO"
            target = f"< {command.target:.1f} s above"
            shown.add_row(command.label, f"{median:.3f}", above, ratio, target, met)
    return shown


def main() -> None:
    runs = int(os.environ.get("MISURE_BENCH_RUNS", "15"))
    bytecode = "--no-bytecode" not in sys.argv
    with tempfile.TemporaryDirectory(prefix="misure-cli-bench-") as name:
        folder = Path(name)
        env, reference = demo_database(folder)
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        commands = [
            Command("python -c pass", [sys.executable, "-c", "pass"], None),
            # What a command cannot go below: Typer with rich, and pydantic, which Typer 0.29
            # reads every option with; SQLAlchemy's ORM, for every command that reads a case;
            # the two with the shared tables' mappings: what reading any case imports at least.
            Command("python: import typer, rich, pydantic", [sys.executable, "-c", TYPER], None),
            Command("python: import sqlalchemy.orm", [sys.executable, "-c", ORM], None),
            Command(
                "python: the above + storage.models (a read's floor)",
                [sys.executable, "-c", READ],
                None,
            ),
            Command("misure --help", [MISURE, "--help"], 0.3),
            Command(
                "misure terms due --start 2026-01-10 --days 10",
                [MISURE, "terms", "due", "--start", "2026-01-10", "--days", "10"],
                0.3,
            ),
            Command(f"misure case show {reference}", [MISURE, "case", "show", reference], 0.5),
            Command("misure case list", [MISURE, "case", "list"], 0.5),
        ]
        found = measure(commands, env, runs)
    cache = "compiled once, cached" if bytecode else "compiled at every start"
    out.print(
        table(
            commands,
            found,
            f"`misure` start-up: median of {runs} runs, in turns ({cache}; "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        )
    )


if __name__ == "__main__":
    main()

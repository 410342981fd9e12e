"""Latency from a court rejection to the freed place's reassignment, on `make run`'s stack
(Prefect server, worker, SQLite): the rejection is recorded with the CLI, which starts the
reallocation deployment at once; the clock stops when the head of the queue is attested.
Baseline, in the same run: the same rejection followed by a direct `misure placement
reallocate` (no Prefect). Target: under 15 s."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from machines.calendar import rome_date
from tests.support.stack import MISURE, ROOT, Stack, rejectable, state_of

ROUNDS = 3


def _reject(stack: Stack, reference: str, court: str, env: dict[str, str]) -> None:
    today = rome_date(datetime.now(UTC)).isoformat()
    done = subprocess.run(
        [MISURE, "placement", "decide", reference, "--outcome", "rejected",
         "--decided-on", today, "--court", court],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"decide {reference}: {done.stderr.strip()}")


def _wait_attested(url: str, reference: str, started: float) -> float:
    while state_of(url, reference) == "queued":
        if time.monotonic() - started > 300:
            raise TimeoutError(f"{reference} was not attested")
        time.sleep(0.1)
    return time.monotonic() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, Stack(Path(folder)) as stack:
        pairs = rejectable(stack.database_url)
        if len(pairs) < 2 * ROUNDS:
            raise SystemExit(f"the demo has {len(pairs)} UIEPEs with a queue; {2 * ROUNDS} needed")
        with_prefect, direct = [], []
        without_prefect = {k: v for k, v in stack.env.items() if k != "PREFECT_API_URL"}
        for at_court, waiting, court in pairs[:ROUNDS]:
            started = time.monotonic()
            _reject(stack, at_court, court, stack.env)
            with_prefect.append(_wait_attested(stack.database_url, waiting, started))
        for at_court, waiting, court in pairs[ROUNDS : 2 * ROUNDS]:
            started = time.monotonic()
            _reject(stack, at_court, court, without_prefect)  # reallocates in its own process
            direct.append(_wait_attested(stack.database_url, waiting, started))
    ours, floor = statistics.median(with_prefect), statistics.median(direct)
    print("rejection -> reassignment (median of 3, seconds)")
    print(f"  through Prefect (run_deployment at once): {ours:6.1f}   {with_prefect}")
    print(f"  baseline, the CLI reallocating in-process: {floor:6.1f}   {direct}")
    print(f"  ratio {ours / floor:.2f}; target under 15 s: {'met' if ours < 15 else 'NOT met'}")


if __name__ == "__main__":
    main()

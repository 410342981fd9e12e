"""Renderer processes over one database, for the protocol register's test and benchmark:
`misure notices render` run by several processes at once over seeded notices, one of them
killed with SIGKILL mid-run, then a finisher; and what the register holds afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from services.applied import NOTICE_TOPIC
from services.clock import FixedClock
from services.context import Context
from services.engine import fire
from storage.database import make_engine
from storage.models import Document, OutboxMessage, OutboxStatus, ProtocolEntry, ProtocolStatus
from tests.support.seed import seed_due_cases

ROOT = Path(__file__).resolve().parents[2]
MISURE = str(Path(sys.executable).with_name("misure"))
DEMO_MODULES = ["tests.support.demo"]


def seed_notices(url: str, count: int, now: FixedClock) -> None:
    """`count` demo cases rejected, each asking for a notice."""
    engine = make_engine(url)
    ctx = Context.build(engine, now, machine_modules=DEMO_MODULES)
    start = now.now()
    for reference in seed_due_cases(engine, count, start, start + timedelta(days=60)):
        fire(ctx, reference, "reject", "tribunale")
    engine.dispose()


@dataclass(frozen=True)
class Run:
    seconds: float
    killed: bool  # one renderer was killed with SIGKILL mid-run


def render_with(url: str, renderers: int, folder: Path, kill_at: int | None = None) -> Run:
    """Run `renderers` processes until the outbox is empty; with `kill_at`, the first is
    killed with SIGKILL once that many documents are stored, and a finisher renders what it
    held. Raises if a survivor fails."""
    env = {
        **os.environ,
        "MISURE_DATABASE_URL": url,
        "MISURE_PROCEDURES": "[]",
        "MISURE_MACHINE_MODULES": json.dumps(DEMO_MODULES),
        "PYTHONPATH": str(ROOT),
    }
    started = time.perf_counter()
    running = [_start(env, folder, f"renderer-{n}") for n in range(renderers)]
    killed = False
    if kill_at is not None:
        victim = running.pop(0)
        while _documents(url) < kill_at and victim.poll() is None:
            time.sleep(0.2)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=60)
        killed = victim.returncode == -signal.SIGKILL
    for process in running:
        _finished(process, folder)
    if kill_at is not None:
        _finished(_start(env, folder, "finisher"), folder)
    return Run(time.perf_counter() - started, killed)


def _start(env: dict[str, str], folder: Path, name: str) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.out").open("w") as stdout, (folder / f"{name}.err").open("w") as err:
        return subprocess.Popen(
            [MISURE, "notices", "render", "--json"], env=env, cwd=ROOT, stdout=stdout, stderr=err
        )


def _finished(process: subprocess.Popen[bytes], folder: Path) -> None:
    if process.wait(timeout=900) != 0:
        errors = "".join(path.read_text() for path in folder.glob("*.err"))
        raise RuntimeError(f"a renderer failed ({process.returncode}): {errors[-2000:]}")


def _documents(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(Document)) or 0
    finally:
        engine.dispose()


@dataclass(frozen=True)
class RegisterCheck:
    """What the register holds against the outbox: each list empty when it is right."""

    registers: set[tuple[str, int]]
    numbers: list[int]  # all numbers given, in order
    notices: int
    twice: list[int]  # outbox messages numbered more than once
    unnumbered: list[int]  # outbox messages without a number
    unsealed: list[int]  # entries whose fingerprint is not their document's
    pending: int  # outbox messages not done

    @property
    def contiguous(self) -> bool:
        return self.numbers == list(range(1, len(self.numbers) + 1))


def check_register(url: str) -> RegisterCheck:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            entries = connection.execute(
                select(
                    ProtocolEntry.office,
                    ProtocolEntry.year,
                    ProtocolEntry.number,
                    ProtocolEntry.outbox_id,
                    ProtocolEntry.sha256,
                    ProtocolEntry.status,
                ).order_by(ProtocolEntry.number)
            ).all()
            stored: dict[int, str] = {
                outbox_id: sha256
                for outbox_id, sha256 in connection.execute(
                    select(Document.outbox_id, Document.sha256)
                )
            }
            messages = connection.execute(
                select(OutboxMessage.id, OutboxMessage.status).where(
                    OutboxMessage.topic == NOTICE_TOPIC
                )
            ).all()
    finally:
        engine.dispose()
    numbered = Counter(entry.outbox_id for entry in entries)
    return RegisterCheck(
        registers={(entry.office, entry.year) for entry in entries},
        numbers=[entry.number for entry in entries],
        notices=len(messages),
        twice=[outbox_id for outbox_id, times in numbered.items() if times > 1],
        unnumbered=[m.id for m in messages if m.id not in numbered],
        unsealed=[
            entry.outbox_id
            for entry in entries
            if entry.status != ProtocolStatus.REGISTERED
            or entry.sha256 != stored.get(entry.outbox_id)
        ],
        pending=sum(1 for m in messages if m.status != OutboxStatus.DONE),
    )

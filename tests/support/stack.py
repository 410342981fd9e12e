"""`misure stack` (what `make run` starts) as a process of its own, for the end-to-end test and
the latency benchmark: started in a folder of its own on a free port, stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MISURE = str(Path(sys.executable).with_name("misure"))
API_ATTEMPTS = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stack:
    """The stack on `database_url` (default: a SQLite file in `folder`), its Prefect server's
    home in `folder`."""

    def __init__(
        self,
        folder: Path,
        database_url: str | None = None,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.folder, self.port, self.api_port = folder, free_port(), free_port()
        self.database_url = database_url or f"sqlite:///{folder / 'misure.db'}"
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.env = {
            **os.environ,
            "MISURE_DATABASE_URL": self.database_url,
            "PREFECT_HOME": str(folder / "prefect"),
            "PREFECT_API_URL": self.api_url,
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        self.args = args
        self.output = folder / "stack.out"
        self.process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    def __enter__(self) -> Stack:
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [MISURE, "stack", "--port", str(self.port), "--api-port", str(self.api_port),
                 *self.args],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 300
        while "pronto" not in self.output.read_text(errors="replace").split():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"the stack did not start:\n{self.text()}")
            time.sleep(1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.exit_code = self.process.returncode

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call the Prefect server's API. A 503 (its SQLite database busy, as happens while
        the stack starts on two cores) is retried as Prefect's own client does."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(API_ATTEMPTS):
            request = urllib.request.Request(
                self.api_url + path, data=data, method=method,
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return json.loads(answer.read() or b"null")
            except urllib.error.HTTPError as error:
                if error.code != 503 or attempt == API_ATTEMPTS - 1:
                    raise
            time.sleep(2**attempt)

    def run_deployment(self, name: str, parameters: dict[str, Any], timeout: float = 180) -> str:
        """Start a run of deployment `name` (flow/deployment) and wait until it completes;
        return its id."""
        deployment = self.api("GET", f"/deployments/name/{name}")
        run = self.api(
            "POST", f"/deployments/{deployment['id']}/create_flow_run", {"parameters": parameters}
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.api("GET", f"/flow_runs/{run['id']}")["state_type"]
            if state == "COMPLETED":
                return str(run["id"])
            if state in ("FAILED", "CRASHED", "CANCELLED"):
                raise RuntimeError(f"flow run {run['id']} ended {state}")
            time.sleep(1)
        raise TimeoutError(f"flow run {run['id']} did not complete in {timeout} s")

    def artifact(self, key: str) -> Any:
        found = self.api(
            "POST", "/artifacts/filter", {"artifacts": {"key": {"any_": [key]}}, "limit": 1,
                                          "sort": "CREATED_DESC"},
        )  # fmt: skip
        return found[0] if found else None


def rejectable(url: str) -> list[tuple[str, str, str]]:
    """(a case at court, the head of its UIEPE's queue, the court the first is pending before),
    one per UIEPE with a queue: a rejection of the first frees a place for the second. Cases
    whose attestation lapses within the hour are left out (the stack's sweeps would lapse them
    under the caller)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from storage.database import make_engine
    from storage.models import Case, Timer
    from storage.placements.models import Application

    soon = datetime.now(UTC) + timedelta(hours=1)
    db = make_engine(url)
    try:
        with db.connect() as connection:
            rows = connection.execute(
                select(Case.reference, Case.state, Application.office_id, Application.court)
                .join(Application, Application.case_id == Case.id)
                .where(Case.state.in_(["at_court", "queued"]))
                .order_by(Application.protocol_at, Application.protocol_number)
            ).all()
            lapsing = set(
                connection.scalars(
                    select(Case.reference)
                    .join(Timer, Timer.case_id == Case.id)
                    .where(Timer.status == "pending", Timer.due_at < soon)
                )
            )
    finally:
        db.dispose()
    rows = [row for row in rows if row[0] not in lapsing]
    pairs = []
    for office in dict.fromkeys(o for _, _, o, _ in rows):
        at_court = [(r, c) for r, s, o, c in rows if s == "at_court" and o == office]
        waiting = [r for r, s, o, _ in rows if s == "queued" and o == office]
        if at_court and waiting:
            pairs.append((at_court[0][0], waiting[0], at_court[0][1]))
    return pairs


def state_of(url: str, reference: str) -> str:
    from sqlalchemy import select

    from storage.database import make_engine
    from storage.models import Case

    db = make_engine(url)
    try:
        with db.connect() as connection:
            return str(connection.scalar(select(Case.state).where(Case.reference == reference)))
    finally:
        db.dispose()

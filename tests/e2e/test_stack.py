"""`make run`'s stack as a user meets it: the demo loaded, the Prefect UI answering (every URL
printed opens the V2 UI), a case inspected through the Prefect API, a court rejection reassigning
the place at once, and everything stopped by Ctrl-C; stopped as well, every child with its ports,
by SIGTERM, by SIGHUP while it starts, and when it fails to start."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from machines.calendar import rome_date
from tests.support.stack import MISURE, ROOT, Stack, rejectable, state_of

PREFECT = str(Path(MISURE).with_name("prefect"))
STOP_SECONDS = 60  # the stack gives its children twice 15 s, then kills what is left


@pytest.mark.timeout(900)
def test_the_stack_serves_the_ui_inspects_cases_and_reallocates_at_once(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    with stack:
        text = stack.text()
        assert "misure è in esecuzione" in text and "demo caricata" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/", timeout=10) as ui:
            assert ui.status == 200 and b"<html" in ui.read().lower()
        # Every UI address printed is the V2 UI's (which renders mermaid), a case's page too.
        ui_urls = [
            word for word in text.split() if word.startswith(f"http://127.0.0.1:{stack.port}/")
        ]
        assert ui_urls and {url.split("/")[3] for url in ui_urls} == {"v2"}, ui_urls
        assert f"  UI Prefect:  http://127.0.0.1:{stack.port}/v2/ " in text
        for url in ui_urls:  # as a browser asks: the V2 bundle, not a redirect to V1
            page = urllib.request.Request(url, headers={"Accept": "text/html"})
            with urllib.request.urlopen(page, timeout=10) as ui:
                assert ui.geturl() == url and b'href="/v2/' in ui.read()
        (case_url,) = [line.split()[2] for line in text.splitlines() if "  una pratica: " in line]
        artifact = case_url.rsplit("/", 1)[1]  # the page itself, updated in place
        assert case_url == f"http://127.0.0.1:{stack.port}/v2/artifacts/artifact/{artifact}"
        shown = stack.api("GET", f"/artifacts/{artifact}")
        assert shown["key"].startswith("case-") and "# Pratica" in shown["data"]
        prefect = f"PREFECT_API_URL=http://127.0.0.1:{stack.port}/api"
        assert f"export {prefect} PREFECT_UI_URL=http://127.0.0.1:{stack.port}/v2\n" in text
        api = f"http://127.0.0.1:{stack.api_port}/health"
        with urllib.request.urlopen(api, timeout=10) as health:  # the court API runs too
            assert json.loads(health.read()) == {"status": "ok", "database": "ok"}
        names = {d["name"] for d in stack.api("POST", "/deployments/filter", {})}
        assert names == {
            "sweep-due-timers",
            "reallocate-freed-places",
            "render-notices",
            "deliver-notices",
            "protocol-register",
            "quarterly-monitoring",
            "daily-dashboard",
            "case-status",
            "publish-case-pages",
            "retry-incident",
            "audit-trail",
            "publish-register-six-monthly",
            "publish-register-on-change",
            "register-dashboard",
            "lpu-dashboard",
            "probation-dashboard",
        }

        at_court, waiting, court = rejectable(stack.database_url)[0]
        stack.run_deployment("case-status/case-status", {"reference": at_court})
        artifact = stack.artifact(f"case-{at_court.lower()}")
        assert artifact is not None and artifact["type"] == "markdown"
        for fact in (f"# Pratica {at_court}", "`at_court`", "Termini in corso", "```mermaid"):
            assert fact in artifact["data"], fact

        # A court rejection through the CLI: the freed place goes to the head of the queue.
        today = rome_date(datetime.now(UTC)).isoformat()
        started = time.monotonic()
        decided = subprocess.run(
            [MISURE, "placement", "decide", at_court, "--outcome", "rejected",
             "--decided-on", today, "--court", court],
            env=stack.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert decided.returncode == 0, decided.stderr
        assert "reallocate: avviata l'esecuzione" in decided.stderr  # through Prefect
        while state_of(stack.database_url, waiting) == "queued":
            assert time.monotonic() - started < 120, "the place was not reassigned"
            time.sleep(0.2)
        latency = time.monotonic() - started
        print(f"rejection -> reassignment: {latency:.1f} s")
        assert state_of(stack.database_url, waiting) == "at_court"
        assert stack.process is not None
        descendants = _descendants(stack.process.pid)
    assert stack.exit_code == 0, stack.text()[-2000:]
    assert "arresto in corso (SIGINT)" in stack.text()
    _assert_stopped(descendants, [stack.port, stack.api_port])
    (line,) = [line for line in stack.text().splitlines() if "processi:" in line]
    children = dict(child.split() for child in line.split(":", 1)[1].split(","))
    assert {"prefect-server", "prefect-worker-1", "api"} <= set(children.values()), line
    for pid in map(int, children):  # the server, the worker, the API are gone, not orphaned
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} left running after Ctrl-C"


@pytest.mark.timeout(600)
def test_sigterm_stops_every_child_and_frees_the_ports(tmp_path: Path) -> None:
    stack = Stack(tmp_path, args=("--no-demo", "--host", "0.0.0.0"))
    with stack:
        assert stack.process is not None
        text = stack.text()
        assert f"  UI Prefect:  http://127.0.0.1:{stack.port}/v2/ " in text  # not 0.0.0.0
        assert f"  API tribunali: http://127.0.0.1:{stack.api_port}/docs " in text
        # Prefect's own CLI, given only the stack's PREFECT_HOME, reaches its server (a profile).
        env = {k: v for k, v in stack.env.items() if not k.startswith("PREFECT_API")}
        listed = subprocess.run(
            [PREFECT, "deployment", "ls"], env={**env, "COLUMNS": "200"}, cwd=ROOT,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert listed.returncode == 0 and "case-status/case-status" in listed.stdout, listed

        children = _descendants(stack.process.pid)
        assert len(children) >= 3  # the Prefect server, the worker, the court API
        started = time.monotonic()
        stack.process.send_signal(signal.SIGTERM)
        stack.process.wait(timeout=STOP_SECONDS)
        print(f"stopped by SIGTERM in {time.monotonic() - started:.1f} s")
    assert stack.exit_code == 0, stack.text()[-2000:]
    assert "arresto in corso (SIGTERM)" in stack.text()
    _assert_stopped(children, [stack.port, stack.api_port])


@pytest.mark.timeout(600)
def test_sighup_while_starting_stops_what_was_started(tmp_path: Path) -> None:
    stack = Stack(tmp_path, args=("--no-demo",))
    process, children = _start(stack)
    while not _listening(stack.port):  # the Prefect server is up, the rest still starting
        assert process.poll() is None, stack.text()
        children |= _descendants(process.pid)
        time.sleep(0.5)
    children |= _descendants(process.pid)
    process.send_signal(signal.SIGHUP)
    children |= _watch(process, STOP_SECONDS)
    assert process.returncode == 0, stack.text()[-2000:]
    assert "arresto in corso (SIGHUP)" in stack.text() and "pronto" not in stack.text().split()
    _assert_stopped(children, [stack.port, stack.api_port])


@pytest.mark.timeout(600)
def test_a_failed_start_stops_what_was_started(tmp_path: Path) -> None:
    stack = Stack(tmp_path, args=("--no-demo",))
    with socket.socket() as taken:  # the court API cannot listen: the stack fails at its end
        taken.bind(("127.0.0.1", stack.api_port))
        taken.listen()
        process, children = _start(stack)
        children |= _watch(process, 300)
    assert process.returncode == 1, stack.text()[-2000:]
    assert f"127.0.0.1:{stack.api_port}/health will not answer" in stack.text()
    assert (tmp_path / "log" / "prefect-worker-1.log").exists()  # the server and a worker ran
    _assert_stopped(children, [stack.port, stack.api_port])


def _start(stack: Stack) -> tuple[subprocess.Popen[bytes], set[tuple[int, str]]]:
    """`misure stack` as `Stack` runs it, but left to the caller from its first instant."""
    with stack.output.open("wb") as out:
        process = subprocess.Popen(
            [MISURE, "stack", "--port", str(stack.port), "--api-port", str(stack.api_port),
             *stack.args],
            env=stack.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return process, set()


def _watch(process: subprocess.Popen[bytes], seconds: float) -> set[tuple[int, str]]:
    """The descendants `process` has until it exits (within `seconds`)."""
    seen: set[tuple[int, str]] = set()
    deadline = time.monotonic() + seconds
    while process.poll() is None:
        assert time.monotonic() < deadline, "the stack did not exit"
        seen |= _descendants(process.pid)
        time.sleep(0.5)
    return seen


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields from the state on (state, parent, group, ..., start time)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _descendants(root: int) -> set[tuple[int, str]]:
    """(pid, start time) of every live process under `root`."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            fields = _stat(child)
            if fields is not None and fields[0] != "Z":
                found.add((child, fields[19]))
                todo.append(child)
    return found


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


def _assert_stopped(children: set[tuple[int, str]], ports: list[int]) -> None:
    """No child left running (a zombie, dead but not yet reaped by init, is not running), and
    nothing listening on the stack's ports."""
    for pid, start in children:
        fields = _stat(pid)
        running = fields is not None and fields[19] == start and fields[0] != "Z"
        assert not running, f"process {pid} left running: {fields}"
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()

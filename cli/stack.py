"""`misure stack`: what `make run` starts. The database migrated (and a fictional demo loaded if
it is empty), the Prefect server with its UI, the `misure` process work pool, every deployment
of prefect.yaml and a worker; it prints where to look and stops everything on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from cli.common import Refused, out, redacted, refusals
from services import engine, schema
from services.clock import FixedClock, SystemClock
from services.context import Context
from services.procedure import attribute, load_procedures
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def stack(
    port: Annotated[int, typer.Option(help="Port of the Prefect server and UI.")] = 4200,
    demo: Annotated[bool, typer.Option(help="Load the demo into an empty database.")] = True,
    workers: Annotated[int, typer.Option(min=1, help="Process workers of the pool.")] = 1,
    worker_limit: Annotated[
        int | None, typer.Option(min=1, help="Flow runs a worker runs at once.")
    ] = None,
    api_port: Annotated[int, typer.Option(help="Port of the court registry API.")] = 8400,
) -> None:
    """Run misure with Prefect: server and UI, work pool, deployments, a worker."""
    with refusals():
        env = _environment(port)
        database = env["MISURE_DATABASE_URL"]
        _prepare(database, demo)
    logs = Path(env["PREFECT_HOME"]).parent / "log"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    try:
        with refusals():
            _serve(children, env, port, logs, workers, worker_limit, api_port)
    except KeyboardInterrupt:
        out.print("stopping")
    finally:
        _stop(children)


def _serve(
    children: list[subprocess.Popen[bytes]],
    env: dict[str, str],
    port: int,
    logs: Path,
    workers: int,
    worker_limit: int | None,
    api_port: int,
) -> None:
    """Start the server, the pool, the deployments and the worker; return when interrupted,
    raise if one of them stops."""
    database = env["MISURE_DATABASE_URL"]
    server = ["server", "start", "--host", "127.0.0.1", "--port", str(port)]
    children.append(_start("prefect-server", server, env, logs))
    _wait_healthy(f"http://127.0.0.1:{port}/api/health", children[0])
    _wait_healthy(f"http://127.0.0.1:{port}/", children[0])  # the UI, once its files are ready
    _run(["work-pool", "create", "misure", "--type", "process", "--overwrite"], env)
    merged = _deployments(Path(env["PREFECT_HOME"]).parent / "prefect.yaml")
    _run(["--no-prompt", "deploy", "--all", "--prefect-file", str(merged)], env)
    for n in range(1, workers + 1):
        worker = ["worker", "start", "--pool", "misure", "--name", f"misure-worker-{n}"]
        if worker_limit is not None:
            worker += ["--limit", str(worker_limit)]
        children.append(_start(f"prefect-worker-{n}", worker, env, logs))
    api = [str(BIN / "misure"), "api", "serve", "--port", str(api_port)]
    children.append(_start("api", api, env, logs, program=None))
    _wait_healthy(f"http://127.0.0.1:{api_port}/health", children[-1])
    example = _example_case(database)
    if example is not None:
        run = ["deployment", "run", "case-status/case-status", "--param", f"reference={example}"]
        _run(run, env)
    lines = [
        f"[bold green]misure is running[/] on {redacted(database)}",
        f"  Prefect UI:  http://127.0.0.1:{port}  (deployments, runs, artifacts)",
        f"  court API:   http://127.0.0.1:{api_port}/docs  (tokens: misure api token issue)",
        f"  logs:        {logs}",
        "  inspect a case: Deployments > case-status > Run, with its reference",
        f"  processes:   {' '.join(str(child.pid) for child in children)} (server, workers, API)",
        "Ctrl-C stops everything.",
    ]
    if example is not None:
        lines.insert(
            2, f"  a case:      http://127.0.0.1:{port}/artifacts/key/case-{example.lower()}"
        )
    out.print("\n".join(lines), highlight=False)
    print("ready", flush=True)
    while all(child.poll() is None for child in children):
        time.sleep(1)
    stopped = next(c for c in children if c.poll() is not None)
    raise Refused(f"a process stopped (exit {stopped.returncode}); see {logs}")


def _environment(port: int) -> dict[str, str]:
    settings = Settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not os.path.isabs(url.database):
        url = url.set(database=str((ROOT / url.database).resolve()))  # the worker's cwd differs
    database = url.render_as_string(hide_password=False)
    (ROOT / "var").mkdir(exist_ok=True)
    return {
        **os.environ,
        "MISURE_ROOT": str(ROOT),
        "MISURE_DATABASE_URL": database,
        "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(ROOT / "var" / "prefect")),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # pick runs up within seconds (reallocation)
        "PREFECT_SERVER_UI_V2_ENABLED": "true",  # renders mermaid diagrams in artifacts
    }


def _prepare(database: str, demo: bool) -> None:
    """Migrate; into an empty database (no case yet), load each procedure's demo."""
    ctx = Context.from_settings(Settings(database_url=database), FixedClock(datetime.now(UTC)))
    try:
        schema.upgrade(ctx.db, ctx.migration_folders, ctx.table_modules)
        if demo and not engine.has_cases(ctx):
            for procedure in ctx.procedures:
                if procedure.demo is not None:
                    out.print(f"loading the demo of {procedure.name}")
                    out.print(f"demo loaded: {attribute(procedure.demo)(ctx)}")
    finally:
        ctx.db.dispose()


def _deployments(target: Path) -> Path:
    """The shared prefect.yaml with the deployments of every configured procedure, written to
    `target` (entrypoints stay relative to the repository, the flows' working directory)."""
    import yaml  # Prefect's own dependency

    merged = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for procedure in load_procedures(Settings().procedures):
        if procedure.deployments is not None:
            fragment = yaml.safe_load(procedure.deployments.read_text(encoding="utf-8"))
            merged["deployments"] += fragment.get("deployments", [])
    target.write_text(yaml.safe_dump(merged, sort_keys=False, allow_unicode=True), "utf-8")
    return target


def _example_case(database: str) -> str | None:
    """A case with a running term, to show in the UI at once."""
    ctx = Context.from_settings(Settings(database_url=database), SystemClock())
    try:
        return engine.example_case(ctx)
    finally:
        ctx.db.dispose()


def _start(
    name: str,
    args: list[str],
    env: dict[str, str],
    logs: Path,
    program: str | None = "prefect",
) -> subprocess.Popen[bytes]:
    """Start `prefect ARGS` (or ARGS itself when `program` is None), logging to logs/NAME.log,
    in a session of its own: Ctrl-C reaches the stack, which stops its children in order."""
    log = (logs / f"{name}.log").open("ab")
    command = args if program is None else [str(BIN / program), *args]
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(BIN / "prefect"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise Refused(f"prefect {' '.join(args[:2])} failed: {' / '.join(tail)}")


def _wait_healthy(url: str, server: subprocess.Popen[bytes], seconds: int = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Refused(f"{url} will not answer: its process exited ({server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise Refused(f"no answer on {url} within {seconds} s")


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in reversed(children):
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    for child in reversed(children):
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

"""`misure stack`: what `make run` starts. The database migrated (and a fictional demo loaded if
it is empty), the Prefect server with its UI, the `misure` process work pool, every deployment
of prefect.yaml, a worker and the court API; it prints where to look and stops everything on
Ctrl-C, SIGTERM or SIGHUP (each child's whole process group, then exit status 0), and if it fails
while starting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from cli.common import Refused, out, redacted, refusals
from services import engine, pages, schema
from services.clock import FixedClock, SystemClock
from services.context import Context
from services.procedure import attribute, load_procedures
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # each stops the stack as Ctrl-C does
PROFILE_MARK = "# written by `misure stack`: Prefect's CLI with this PREFECT_HOME reaches it"


def stack(
    port: Annotated[int, typer.Option(help="Porta del server e della UI di Prefect.")] = 4200,
    demo: Annotated[bool, typer.Option(help="Carica la demo in un database vuoto.")] = True,
    workers: Annotated[int, typer.Option(min=1, help="Worker di processo del work pool.")] = 1,
    worker_limit: Annotated[
        int | None, typer.Option(min=1, help="Esecuzioni di flow che un worker svolge insieme.")
    ] = None,
    api_port: Annotated[
        int, typer.Option(help="Porta dell'API per le cancellerie dei tribunali.")
    ] = 8400,
    host: Annotated[
        str, typer.Option(help="Indirizzo su cui ascoltano il server Prefect e l'API.")
    ] = "127.0.0.1",
) -> None:
    """Avvia misure con Prefect: server e UI, work pool, deployment, un worker, l'API.

    Ctrl-C, SIGTERM e SIGHUP fermano tutto (stato di uscita 0)."""
    previous = {stop: signal.signal(stop, _SIGNALS.interrupt) for stop in STOPS}
    children: _Children | None = None
    try:
        with refusals():
            env = _environment(host, port)
            _prepare(env["MISURE_DATABASE_URL"], demo)
            logs = Path(env["PREFECT_HOME"]).parent / "log"
            logs.mkdir(parents=True, exist_ok=True)
            children = _Children(env, logs)
            _serve(children, host, port, workers, worker_limit, api_port)
    except KeyboardInterrupt as stop:
        with suppress(OSError):  # the terminal may be gone (SIGHUP)
            out.print(f"arresto in corso ({stop.args[0] if stop.args else 'SIGINT'})")
    finally:
        for name in STOPS:  # nothing interrupts the stop itself
            signal.signal(name, signal.SIG_IGN)
        if children is not None:
            children.stop()
        for name, handler in previous.items():
            if handler is not None:
                signal.signal(name, handler)


def _serve(
    children: _Children,
    host: str,
    port: int,
    workers: int,
    worker_limit: int | None,
    api_port: int,
) -> None:
    """Start the server, the pool, the deployments, the workers and the API; return when
    interrupted, raise if one of them stops. A child is one `children.start` line."""
    env, logs = children.env, children.logs
    database = env["MISURE_DATABASE_URL"]
    prefect, misure, shown = str(BIN / "prefect"), str(BIN / "misure"), _shown(host)
    ui = f"http://{shown}:{port}/v2"
    server = children.start(
        "prefect-server", [prefect, "server", "start", "--host", host, "--port", str(port)]
    )
    _wait_healthy(f"http://{shown}:{port}/api/health", server)
    _wait_healthy(f"{ui}/", server)  # the UI, once its files are ready
    _run(["work-pool", "create", "misure", "--type", "process", "--overwrite"], env)
    merged = _deployments(Path(env["PREFECT_HOME"]).parent / "prefect.yaml")
    _run(["--no-prompt", "deploy", "--all", "--prefect-file", str(merged)], env)
    limit = [] if worker_limit is None else ["--limit", str(worker_limit)]
    for n in range(1, workers + 1):
        name = f"misure-worker-{n}"
        children.start(
            f"prefect-worker-{n}",
            [prefect, "worker", "start", "--pool", "misure", "--name", name, *limit],
        )
    api = children.start("api", [misure, "api", "serve", "--host", host, "--port", str(api_port)])
    _wait_healthy(f"http://{shown}:{api_port}/health", api)
    children.start("dispatcher", [misure, "dispatch"])  # starts each job when it has work
    example = _example_case(database)
    if example is not None:
        run = ["deployment", "run", "case-status/case-status", "--param", f"reference={example}"]
        _run(run, env)
    wait = 0 if example is None else 90  # the pages of an empty database take no time
    lines = [
        f"[bold green]misure è in esecuzione[/] su {redacted(database)}",
        f"  UI Prefect:  {ui}/  (deployment, esecuzioni, artefatti)",
        f"  API tribunali: http://{shown}:{api_port}/docs  (token: misure api token issue)",
        f"  code lavoro: {ui.removesuffix('/v2')}{_page_path(database, pages.INDEX_KEY, wait)}"
        "  (ogni ufficio, autorità giudiziaria e pratica)",
        f"  log:         {logs}",
        "  incidenti:   Deployments > retry-incident > Run, con il riferimento della pratica",
        f"  processi:    {children.described()}",
        "La CLI di Prefect raggiunge questo server con:",
        f"  export PREFECT_API_URL={env['PREFECT_API_URL']} PREFECT_UI_URL={env['PREFECT_UI_URL']}",
        "Ctrl-C (o SIGTERM) arresta tutto.",
    ]
    if example is not None:
        page = _page_path(database, pages.case_key(example), wait)
        lines.insert(2, f"  una pratica: {ui.removesuffix('/v2')}{page}")
    out.print("\n".join(lines), highlight=False, soft_wrap=True)
    print("pronto", flush=True)  # what scripts and tests wait for
    while (stopped := children.stopped()) is None:
        time.sleep(1)
    raise Refused(f"{stopped} si è arrestato; vedi {logs}")


def _shown(host: str) -> str:
    """The address to print and to call for a server listening on `host`."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _environment(host: str, port: int) -> dict[str, str]:
    settings = Settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not os.path.isabs(url.database):
        url = url.set(database=str((ROOT / url.database).resolve()))  # the worker's cwd differs
    database = url.render_as_string(hide_password=False)
    (ROOT / "var").mkdir(exist_ok=True)
    home = Path(os.environ.get("PREFECT_HOME", str(ROOT / "var" / "prefect")))
    prefect = {
        "PREFECT_API_URL": f"http://{_shown(host)}:{port}/api",
        "PREFECT_UI_URL": f"http://{_shown(host)}:{port}/v2",  # Prefect's own links: V2 UI
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    _profile(home, prefect)
    return {
        **os.environ,
        **prefect,
        "MISURE_ROOT": str(ROOT),
        "MISURE_DATABASE_URL": database,
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # pick runs up within seconds (reallocation)
        "PREFECT_SERVER_UI_V2_ENABLED": "true",  # renders mermaid diagrams in artifacts
    }


def _profile(home: Path, settings: dict[str, str]) -> None:
    """The active Prefect profile of `home` pointed at this stack, so that
    `PREFECT_HOME=var/prefect prefect ...` reaches it; a profiles file not written here is left
    alone."""
    path = home / "profiles.toml"
    if path.exists() and not path.read_text(encoding="utf-8").startswith(PROFILE_MARK):
        return
    home.mkdir(parents=True, exist_ok=True)
    values = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    path.write_text(f'{PROFILE_MARK}\nactive = "misure"\n\n[profiles.misure]\n{values}', "utf-8")


def _prepare(database: str, demo: bool) -> None:
    """Migrate; into an empty database (no case yet), load each procedure's demo."""
    ctx = Context.from_settings(Settings(database_url=database), FixedClock(datetime.now(UTC)))
    try:
        schema.upgrade(ctx.db, ctx.migration_folders, ctx.table_modules)
        if demo and not engine.has_cases(ctx):
            for procedure in ctx.procedures:
                if procedure.demo is not None:
                    out.print(f"caricamento della demo di {procedure.name}")
                    out.print(f"demo caricata: {attribute(procedure.demo)(ctx)}")
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


def _page_path(database: str, key: str, seconds: float = 90) -> str:
    """Where the UI shows page `key`: its artifact, once published (the run just started
    publishes it), else the versions of its key."""
    ctx = Context.from_settings(Settings(database_url=database), SystemClock())
    try:
        deadline = time.monotonic() + seconds
        while key not in pages.artifact_ids(ctx, [key]) and time.monotonic() < deadline:
            time.sleep(1)
        return pages.ui_path(ctx, key)
    finally:
        ctx.db.dispose()


def _example_case(database: str) -> str | None:
    """A case with a running term, to show in the UI at once."""
    ctx = Context.from_settings(Settings(database_url=database), SystemClock())
    try:
        return engine.example_case(ctx)
    finally:
        ctx.db.dispose()


class _Signals:
    """Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt (naming the signal) in the main
    thread; one that arrives while a child is being started waits until the child is on the
    list of processes to stop."""

    def __init__(self) -> None:
        self.holding = False
        self.pending: str | None = None

    def interrupt(self, number: int, frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if self.holding:
            self.pending = name
            return
        raise KeyboardInterrupt(name)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.pending is not None:
            name, self.pending = self.pending, None
            raise KeyboardInterrupt(name)


_SIGNALS = _Signals()


class _Children:
    """The stack's processes, each in a session (so a process group) of its own, logging to
    logs/NAME.log: Ctrl-C reaches the stack alone, which stops them, each whole group."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        with _SIGNALS.held(), (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            self.started.append((name, process))
        return process

    def described(self) -> str:
        return ", ".join(f"{process.pid} {name}" for name, process in self.started)

    def stopped(self) -> str | None:
        """The first child that has exited, named with its exit status."""
        return next(
            (f"{n} (uscita {p.returncode})" for n, p in self.started if p.poll() is not None),
            None,
        )

    def stop(self, seconds: float = 15) -> None:
        """Stop every child's whole group: those that talk to the server (the last started
        first) together, then the server, so that none waits on a server gone. SIGTERM, then
        SIGKILL to what is left after `seconds`: a group that outlived its leader, and any
        descendant in a session of its own (a worker's flow run) that its parent left."""
        strays = _descendants(_processes(), os.getpid())
        processes = [process for _, process in self.started]
        for batch in (processes[:0:-1], processes[:1]):
            for process in batch:
                _signal_group(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and _running(batch):
                time.sleep(0.2)
            for process in _running(batch):
                _signal_group(process.pid, signal.SIGKILL)
            for process in batch:
                process.wait()
        table = _processes()
        for pid, started in strays:
            if pid in table and table[pid][2] == started:  # the same process, not its pid reused
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _running(processes: list[subprocess.Popen[bytes]]) -> list[subprocess.Popen[bytes]]:
    """Those of `processes` whose group still has a process running."""
    groups = {group for _, group, _ in _processes().values()}
    return [p for p in processes if p.poll() is None or p.pid in groups]


def _processes() -> dict[int, tuple[int, int, str]]:
    """Every process that is not a zombie: pid -> (parent, group, start time), from Linux's
    /proc (elsewhere none: then a group is known by its leader alone)."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                table[int(stat.parent.name)] = (int(fields[1]), int(fields[2]), fields[19])
    return table


def _descendants(table: dict[int, tuple[int, int, str]], root: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process under `root` in `table`."""
    found, parents = set(), {root}
    while parents:
        parents = {pid for pid, (parent, _, _) in table.items() if parent in parents}
        found |= {(pid, table[pid][2]) for pid in parents}
    return found


def _signal_group(group: int, number: int) -> None:
    with suppress(ProcessLookupError):  # the whole group has exited
        os.killpg(group, number)


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(BIN / "prefect"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise Refused(f"prefect {' '.join(args[:2])} non riuscito: {' / '.join(tail)}")


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
    raise Refused(f"nessuna risposta da {url} entro {seconds} s")

"""The `misure` command line: every command prints rich text, or one JSON document with --json.

A refusal prints one line on stderr and exits 1; nothing is half-written.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from machines.calendar import ROME, CalendarMismatch, TermRule, Unit, is_holiday
from services import engine, notices, schema, timers
from services.clock import Clock, FixedClock, SystemClock
from services.context import Context
from services.errors import DomainError, InvalidInput
from services.settings import Settings
from storage.models import Case, CaseEvent, Timer

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
case_app = typer.Typer(no_args_is_help=True, help="Cases: list, show, open, fire triggers.")
timers_app = typer.Typer(no_args_is_help=True, help="Durable timers: sweep, incidents.")
terms_app = typer.Typer(no_args_is_help=True, help="Legal terms (DOMAIN.md section 6).")
notices_app = typer.Typer(no_args_is_help=True, help="Notices: render what the outbox asks for.")
app.add_typer(db_app, name="db")
app.add_typer(notices_app, name="notices")
app.add_typer(case_app, name="case")
app.add_typer(timers_app, name="timers")
app.add_typer(terms_app, name="terms")

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
NowOption = Annotated[
    str | None, typer.Option("--now", help="The instant to act at (ISO 8601, with offset).")
]


def main() -> None:
    app()


class Refused(Exception):
    """A usage error found after parsing (bad --data, naive --now)."""


@contextmanager
def _refusals(as_json: bool = False) -> Iterator[None]:
    """Turn refusals into one line on stderr (a JSON object with --json) and exit status 1."""
    try:
        yield
    except (DomainError, Refused, CalendarMismatch, ValueError) as error:
        _fail(error, as_json)


def _fail(error: Exception, as_json: bool) -> NoReturn:
    message = " ".join(str(error).split())
    if as_json:
        code = error.code if isinstance(error, DomainError) else "invalid_input"
        sys.stderr.write(json.dumps({"error": code, "message": message}) + "\n")
    else:
        err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _context(now: str | None = None) -> Context:
    clock: Clock = SystemClock() if now is None else FixedClock(_instant(now))
    return Context.from_settings(Settings(), clock)


def _instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise Refused(f"--now {value!r} is not an ISO 8601 instant") from error
    if instant.tzinfo is None:
        raise Refused(f"--now {value!r} needs an offset, e.g. 2026-03-02T09:00:00+01:00")
    return instant.astimezone(UTC)


def _pairs(values: list[str]) -> dict[str, Any]:
    """key=value pairs; a value that reads as JSON (number, true, null, list) is taken as such."""
    parsed: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise Refused(f"--data {item!r} is not key=value")
        try:
            parsed[key] = json.loads(raw)
        except ValueError:
            parsed[key] = raw
    return parsed


def _emit(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=_json_value) + "\n")


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def _rome(instant: datetime | None) -> str:
    return "" if instant is None else instant.astimezone(ROME).strftime("%d/%m/%Y %H:%M")


def _case_json(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "kind": case.kind,
        "state": case.state,
        "version": case.version,
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


def _timer_json(timer: Timer) -> dict[str, Any]:
    return {
        "name": timer.name,
        "fires": timer.fires,
        "notice": timer.notice,
        "due_at": timer.due_at.isoformat(),
        "due_at_rome": _rome(timer.due_at),
        "term": timer.legal_basis,
        "status": timer.status,
        "attempts": timer.attempts,
    }


def _event_json(event: CaseEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "trigger": event.trigger,
        "from": event.from_state,
        "to": event.to_state,
        "actor": event.actor,
        "legal_basis": event.legal_basis,
        "payload": event.payload,
        "occurred_at": event.occurred_at.isoformat(),
    }


# db ------------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema to the latest revision."""
    with _refusals(as_json):
        settings = Settings()
        ctx = _context()
        revision = schema.upgrade(ctx.db)
    if as_json:
        _emit({"revision": revision, "database": _redacted(settings.database_url)})
    else:
        out.print(f"database at revision [bold]{revision}[/] ({_redacted(settings.database_url)})")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# case ----------------------------------------------------------------------------------------
@case_app.command("list")
def case_list(
    kind: Annotated[str | None, typer.Option(help="Only cases of this kind.")] = None,
    state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 500,
    as_json: JsonOption = False,
) -> None:
    """List cases, oldest first."""
    with _refusals(as_json):
        cases = engine.list_cases(_context(), kind, state, limit)
    if as_json:
        _emit({"cases": [_case_json(case) for case in cases]})
        return
    table = Table("reference", "kind", "state", "version", "updated (Italian time)")
    for case in cases:
        table.add_row(
            case.reference, case.kind, case.state, str(case.version), _rome(case.updated_at)
        )
    out.print(table)
    out.print(f"{len(cases)} case(s)")


@case_app.command("show")
def case_show(reference: str, as_json: JsonOption = False) -> None:
    """State, what can happen now (and why not), pending timers and the full history."""
    with _refusals(as_json):
        detail = engine.describe(_context(), reference)
    if as_json:
        _emit(
            {
                "case": _case_json(detail.case),
                "triggers": [asdict(verdict) for verdict in detail.verdicts],
                "pending_timers": [_timer_json(timer) for timer in detail.pending_timers],
                "history": [_event_json(event) for event in detail.history],
            }
        )
        return
    case = detail.case
    out.print(
        f"[bold]{case.reference}[/] ({case.kind}) - state [bold]{case.state}[/], "
        f"version {case.version}"
    )
    triggers = Table("trigger", "allowed", "to", "why not", title="What can happen now")
    for verdict in detail.verdicts:
        triggers.add_row(
            verdict.trigger,
            "yes" if verdict.allowed else "no",
            verdict.dest or "",
            "; ".join(verdict.reasons),
        )
    out.print(triggers)
    pending = Table("timer", "due (Italian time)", "does", "term", title="Pending timers")
    for timer in detail.pending_timers:
        does = timer.fires or f"notice {timer.notice}"
        pending.add_row(timer.name, _rome(timer.due_at), does, timer.legal_basis)
    out.print(pending)
    history = Table(
        "#", "when (Italian time)", "trigger", "from", "to", "actor", "legal basis", title="History"
    )
    for event in detail.history:
        history.add_row(
            str(event.sequence),
            _rome(event.occurred_at),
            event.trigger,
            event.from_state or "",
            event.to_state,
            event.actor,
            event.legal_basis,
        )
    out.print(history)


DataOption = Annotated[
    list[str] | None, typer.Option("--data", help="key=value, repeatable.", show_default=False)
]
ActorOption = Annotated[str, typer.Option(help="Who acts (recorded on the event).")]
KeyOption = Annotated[
    str | None, typer.Option("--key", help="Idempotency key: the same key twice is one change.")
]


@case_app.command("open")
def case_open(
    kind: str,
    actor: ActorOption = "cli",
    data: DataOption = None,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a case of KIND in its initial state."""
    with _refusals(as_json):
        result = engine.open_case(_context(now), kind, actor, _pairs(data or []), key)
    _print_result(result, as_json)


@case_app.command("fire")
def case_fire(
    reference: str,
    trigger: str,
    actor: ActorOption = "cli",
    data: DataOption = None,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fire TRIGGER on case REFERENCE."""
    with _refusals(as_json):
        result = engine.fire(_context(now), reference, trigger, actor, _pairs(data or []), key)
    _print_result(result, as_json)


def _print_result(result: engine.FireResult, as_json: bool) -> None:
    if as_json:
        _emit(asdict(result))
        return
    replayed = " (already done with this key)" if result.replayed else ""
    out.print(
        f"{result.reference}: {result.trigger} {result.from_state or '-'} -> "
        f"[bold]{result.to_state}[/] (event {result.sequence}){replayed}"
    )


# timers --------------------------------------------------------------------------------------
@timers_app.command("sweep")
def timers_sweep(
    now: NowOption = None,
    batch: Annotated[int, typer.Option(min=1, help="Timers claimed per batch.")] = 500,
    mode: Annotated[
        timers.SweepMode,
        typer.Option(help="One transaction per firing, or per batch with savepoints."),
    ] = (timers.SweepMode.EACH),
    as_json: JsonOption = False,
) -> None:
    """Fire every timer due now (or at --now)."""
    with _refusals(as_json):
        ctx = _context(now)
        at = ctx.clock.now()
        total = timers.count_due(ctx, at)
        if as_json or total <= batch:
            report = timers.sweep(ctx, at, batch=batch, mode=mode)
        else:
            report = _sweep_with_progress(ctx, at, batch, mode, total)
    if as_json:
        _emit({"at": at.isoformat(), "due": total, **asdict(report)})
        return
    out.print(
        f"sweep at {_rome(at)}: {report.fired} fired, {report.cancelled} cancelled, "
        f"{report.retried} to retry, {report.failed} failed"
    )
    for incident in report.incidents:
        err.print(f"[red]incident:[/] {incident}", highlight=False)


def _sweep_with_progress(
    ctx: Context, at: datetime, batch: int, mode: timers.SweepMode, total: int
) -> timers.SweepReport:
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("firing due timers", total=total)
        advance: Callable[[int], None] = lambda done: bar.advance(task, done)  # noqa: E731
        return timers.sweep(ctx, at, batch=batch, mode=mode, progress=advance)


@timers_app.command("incidents")
def timers_incidents(as_json: JsonOption = False) -> None:
    """Timers that failed all their attempts: they need a person."""
    with _refusals(as_json):
        found = timers.incidents(_context())
    if as_json:
        _emit(
            {
                "incidents": [
                    {"reference": ref, **_timer_json(t), "error": t.last_error} for t, ref in found
                ]
            }
        )
        return
    table = Table(
        "case", "timer", "due (Italian time)", "attempts", "last error", title="Incidents"
    )
    for timer, reference in found:
        table.add_row(
            reference, timer.name, _rome(timer.due_at), str(timer.attempts), timer.last_error or ""
        )
    out.print(table)


@app.command("work")
def work(
    every: Annotated[float, typer.Option(min=1, help="Seconds between rounds.")] = 60,
    batch: Annotated[int, typer.Option(min=1, help="Timers claimed per batch.")] = 500,
) -> None:
    """Every few seconds, fire due timers and render pending notices, until interrupted
    (the embedded scheduler; Prefect deployments take this over on a server)."""
    ctx = _context()
    office = _office()
    out.print(f"firing due timers and rendering notices every {every:g} s; Ctrl-C to stop")
    try:
        while True:
            with _refusals():
                swept = timers.sweep(ctx, ctx.clock.now(), batch=batch)
                rendered = notices.render_pending_notices(ctx, office)
            if swept.handled or rendered.handled:
                out.print(
                    f"{_rome(ctx.clock.now())}: timers {swept.fired} fired, "
                    f"{swept.cancelled} cancelled, {swept.retried} to retry, {swept.failed} "
                    f"failed; notices {rendered.rendered} rendered, {rendered.failed} failed"
                )
            time.sleep(every)
    except KeyboardInterrupt:
        out.print("stopped")


# notices -------------------------------------------------------------------------------------
def _office() -> notices.Office:
    settings = Settings()
    return notices.Office(settings.office_name, settings.office_place)


@notices_app.command("render")
def notices_render(
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Render every pending notice to HTML and PDF, each exactly once."""
    with _refusals(as_json):
        report = notices.render_pending_notices(_context(), _office(), limit=limit)
    if as_json:
        _emit(asdict(report))
        return
    out.print(
        f"{report.rendered} rendered, {report.already_rendered} already rendered, "
        f"{report.failed} failed"
    )


@case_app.command("documents")
def case_documents(
    reference: str,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write each PDF into this folder.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The notices rendered for a case, with their sha256; --out writes the PDFs."""
    with _refusals(as_json):
        found = notices.document_for(_context(), reference)
        written: list[str] = []
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            for document in found:
                target = out_dir / f"{reference}-{document.id}-{document.template}.pdf"
                target.write_bytes(document.pdf)
                written.append(str(target))
    rows = [
        {
            "id": d.id,
            "template": d.template,
            "event_id": d.event_id,
            "sha256": d.sha256,
            "rendered_at": d.rendered_at.isoformat(),
            "bytes": len(d.pdf),
        }
        for d in found
    ]
    if as_json:
        _emit({"reference": reference, "documents": rows, "written": written})
        return
    table = Table("id", "template", "rendered (Italian time)", "sha256", title=reference)
    for document in found:
        table.add_row(
            str(document.id), document.template, _rome(document.rendered_at), document.sha256
        )
    out.print(table)
    for name in written:
        out.print(f"written {name}")


# terms ---------------------------------------------------------------------------------------
@terms_app.command("due")
def terms_due(
    start: Annotated[str, typer.Option(help="The starting day (YYYY-MM-DD), not counted.")],
    days: Annotated[int | None, typer.Option(min=1, help="A term in days.")] = None,
    months: Annotated[int | None, typer.Option(min=1, help="A term in months.")] = None,
    extend_on_holiday: Annotated[
        bool, typer.Option(help="Move an end on a holiday to the next working day.")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """When a term ends and when its timer is due (00:00 Italian time of the next day)."""
    with _refusals(as_json):
        if (days is None) == (months is None):
            raise InvalidInput("give exactly one of --days and --months")
        try:
            start_day = date.fromisoformat(start)
        except ValueError as error:
            raise InvalidInput(f"--start {start!r} is not a date (YYYY-MM-DD)") from error
        amount, unit = (days, Unit.DAYS) if days is not None else (months, Unit.MONTHS)
        assert amount is not None
        article = "art. 172 c.p.p." if unit is Unit.DAYS else "art. 2963 c.c."
        rule = TermRule(amount, unit, extend_on_holiday, article)
        last = rule.last_day(start_day)
        due = rule.due_at(start_day)
        unextended = TermRule(amount, unit, False, article).last_day(start_day)
    document = {
        "start": start_day.isoformat(),
        "term": rule.describe(),
        "nominal_last_day": unextended.isoformat(),
        "nominal_last_day_is_holiday": is_holiday(unextended),
        "last_day": last.isoformat(),
        "due_at": due.isoformat(),
        "due_at_rome": due.astimezone(ROME).isoformat(),
    }
    if as_json:
        _emit(document)
        return
    moved = f" (moved from {unextended:%d/%m/%Y}, a holiday)" if last != unextended else ""
    out.print(
        f"term {rule.describe()} from {start_day:%d/%m/%Y}: last day "
        f"[bold]{last:%d/%m/%Y}[/]{moved}; timer due {_rome(due)} Italian time "
        f"({due.isoformat()})"
    )

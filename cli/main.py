"""The `misure` command line: every command prints rich text, or one JSON document with --json.

A refusal prints one line on stderr and exits 1; nothing is half-written. A usage error (an
unknown command or option, a missing or malformed value) prints one line and exits 2.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from cli import api as api_cli
from cli import audit as audit_cli
from cli import delivery as delivery_cli
from cli import outgoing as outgoing_cli
from cli import stack as stack_cli
from cli.common import (
    COUNT_MAX,
    ActorOption,
    DataOption,
    JsonOption,
    KeyOption,
    NowOption,
    Unavailable,
    act_on_signals,
    detail_json,
    emit,
    err,
    make_context,
    out,
    pairs,
    print_result,
    redacted,
    refusals,
    rome,
    row_json,
    run,
    tell,
    timer_json,
)
from machines.calendar import ROME, TermRule, Unit, is_holiday
from services import delivery, engine, notices, schema, timers
from services.context import Context
from services.errors import InvalidInput
from services.procedure import attribute, load_procedures
from services.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
case_app = typer.Typer(no_args_is_help=True, help="Cases: list, show, open, fire triggers.")
timers_app = typer.Typer(no_args_is_help=True, help="Durable timers: sweep, incidents.")
terms_app = typer.Typer(no_args_is_help=True, help="Legal terms (DOMAIN.md section 6).")
notices_app = typer.Typer(
    no_args_is_help=True,
    help="Notices: render and send what the outbox asks for; letterheads, protocol register.",
)
app.add_typer(db_app, name="db")
app.add_typer(notices_app, name="notices")
app.add_typer(case_app, name="case")
app.add_typer(timers_app, name="timers")
app.add_typer(terms_app, name="terms")
app.command("stack")(stack_cli.stack)
app.add_typer(api_cli.api_app, name="api")
app.add_typer(audit_cli.audit_app, name="audit")
outgoing_cli.register(notices_app, case_app)
delivery_cli.register(notices_app)


def _mount_procedures() -> str | None:
    """Each configured procedure adds its actors' commands; a configuration that cannot be
    loaded is told in one line, naming the setting, when the command runs."""
    try:
        for procedure in load_procedures(Settings().procedures):
            if procedure.cli is not None:
                attribute(procedure.cli)(app)
    except (ImportError, ValueError, AttributeError) as error:
        return f"configurazione non valida (MISURE_PROCEDURES, misure.toml): {error}"
    return None


CONFIGURATION_ERROR = _mount_procedures()


# db ------------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Create or migrate the schema to the latest revision."""
    with refusals(as_json):
        settings = Settings()
        ctx = make_context()
        revision = schema.upgrade(ctx.db, ctx.migration_folders, ctx.table_modules)
    if as_json:
        emit({"revision": revision, "database": redacted(settings.database_url)})
    else:
        out.print(f"database at revision [bold]{revision}[/] ({redacted(settings.database_url)})")


# case ----------------------------------------------------------------------------------------
@case_app.command("list")
def case_list(
    kind: Annotated[str | None, typer.Option(help="Only cases of this kind.")] = None,
    state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=COUNT_MAX, help="At most this many.")] = 500,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """List cases, oldest first, each in its state in law (a term already passed counts)."""
    with refusals(as_json):
        cases = engine.list_cases(make_context(now), kind, state, limit)
    if as_json:
        emit({"cases": [row_json(case) for case in cases]})
        return
    table = Table("reference", "kind", "state", "version", "updated (Italian time)")
    for case in cases:
        table.add_row(
            case.reference, case.kind, case.state, str(case.version), rome(case.updated_at)
        )
    out.print(table)
    out.print(f"{len(cases)} case(s)")


@case_app.command("show")
def case_show(reference: str, now: NowOption = None, as_json: JsonOption = False) -> None:
    """State in law, what can happen now (and why not), terms, the full history and what the
    procedure knows of the case (dates, court, decision, facility and place)."""
    with refusals(as_json):
        detail = engine.describe(make_context(now), reference)
    if as_json:
        emit(detail_json(detail))
        return
    case = detail.case
    out.print(
        f"[bold]{case.reference}[/] ({case.kind}) - state [bold]{detail.state}[/], "
        f"version {case.version}"
    )
    for passed in detail.passed_terms:
        out.print(
            f"term [bold]{passed.timer}[/] passed at {rome(passed.due_at)} (Italian time): "
            f"{passed.trigger} -> {passed.to_state}, effective then; not yet recorded by a sweep"
        )
    if detail.facts:
        facts = Table("fact", "value", title="What the procedure knows")
        for name, value in detail.facts.items():
            if value is not None:
                facts.add_row(name, str(value))
        out.print(facts)
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
        pending.add_row(timer.name, rome(timer.due_at), does, timer.legal_basis)
    out.print(pending)
    history = Table(
        "#",
        "effective (Italian time)",
        "trigger",
        "from",
        "to",
        "actor",
        "legal basis",
        title="History",
    )
    for event in detail.history:
        recorded = "" if event.effective_at == event.occurred_at else " *"
        history.add_row(
            str(event.sequence),
            rome(event.effective_at) + recorded,
            event.trigger,
            event.from_state or "",
            event.to_state,
            event.actor,
            event.legal_basis,
        )
    out.print(history)
    if any(event.effective_at != event.occurred_at for event in detail.history):
        out.print("* recorded later than it took effect (a term that lapsed before the sweep ran)")


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
    with refusals(as_json):
        ctx = make_context(now)
        result = engine.open_case(ctx, kind, actor, pairs(data or []), key)
    print_result(result, as_json, ctx)


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
    with refusals(as_json):
        ctx = make_context(now)
        result = engine.fire(ctx, reference, trigger, actor, pairs(data or []), key)
    print_result(result, as_json, ctx)


# timers --------------------------------------------------------------------------------------
@timers_app.command("sweep")
def timers_sweep(
    now: NowOption = None,
    batch: Annotated[
        int, typer.Option(min=1, max=COUNT_MAX, help="Timers claimed per batch.")
    ] = 500,
    mode: Annotated[
        timers.SweepMode,
        typer.Option(help="One transaction per firing, or per batch with savepoints."),
    ] = (timers.SweepMode.EACH),
    as_json: JsonOption = False,
) -> None:
    """Fire every timer due now (or at --now)."""
    with refusals(as_json):
        ctx = make_context(now)
        at = ctx.clock.now()
        total = timers.count_due(ctx, at)
        if as_json or total <= batch:
            report = timers.sweep(ctx, at, batch=batch, mode=mode)
        else:
            report = _sweep_with_progress(ctx, at, batch, mode, total)
        served = act_on_signals(ctx, report.signals, f"sweep:{at.isoformat()}")
    if as_json:
        emit({"at": at.isoformat(), "due": total, **asdict(report), "served": served})
        return
    out.print(
        f"sweep at {rome(at)}: {report.fired} fired, {report.cancelled} cancelled, "
        f"{report.retried} to retry, {report.failed} failed"
    )
    for line in served:
        err.print(line, highlight=False)
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
    with refusals(as_json):
        found = timers.incidents(make_context())
    if as_json:
        emit(
            {
                "incidents": [
                    {"reference": ref, **timer_json(t), "error": t.last_error} for t, ref in found
                ]
            }
        )
        return
    table = Table(
        "case", "timer", "due (Italian time)", "attempts", "last error", title="Incidents"
    )
    for timer, reference in found:
        table.add_row(
            reference, timer.name, rome(timer.due_at), str(timer.attempts), timer.last_error or ""
        )
    out.print(table)


@app.command("work")
def work(
    every: Annotated[float, typer.Option(min=1, max=86400, help="Seconds between rounds.")] = 60,
    batch: Annotated[
        int, typer.Option(min=1, max=COUNT_MAX, help="Timers claimed per batch.")
    ] = 500,
) -> None:
    """Every few seconds, fire due timers, serve the procedures' signals (freed places
    reassigned) and render pending notices, until interrupted (the embedded scheduler;
    Prefect deployments take this over on a server)."""
    ctx = make_context()
    office = _office()
    settings = Settings()
    transport = delivery.transport_from(settings)
    policy = delivery.DeliveryPolicy.from_settings(settings)
    out.print(
        f"firing timers, serving signals, rendering and sending notices every {every:g} s "
        f"(messages: {transport.describe}); Ctrl-C stops"
    )
    try:
        while True:
            with refusals():
                swept = timers.sweep(ctx, ctx.clock.now(), batch=batch)
                served = {  # every procedure's signals, whether this round's or left pending
                    topic: len(handler.run(ctx))
                    for procedure in ctx.procedures
                    for topic, handler in procedure.signals.items()
                }
                rendered = notices.render_pending_notices(ctx, office)
                sent = delivery.deliver_pending(ctx, transport, policy)
            if swept.handled or any(served.values()) or rendered.handled or sent.handled:
                out.print(
                    f"{rome(ctx.clock.now())}: timers {swept.fired} fired, "
                    f"{swept.cancelled} cancelled, {swept.retried} to retry, {swept.failed} "
                    f"failed; signals served {served}; notices "
                    f"{rendered.rendered} rendered, {rendered.failed} failed; messages "
                    f"{sent.sent} sent, {sent.retried} to retry, {sent.failed} failed, "
                    f"{sent.uncertain} uncertain"
                )
            time.sleep(every)
    except KeyboardInterrupt:
        out.print("stopped")


# notices -------------------------------------------------------------------------------------
def _office() -> notices.Office:
    settings = Settings()
    return notices.Office.from_settings(settings)


@notices_app.command("render")
def notices_render(
    limit: Annotated[
        int | None, typer.Option(min=1, max=COUNT_MAX, help="At most this many.")
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue every pending notice, each exactly once: numbered in the office's protocol
    register, rendered to HTML and PDF/A, signed where a certificate is configured."""
    with refusals(as_json):
        report = notices.render_pending_notices(make_context(now), _office(), limit=limit)
    if as_json:
        emit(asdict(report))
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
    with refusals(as_json):
        found = notices.document_for(make_context(), reference)
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
        emit({"reference": reference, "documents": rows, "written": written})
        return
    table = Table("id", "template", "rendered (Italian time)", "sha256", title=reference)
    for document in found:
        table.add_row(
            str(document.id), document.template, rome(document.rendered_at), document.sha256
        )
    out.print(table)
    for name in written:
        out.print(f"written {name}")


# terms ---------------------------------------------------------------------------------------
@terms_app.command("due")
def terms_due(
    start: Annotated[str, typer.Option(help="The starting day (YYYY-MM-DD), not counted.")],
    days: Annotated[int | None, typer.Option(min=1, max=36525, help="A term in days.")] = None,
    months: Annotated[int | None, typer.Option(min=1, max=1200, help="A term in months.")] = None,
    extend_on_holiday: Annotated[
        bool, typer.Option(help="Move an end on a holiday to the next working day.")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """When a term ends and when its timer is due (00:00 Italian time of the next day)."""
    with refusals(as_json):
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
        emit(document)
        return
    moved = f" (moved from {unextended:%d/%m/%Y}, a holiday)" if last != unextended else ""
    out.print(
        f"term {rule.describe()} from {start_day:%d/%m/%Y}: last day "
        f"[bold]{last:%d/%m/%Y}[/]{moved}; timer due {rome(due)} Italian time "
        f"({due.isoformat()})"
    )


def main() -> None:
    """The `misure` command: one line on stderr for any failure, never a traceback."""
    if CONFIGURATION_ERROR is not None:
        tell(Unavailable.code, CONFIGURATION_ERROR, None, "--json" in sys.argv)
        sys.exit(1)
    sys.exit(run(app, sys.argv[1:]))

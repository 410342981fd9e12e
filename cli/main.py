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
from functools import partial
from pathlib import Path
from shlex import quote
from typing import TYPE_CHECKING, Annotated, cast

import typer
import typer._click as click

from cli.common import (
    COUNT_MAX,
    ActorOption,
    DataOption,
    JsonOption,
    KeyOption,
    LazyGroup,
    NowOption,
    act_on_signals,
    columns,
    detail_json,
    emit,
    err,
    first_paragraph,
    make_context,
    mount_procedures,
    out,
    pairs,
    print_result,
    redacted,
    refusals,
    registered,
    rome,
    row_json,
    run,
    timer_json,
)
from machines.calendar import ROME, TermRule, Unit, is_holiday
from services.errors import InvalidInput

if TYPE_CHECKING:
    from services import notices, timers
    from services.context import Context

# Each command is imported when it runs (cli.common.LazyGroup): the root declares them by name
# with one line of help (tests/e2e/test_cli_startup.py holds each line to the command's own), and
# what a command drives (SQLAlchemy, Prefect, WeasyPrint) is imported by its function.
db_app = typer.Typer(no_args_is_help=True, help="Lo schema del database.")
case_app = typer.Typer(
    cls=LazyGroup,
    no_args_is_help=True,
    help="Pratiche: elencarle, mostrarle, aprirle, attivarne i trigger.",
)
timers_app = typer.Typer(no_args_is_help=True, help="Timer persistenti: scansione, incidenti.")
terms_app = typer.Typer(no_args_is_help=True, help="Termini di legge (DOMAIN.md, sezione 6).")
notices_app = typer.Typer(
    no_args_is_help=True,
    help="Comunicazioni: emettere e inviare quelle in attesa; intestazioni, registro di "
    "protocollo.",
)


def _adds(group: typer.Typer, name: str) -> Callable[[typer.Typer], None]:
    return lambda app: app.add_typer(group, name=name)


def _case(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")


def _case_group() -> click.Command:
    """`case`, whose commands of other modules are imported when they run."""
    group = registered(_case, "case")
    if isinstance(group, LazyGroup):
        group.declare("identity", None, partial(registered, _outgoing_case, "identity"))
        group.declare("retry", None, partial(registered, _desk_case, "retry"))
    return group


def _outgoing_case(app: typer.Typer) -> None:
    from cli import outgoing

    outgoing.register(typer.Typer(), app)


def _desk_case(app: typer.Typer) -> None:
    from cli import desk

    desk.register(typer.Typer(), app)


def _notices(app: typer.Typer) -> None:
    from cli import delivery, outgoing

    outgoing.register(notices_app, typer.Typer())
    delivery.register(notices_app)
    app.add_typer(notices_app, name="notices")


def _timers(app: typer.Typer) -> None:
    global timers  # the sweep's --mode is read from its annotation, timers.SweepMode
    from services import timers

    app.add_typer(timers_app, name="timers")


def _work(app: typer.Typer) -> None:
    app.command("work")(work)


def _stack(app: typer.Typer) -> None:
    from cli import stack

    app.command("stack")(stack.stack)


def _api(app: typer.Typer) -> None:
    from cli import api

    app.add_typer(api.api_app, name="api")


def _audit(app: typer.Typer) -> None:
    from cli import audit

    app.add_typer(audit.audit_app, name="audit")


def _desk(app: typer.Typer) -> None:
    from cli import desk

    desk.register(app, typer.Typer())


# The commands of other modules, with their help's first paragraph (tests/e2e/test_cli_startup.py
# holds each to the command's own); this module's own say theirs (`root`).
ELSEWHERE: dict[str, tuple[str, Callable[[typer.Typer], None]]] = {
    "audit": ("Il registro degli eventi: verificarne le catene, sigillarle.", _audit),
    "api": ("L'API per le cancellerie dei tribunali.", _api),
    "stack": (
        "Avvia misure con Prefect: server e UI, work pool, deployment, un worker, l'API.",
        _stack,
    ),
    "pages": ("Pagine delle pratiche e code di lavoro (della UI di Prefect, come file).", _desk),
    "dispatch": (
        "Ogni pochi secondi pubblica le pagine cambiate e avvia i deployment Prefect con lavoro.",
        _desk,
    ),
}


# What `misure --help` says of the command line (this module's docstring, in Italian).
HELP = """La riga di comando di misure: ogni comando stampa testo, o un solo documento JSON con
--json.

Un rifiuto stampa una riga su stderr ed esce con stato 1, senza scrivere
nulla a metà; un errore d'uso (comando o opzione sconosciuti, valore mancante
o malformato) stampa una riga ed esce con stato 2."""


def root() -> LazyGroup:
    """The `misure` command: every command declared, none imported; the procedures' are
    declared when the list is asked for or a name is not the root's own."""
    app = typer.Typer(cls=LazyGroup, no_args_is_help=True, add_completion=False, help=HELP)
    group = typer.main.get_group(app)
    assert isinstance(group, LazyGroup)
    own = {"db": (db_app, _adds(db_app, "db")), "case": (case_app, _case)}
    own |= {"timers": (timers_app, _timers), "terms": (terms_app, _adds(terms_app, "terms"))}
    own["notices"] = (notices_app, _notices)
    for name, (sub, register) in own.items():
        load = _case_group if name == "case" else partial(registered, register, name)
        group.declare(name, first_paragraph(sub.info.help), load)
    group.declare("work", first_paragraph(work.__doc__), partial(registered, _work, "work"))
    for name, (help, register) in ELSEWHERE.items():
        group.declare(name, help, partial(registered, register, name))
    group.mounts.append(mount_procedures)
    return group


# db ------------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Crea lo schema o lo porta all'ultima revisione."""
    from services import schema
    from services.settings import Settings

    with refusals(as_json):
        settings = Settings()
        ctx = make_context()
        revision = schema.upgrade(ctx.db, ctx.migration_folders, ctx.table_modules)
    if as_json:
        emit({"revision": revision, "database": redacted(settings.database_url)})
    else:
        out.print(
            f"database alla revisione [bold]{revision}[/] ({redacted(settings.database_url)})"
        )


# case ----------------------------------------------------------------------------------------
@case_app.command("list")
def case_list(
    kind: Annotated[str | None, typer.Option(help="Solo le pratiche di questo tipo.")] = None,
    state: Annotated[str | None, typer.Option(help="Solo le pratiche in questo stato.")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=COUNT_MAX, help="Al massimo questo numero.")
    ] = 500,
    after: Annotated[
        str | None, typer.Option(help="Solo le pratiche dopo questa (la pagina seguente).")
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Elenca le pratiche, dalla più vecchia, ciascuna nel suo stato giuridico.

    Conta anche un termine già scaduto; una pagina alla volta, e ognuna dice dove comincia la
    seguente."""
    from services import engine

    with refusals(as_json):
        page = engine.list_page(make_context(now), kind, state, limit, after)
    if as_json:
        emit(
            {
                "cases": [row_json(case) for case in page.rows],
                "more": page.next is not None,
                "next": page.next,
            }
        )
        return
    headings = ("riferimento", "tipo", "stato", "versione", "aggiornata (ora italiana)")
    rows = [
        (case.reference, case.kind, case.state, str(case.version), rome(case.updated_at))
        for case in page.rows
    ]
    sys.stdout.write(columns(headings, rows))  # 500 rows: a rich Table takes a third of a second
    out.print("1 pratica" if len(page.rows) == 1 else f"{len(page.rows)} pratiche")
    if page.next is not None:
        options = [("--kind", kind), ("--state", state), ("--now", now)]
        if limit != 500:
            options.append(("--limit", str(limit)))
        again = "".join(f" {name} {quote(v)}" for name, v in options if v is not None)
        command = f"misure case list{again} --after {quote(page.next)}"
        out.print(
            f"altre pratiche oltre queste {len(page.rows)}: {command}"
            if state is None  # with a state, a page looks at --limit cases, shows those in it
            else f"altre pratiche da esaminare dopo {page.next}: {command}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@case_app.command("show")
def case_show(reference: str, now: NowOption = None, as_json: JsonOption = False) -> None:
    """Stato giuridico di una pratica, cosa può accadere ora (e perché no), termini, cronologia.

    Con la cronologia completa e ciò che la procedura sa della pratica (date, tribunale,
    provvedimento, struttura e posto)."""
    from rich.table import Table

    from services import engine

    with refusals(as_json):
        detail = engine.describe(make_context(now), reference)
    if as_json:
        emit(detail_json(detail))
        return
    case = detail.case
    out.print(
        f"[bold]{case.reference}[/] ({case.kind}) - stato [bold]{detail.state}[/], "
        f"versione {case.version}"
    )
    for passed in detail.passed_terms:
        out.print(
            f"termine [bold]{passed.timer}[/] scaduto il {rome(passed.due_at)} (ora italiana): "
            f"{passed.trigger} -> {passed.to_state}, con effetto da allora; non ancora "
            "registrato da una scansione dei termini"
        )
    if detail.facts:
        facts = Table("dato", "valore", title="Cosa sa la procedura")
        for name, value in detail.facts.items():
            if value is not None:
                facts.add_row(name, str(value))
        out.print(facts)
    triggers = Table("trigger", "consentito", "verso", "perché no", title="Cosa può accadere ora")
    for verdict in detail.verdicts:
        triggers.add_row(
            verdict.trigger,
            "sì" if verdict.allowed else "no",
            verdict.dest or "",
            "; ".join(verdict.reasons),
        )
    out.print(triggers)
    pending = Table(
        "timer", "scadenza (ora italiana)", "effetto", "termine", title="Termini in corso"
    )
    for timer in detail.pending_timers:
        does = timer.fires or f"comunicazione {timer.notice}"
        pending.add_row(timer.name, rome(timer.due_at), does, timer.legal_basis)
    out.print(pending)
    history = Table(
        "#",
        "efficace (ora italiana)",
        "trigger",
        "da",
        "a",
        "attore",
        "base giuridica",
        title="Cronologia",
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
        out.print(
            "* registrato dopo che ha avuto effetto (un termine scaduto prima che la scansione "
            "dei termini passasse)"
        )


@case_app.command("open")
def case_open(
    kind: str,
    actor: ActorOption = "cli",
    data: DataOption = None,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apre una pratica di tipo KIND nel suo stato iniziale."""
    from services import engine

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
    """Attiva il trigger TRIGGER sulla pratica REFERENCE."""
    from services import engine

    with refusals(as_json):
        ctx = make_context(now)
        result = engine.fire(ctx, reference, trigger, actor, pairs(data or []), key)
    print_result(result, as_json, ctx)


# timers --------------------------------------------------------------------------------------
@timers_app.command("sweep")
def timers_sweep(
    now: NowOption = None,
    batch: Annotated[
        int, typer.Option(min=1, max=COUNT_MAX, help="Timer presi in carico per lotto.")
    ] = 500,
    mode: Annotated[
        timers.SweepMode,
        typer.Option(help="Una transazione per ogni scatto, o per lotto con savepoint."),
    ] = cast("timers.SweepMode", "each"),  # not imported before the group is: its value
    as_json: JsonOption = False,
) -> None:
    """Fa scattare ogni timer giunto a scadenza ora (o all'istante --now)."""
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
        f"scansione dei termini al {rome(at)}: {report.fired} scattati, {report.cancelled} "
        f"annullati, {report.retried} da ritentare, {report.failed} falliti"
    )
    for line in served:
        err.print(line, highlight=False)
    for incident in report.incidents:
        err.print(f"[red]incidente:[/] {incident}", highlight=False)


def _sweep_with_progress(
    ctx: Context, at: datetime, batch: int, mode: timers.SweepMode, total: int
) -> timers.SweepReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("termini scaduti in esecuzione", total=total)
        advance: Callable[[int], None] = lambda done: bar.advance(task, done)  # noqa: E731
        return timers.sweep(ctx, at, batch=batch, mode=mode, progress=advance)


@timers_app.command("incidents")
def timers_incidents(as_json: JsonOption = False) -> None:
    """I timer falliti a ogni tentativo: serve l'intervento di una persona."""
    from rich.table import Table

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
        "pratica",
        "timer",
        "scadenza (ora italiana)",
        "tentativi",
        "ultimo errore",
        title="Incidenti",
    )
    for timer, reference in found:
        table.add_row(
            reference, timer.name, rome(timer.due_at), str(timer.attempts), timer.last_error or ""
        )
    out.print(table)


def work(
    every: Annotated[
        float, typer.Option(min=1, max=86400, help="Secondi tra un giro e l'altro.")
    ] = 60,
    batch: Annotated[
        int, typer.Option(min=1, max=COUNT_MAX, help="Timer presi in carico per lotto.")
    ] = 500,
) -> None:
    """Lo scheduler integrato: timer, segnali e comunicazioni ogni pochi secondi.

    Fino all'interruzione fa scattare i timer scaduti, serve i segnali delle procedure (posti
    liberati riassegnati) ed emette le comunicazioni in attesa; su un server lo sostituiscono
    i deployment Prefect."""
    from services import delivery, notices, timers
    from services.settings import Settings

    ctx = make_context()
    office = _office()
    settings = Settings()
    transport = delivery.transport_from(settings)
    policy = delivery.DeliveryPolicy.from_settings(settings)
    out.print(
        f"ogni {every:g} s: termini scaduti, segnali, comunicazioni da emettere e da inviare "
        f"(messaggi: {transport.describe}); Ctrl-C per fermare"
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
                    f"{rome(ctx.clock.now())}: termini {swept.fired} scattati, "
                    f"{swept.cancelled} annullati, {swept.retried} da ritentare, "
                    f"{swept.failed} falliti; segnali serviti {served}; comunicazioni "
                    f"{rendered.rendered} emesse, {rendered.failed} fallite; messaggi "
                    f"{sent.sent} inviati, {sent.retried} da ritentare, {sent.failed} falliti, "
                    f"{sent.uncertain} incerti"
                )
            time.sleep(every)
    except KeyboardInterrupt:
        out.print("fermato")


# notices -------------------------------------------------------------------------------------
def _office() -> notices.Office:
    from services import notices
    from services.settings import Settings

    return notices.Office.from_settings(Settings())


@notices_app.command("render")
def notices_render(
    limit: Annotated[
        int | None, typer.Option(min=1, max=COUNT_MAX, help="Al massimo questo numero.")
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Emette ogni comunicazione in attesa, ciascuna una sola volta.

    Numerata nel registro di protocollo dell'ufficio, resa in HTML e PDF/A, firmata dove è
    configurato un certificato."""
    from services import notices

    with refusals(as_json):
        report = notices.render_pending_notices(make_context(now), _office(), limit=limit)
    if as_json:
        emit(asdict(report))
        return
    out.print(
        f"{report.rendered} emesse, {report.already_rendered} già emesse, {report.failed} fallite"
    )


@case_app.command("documents")
def case_documents(
    reference: str,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Scrive ogni PDF in questa cartella.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Le comunicazioni emesse per una pratica, con il loro sha256; --out ne scrive i PDF."""
    from rich.table import Table

    from services import notices

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
    table = Table("id", "modello", "emessa (ora italiana)", "sha256", title=reference)
    for document in found:
        table.add_row(
            str(document.id), document.template, rome(document.rendered_at), document.sha256
        )
    out.print(table)
    for name in written:
        out.print(f"scritto {name}")


# terms ---------------------------------------------------------------------------------------
@terms_app.command("due")
def terms_due(
    start: Annotated[str, typer.Option(help="Il giorno iniziale (AAAA-MM-GG), non computato.")],
    days: Annotated[
        int | None, typer.Option(min=1, max=36525, help="Un termine in giorni.")
    ] = None,
    months: Annotated[int | None, typer.Option(min=1, max=1200, help="Un termine in mesi.")] = None,
    extend_on_holiday: Annotated[
        bool, typer.Option(help="Sposta una scadenza festiva al primo giorno non festivo.")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Quando scade un termine e quando scatta il suo timer (00:00 ora italiana del giorno dopo)."""
    with refusals(as_json):
        if (days is None) == (months is None):
            raise InvalidInput("indicare uno e uno solo tra --days e --months")
        try:
            start_day = date.fromisoformat(start)
        except ValueError as error:
            raise InvalidInput(f"--start {start!r} non è una data (AAAA-MM-GG)") from error
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
    moved = f" (spostato dal {unextended:%d/%m/%Y}, festivo)" if last != unextended else ""
    out.print(
        f"termine {rule.describe()} dal {start_day:%d/%m/%Y}: ultimo giorno "
        f"[bold]{last:%d/%m/%Y}[/]{moved}; timer alle {rome(due)} ora italiana "
        f"({due.isoformat()})"
    )


def main() -> None:
    """The `misure` command: one line on stderr for any failure, never a traceback."""
    sys.exit(run(root(), sys.argv[1:]))


if __name__ == "__main__":
    main()

"""Commands for each actor of funded placements (D.M. 128/2025 arts. 11-14): reference data,
the prison, the UIEPE, the court registry, the facility, and the Directorate's budget."""

from __future__ import annotations

import json
import sys
import tempfile
from calendar import isleap
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from cli.common import (
    ActorOption,
    JsonOption,
    KeyOption,
    NowOption,
    Refused,
    detail_json,
    emit,
    err,
    make_context,
    out,
    print_result,
    refusals,
)
from cli.terminal import MarkdownOption, show_markdown
from machines.calendar import rome_date
from services import engine, inspection
from services.placements import actors as placements
from services.placements import budget, dashboard, reallocation, reference, simulation


def register(app: typer.Typer) -> None:
    """The commands of funded placements on the CLI root (the procedure's `cli`)."""
    app.add_typer(ref_app, name="ref")
    app.add_typer(placement_app, name="placement")
    app.add_typer(budget_app, name="budget")
    app.command("simulate")(simulate)


ref_app = typer.Typer(
    no_args_is_help=True, help="Dati di riferimento: UIEPE, istituti penitenziari, strutture."
)
placement_app = typer.Typer(
    no_args_is_help=True,
    help="Inserimenti finanziati: l'atto di ciascun soggetto (D.M. 128/2025).",
)
budget_app = typer.Typer(no_args_is_help=True, help="Stanziamento, ripartizione e monitoraggio.")

DateArgument = Annotated[str, typer.Option(help="Una data, AAAA-MM-GG.")]
YearArgument = Annotated[
    int,
    typer.Argument(
        min=reference.FIRST_YEAR,
        max=reference.LAST_YEAR,
        metavar="ANNO",
        help="L'anno dello stanziamento (come caricato con ref load).",
    ),
]
ReferenceArgument = Annotated[str, typer.Argument(metavar="RIFERIMENTO", help="La pratica.")]


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise Refused(f"--{name} {value!r} non è una data (AAAA-MM-GG)") from error


def _json_file(path: Path) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError) as error:
        raise Refused(f"{path}: {error}") from error


# reference data ------------------------------------------------------------------------------
@ref_app.command("load")
def ref_load(
    path: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="Il documento JSON ('-' per lo standard input)."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Carica UIEPE, istituti, strutture, convenzioni e stanziamenti (tutto o niente)."""
    with refusals(as_json):
        counts = reference.load(make_context(), _json_file(path))
    if as_json:
        emit(counts)
        return
    loaded = ", ".join(f"{count} {SECTIONS.get(name, name)}" for name, count in counts.items())
    out.print(f"caricati: {loaded}", highlight=False)


# What the reference data's sections are called in the office.
SECTIONS = {
    "offices": "UIEPE",
    "prisons": "istituti penitenziari",
    "facilities": "strutture",
    "conventions": "convenzioni",
    "budget_years": "stanziamenti annuali",
}


# placements ----------------------------------------------------------------------------------
@placement_app.command("file")
def placement_file(
    prison: Annotated[
        str, typer.Option(help="Codice dell'istituto in cui l'istanza è presentata.")
    ],
    court: Annotated[str, typer.Option(help="L'autorità giudiziaria che decide.")],
    filed_on: Annotated[
        str | None, typer.Option(help="Data di presentazione (oggi se omessa).")
    ] = None,
    actor: ActorOption = "istituto",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'istituto penitenziario registra l'istanza di un detenuto (art. 12 co. 1)."""
    with refusals(as_json):
        ctx = make_context(now)
        filed = None if filed_on is None else _date(filed_on, "filed-on")
        result = placements.file_application(ctx, prison, court, actor, filed, key)
    print_result(result, as_json, ctx)


@placement_app.command("review")
def placement_review(
    reference_: ReferenceArgument,
    assessment: Annotated[
        Path,
        typer.Option(
            help="JSON: i requisiti dell'art. 11, equipe_report (art. 12 co. 3), "
            "taxable_income, cohabitants ('-' per lo standard input)."
        ),
    ],
    actor: ActorOption = "direttore",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Il direttore trasmette l'istanza all'UIEPE, o la respinge indicando che cosa manca."""
    with refusals(as_json):
        ctx = make_context(now)
        given = _json_file(assessment)
        if not isinstance(given, dict):
            raise Refused("la valutazione deve essere un oggetto JSON")
        result = placements.director_review(ctx, reference_, given, actor, key)
    print_result(result, as_json, ctx)


@placement_app.command("intake")
def placement_intake(
    reference_: ReferenceArgument,
    actor: ActorOption = "uiepe",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'UIEPE iscrive l'istanza nel suo protocollo (art. 12 co. 5)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = placements.intake(ctx, reference_, actor, key)
    print_result(result, as_json, ctx)


@placement_app.command("check")
def placement_check(
    reference_: ReferenceArgument,
    compliant: Annotated[
        bool, typer.Option("--compliant/--not-compliant", help="L'istanza è conforme, o no.")
    ],
    reason: Annotated[str | None, typer.Option(help="Perché non è conforme.")] = None,
    actor: ActorOption = "uiepe",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La verifica formale dell'UIEPE (art. 12 co. 4): l'istanza entra in coda, o è respinta."""
    with refusals(as_json):
        ctx = make_context(now)
        result = placements.formal_check(ctx, reference_, compliant, actor, reason, key)
    print_result(result, as_json, ctx)


@placement_app.command("decide")
def placement_decide(
    reference_: ReferenceArgument,
    outcome: Annotated[
        placements.Outcome, typer.Option(help="granted (accolta) o rejected (respinta).")
    ],
    decided_on: DateArgument,
    court: Annotated[str, typer.Option(help="L'autorità giudiziaria che decide.")],
    file_number: Annotated[
        str | None, typer.Option(help="Il numero di registro della cancelleria.")
    ] = None,
    actor: ActorOption = "cancelleria",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Annota la decisione dell'autorità giudiziaria su un'attestazione (art. 12 co. 7-10)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = placements.record_decision(
            ctx,
            reference_,
            outcome,
            _date(decided_on, "decided-on"),
            court,
            actor,
            file_number,
            key,
        )
    print_result(result, as_json, ctx)


@placement_app.command("enter")
def placement_enter(
    reference_: ReferenceArgument,
    commitment_signed: Annotated[
        bool, typer.Option(help="L'impegno scritto è sottoscritto (art. 11 co. 5).")
    ] = False,
    actor: ActorOption = "struttura",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La persona entra nella struttura: inizia la permanenza finanziata (art. 11 co. 4-5)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = placements.record_entry(ctx, reference_, commitment_signed, actor, key)
    print_result(result, as_json, ctx)


@placement_app.command("presence")
def placement_presence(
    reference_: ReferenceArgument,
    start: Annotated[
        str | None, typer.Option("--from", help="Primo giorno, AAAA-MM-GG.", show_default=False)
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Ultimo giorno, AAAA-MM-GG.", show_default=False)
    ] = None,
    month: Annotated[
        str | None,
        typer.Option(
            help="Un rendiconto mensile, AAAA-MM: i giorni del mese dall'ingresso a oggi, mai "
            "oltre l'ultimo giorno finanziato (invece di --from/--to).",
            show_default=False,
        ),
    ] = None,
    absent: Annotated[
        list[str] | None,
        typer.Option(help="Un giorno di assenza (ripetibile).", show_default=False),
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Il registro delle presenze della struttura per un periodo o un mese (art. 13 co. 5
    D.M. 128/2025: sono liquidati soltanto i giorni di presenza rilevati; i giorni non rilevati
    sono elencati e non liquidati)."""
    with refusals(as_json):
        absences = {_date(day, "absent") for day in absent or []}
        if month is not None:
            if start is not None or end is not None:
                raise Refused("indicare --month oppure --from e --to, non entrambi")
            year, number = _month(month)
            summary = placements.record_month_presence(
                make_context(now), reference_, year, number, absences
            )
        else:
            if start is None or end is None:
                raise Refused("indicare --month, oppure sia --from sia --to")
            summary = placements.record_presence(
                make_context(now), reference_, _date(start, "from"), _date(end, "to"), absences
            )
    if as_json:
        emit(asdict(summary))
        return
    unreported = ", ".join(f"{day:%d/%m/%Y}" for day in summary.unreported) or "nessuno"
    out.print(
        f"{summary.reference}: {summary.recorded} giorni annotati "
        f"({summary.start:%d/%m/%Y}-{summary.end:%d/%m/%Y}); permanenza finora: "
        f"{summary.present} giorni di presenza, {summary.absent} di assenza, EUR "
        f"{summary.payable} liquidabili; giorni non rilevati (non liquidati): {unreported}",
        highlight=False,
    )


def _month(value: str) -> tuple[int, int]:
    try:
        first = date.fromisoformat(f"{value}-01")
    except ValueError as error:
        raise Refused(f"--month {value!r} non è un mese (AAAA-MM)") from error
    return first.year, first.month


@placement_app.command("exit")
def placement_exit(
    reference_: ReferenceArgument,
    left_on: DateArgument,
    actor: ActorOption = "struttura",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La persona lascia la struttura (art. 13 co. 5)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = placements.record_exit(ctx, reference_, _date(left_on, "left-on"), actor, key)
    print_result(result, as_json, ctx)


@placement_app.command("withdraw")
def placement_withdraw(
    reference_: ReferenceArgument,
    actor: ActorOption = "istituto",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Il richiedente rinuncia; il posto che gli era riservato è liberato (art. 12 co. 9)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = placements.withdraw(ctx, reference_, actor, key)
    print_result(result, as_json, ctx)


@placement_app.command("close")
def placement_close(
    reference_: ReferenceArgument,
    actor: ActorOption = "uiepe",
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Chiude la pratica; dopo una permanenza, col prospetto spese da recuperare (art. 14)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = placements.close(ctx, reference_, actor, key)
    print_result(result, as_json, ctx)


@placement_app.command("reallocate")
def placement_reallocate(
    office: Annotated[
        list[str] | None, typer.Option(help="Codice di un UIEPE (ripetibile; tutti se omesso).")
    ] = None,
    signalled: Annotated[
        bool, typer.Option(help="Soltanto gli UIEPE la cui coda una variazione ha segnalato.")
    ] = False,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attesta i posti liberi e coperti alle istanze in coda, per protocollo (art. 12 co. 5, 9)."""
    with refusals(as_json):
        ctx = make_context(now)
        if signalled:
            report = reallocation.reallocate_signalled(ctx)
        else:
            report = reallocation.reallocate(ctx, office)
    if as_json:
        emit(asdict(report))
        return
    table = Table(
        "pratica", "UIEPE", "protocollo", "struttura", "posto", "liberato da",
        title="Attestazioni rilasciate",
    )  # fmt: skip
    for item in report.attested:
        table.add_row(
            item.reference,
            item.office,
            str(item.protocol_number),
            item.facility,
            f"{item.convention}/{item.place}",
            item.reassigned_from or "",
        )
    out.print(table)
    for office_code, why in report.stopped_by.items():
        waiting = report.waiting.get(office_code, 0)
        out.print(f"{office_code}: {waiting} istanze ancora in attesa ({why})", highlight=False)


# budget --------------------------------------------------------------------------------------
@budget_app.command("split")
def budget_split(
    year: YearArgument,
    appropriation: Annotated[
        str | None, typer.Option(help="EUR; se omesso, quello registrato, altrimenti 7.000.000.")
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ripartisce lo stanziamento tra gli UIEPE per detenuti, al centesimo (art. 13 co. 1)."""
    with refusals(as_json):
        done = budget.split(make_context(now), year, appropriation)
    if as_json:
        emit({"year": year, **asdict(done)})
        return
    table = Table("UIEPE", "detenuti", "EUR", title=f"Ripartizione dello stanziamento {year}")
    for share in done.shares:
        table.add_row(share.office, str(share.detainees), str(share.amount))
    out.print(table)
    if done.attested:
        out.print(
            f"{len(done.attested)} istanze in attesa attestate con le nuove risorse",
            highlight=False,
        )


@budget_app.command("monitor")
def budget_monitor(
    year: YearArgument,
    quarter: Annotated[
        int, typer.Argument(min=1, max=4, metavar="TRIMESTRE", help="Il trimestre.")
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Scrive in questa cartella i PDF dei rapporti.")
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Il monitoraggio trimestrale per UIEPE e nazionale (art. 13 co. 7)."""
    with refusals(as_json):
        ctx = make_context(now)
        report = budget.monitor(ctx, year, quarter)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            for stored in budget.monitoring_reports(ctx, year, quarter):
                (out_dir / f"{stored.kind}-{stored.period}-{stored.scope}.pdf").write_bytes(
                    stored.pdf
                )
    if as_json:
        emit(asdict(report))
        return
    table = Table(
        "UIEPE", "assegnato", "impegnato", "speso", "spesa prevista", "posti riservati",
        "posti occupati", "istanze in attesa", title=f"Monitoraggio {quarter}° trimestre {year}",
    )  # fmt: skip
    for row in [*report.offices, report.national]:
        table.add_row(
            row.scope,
            str(row.allocated),
            str(row.committed),
            str(row.spent),
            str(row.projected),
            str(row.reserved),
            str(row.occupied),
            str(row.waiting),
        )
    out.print(table)
    if report.stop:
        err.print(f"[yellow]nuove istanze sospese:[/] {report.stop}", highlight=False)


@budget_app.command("stop")
def budget_stop(
    year: YearArgument,
    reason: Annotated[str, typer.Option(help="Il motivo (scritto nei rigetti).")],
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sospende le nuove istanze (art. 13 co. 7)."""
    with refusals(as_json):
        budget.stop(make_context(now), year, reason)
    if as_json:
        emit({"year": year, "stopped": True, "reason": reason})
    else:
        out.print(f"{year}: nuove istanze sospese", highlight=False)


@budget_app.command("lift")
def budget_lift(year: YearArgument, now: NowOption = None, as_json: JsonOption = False) -> None:
    """Revoca la sospensione delle nuove istanze."""
    with refusals(as_json):
        budget.lift_stop(make_context(now), year)
    if as_json:
        emit({"year": year, "stopped": False})
    else:
        out.print(f"{year}: nuove istanze di nuovo accolte", highlight=False)


# simulation ----------------------------------------------------------------------------------
def simulate(
    year: Annotated[
        int,
        typer.Option(min=reference.FIRST_YEAR, max=reference.LAST_YEAR, help="L'anno da simulare."),
    ] = 2026,
    applications: Annotated[int, typer.Option(min=1, help="Istanze presentate nell'anno.")] = 3000,
    seed: Annotated[int, typer.Option(help="Seme casuale: stesso seme, stesso anno.")] = 1,
    database_url: Annotated[
        str | None,
        typer.Option(help="Un database VUOTO (se omesso, un file SQLite temporaneo)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Simula un anno di inserimenti finanziati per tutti gli UIEPE attraverso i servizi reali,
    e stampa attestazioni, decadenze, riassegnazioni, occupazione, spesa e durata
    dell'esecuzione."""
    with refusals(as_json), tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'simulation.db'}"
        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, disable=as_json) as bar:
            task = bar.add_task(f"simulazione {year}", total=366 if isleap(year) else 365)
            report = simulation.simulate_on(
                url, year, applications, seed, lambda _: bar.advance(task)
            )
    if as_json:
        emit(asdict(report))
        return
    events = report.events
    table = Table("dato", "valore", title=f"Inserimenti finanziati, anno simulato {year}")
    rows = [
        ("istanze presentate", report.applications),
        ("respinte (direttore, acquisizione, verifica formale)", events.get("refuse", 0)),
        ("attestazioni rilasciate", events.get("attest", 0)),
        ("  di cui su posti liberati e riassegnati", report.reassigned),
        (
            "accolte / respinte dall'autorità giudiziaria",
            f"{events.get('grant', 0)} / {events.get('reject', 0)}",
        ),
        ("decadute alla scadenza della validità", events.get("lapse", 0)),
        ("decisioni pervenute oltre il termine", events.get("late_decision", 0)),
        (
            "ingressi / uscite anticipate / fine degli 8 mesi",
            f"{events.get('enter', 0)} / {events.get('leave', 0)} / {events.get('funding_end', 0)}",
        ),
        ("rinunce", events.get("withdraw", 0)),
        ("ancora in attesa a fine anno", report.states.get("queued", 0)),
        ("posti in convenzione", report.places),
        ("occupazione media / massima", _percent(report.occupancy_mean, report.occupancy_peak)),
        ("EUR assegnati", report.allocated),
        ("EUR impegnati (riservati, non ancora spesi)", report.committed),
        ("EUR spesi (giorni di presenza x retta)", report.spent),
        ("nuove istanze sospese il", _day(report.stopped_on) if report.stopped_on else "mai"),
        ("chiamate ai servizi", report.service_calls),
        ("durata", f"{report.seconds} s"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    out.print(table)


def _percent(*shares: float) -> str:
    return " / ".join(f"{share:.1%}".replace(".", ",") for share in shares)


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%d/%m/%Y}"


@placement_app.command("dashboard")
def placement_dashboard(
    now: NowOption = None, raw: MarkdownOption = False, as_json: JsonOption = False
) -> None:
    """Posti, coda in ordine di protocollo e risorse di ogni UIEPE (il flusso daily-dashboard)."""
    with refusals(as_json):
        ctx = make_context(now)
        boards = dashboard.dashboards(ctx)
    if as_json:
        emit({"dashboards": [asdict(board) for board in boards]})
        return
    today = rome_date(ctx.clock.now())
    for board in boards:
        show_markdown(dashboard.dashboard_markdown(board, today), raw)


@placement_app.command("status")
def placement_status(
    reference_: ReferenceArgument,
    now: NowOption = None,
    raw: MarkdownOption = False,
    as_json: JsonOption = False,
) -> None:
    """La pagina di stato della pratica, come la pubblica il flusso case-status, per il terminale
    (il diagramma soltanto nella UI di Prefect; --markdown stampa il markdown stesso); con --json,
    la pratica come la stampa `case show --json`: date, autorità giudiziaria, decisione, struttura
    e posto."""
    with refusals(as_json):
        ctx = make_context(now)
        if as_json:
            emit(detail_json(engine.describe(ctx, reference_)))
            return
        markdown = inspection.case_status_markdown(ctx, reference_)
    show_markdown(markdown, raw)

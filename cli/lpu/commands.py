"""Commands of unpaid community work (lavoro di pubblica utilità): the legal forms in force and
the conversion of a penalty into days and hours (art. 135 c.p.), pure computations on dated
legal data that read no database; and the host entity's attendance register for many people at
once (`attendance`), and the register of one placement as a PDF to sign (`sheet`)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import JsonOption, NowOption, Refused, emit, make_context, out, refusals
from cli.lpu.tokens import token_app
from cli.terminal import MarkdownOption, show_markdown
from machines.calendar import rome_date
from machines.lpu.conversion import ARREST_DAYS_MAX, Conversion, convert, fine_amount, rate_on
from machines.lpu.forms import (
    Form,
    form_in_force,
    forms_in_force,
    hour_facts,
    weekly_capacity,
    weeks_needed,
)
from services.clock import SystemClock
from services.lpu import attendance, dashboard, sheet


def register(app: typer.Typer) -> None:
    """The LPU commands on the CLI root (the procedure's `cli`)."""
    lpu_app.add_typer(token_app, name="token")
    app.add_typer(lpu_app, name="lpu")


lpu_app = typer.Typer(
    no_args_is_help=True,
    help="Lavoro di pubblica utilità: forme di legge e conversione della pena.",
)

OnOption = Annotated[
    str | None,
    typer.Option("--on", help="Il giorno di cui applicare le regole (AAAA-MM-GG; default oggi)."),
]


def _on(value: str | None) -> date:
    if value is None:
        return rome_date(SystemClock().now())
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise Refused(f"--on {value!r} non è una data (AAAA-MM-GG)") from error


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False, soft_wrap=True)


@lpu_app.command("convert")
def lpu_convert(
    arrest_days: Annotated[
        int | None,
        typer.Option(
            "--arrest-days", min=0, max=ARREST_DAYS_MAX, help="Giorni di arresto o reclusione."
        ),
    ] = None,
    fine: Annotated[
        str | None,
        typer.Option("--fine", help="Pena pecuniaria in euro, es. 1500.00 (multa o ammenda)."),
    ] = None,
    form_code: Annotated[
        str | None,
        typer.Option("--form", help="La forma di LPU (A-N, S): mostra anche i suoi limiti."),
    ] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Giorni e ore di LPU di una pena (art. 135 c.p.).

    1 giorno di arresto = 1 giorno = 2 ore; EUR 250 di pena pecuniaria, o frazione, = 1 giorno.
    Con --form, anche i limiti orari della forma e le settimane minime per svolgere le ore."""
    with refusals(as_json):
        if arrest_days is None and fine is None:
            raise Refused("niente da convertire: indicare --arrest-days e/o --fine")
        day = _on(on)
        amount = Decimal(0) if fine is None else fine_amount(fine)
        rate_on(day)  # a day before any recorded rate is refused before anything is printed
        done = convert(arrest_days or 0, amount, day)
        form = None if form_code is None else form_in_force(form_code, day)
    document = _conversion_json(done, day, form)
    if as_json:
        emit(document)
        return
    for line in done.detail:
        _say(line)
    if form is not None:
        _say(f"forma {form.code}: {form.name} ({form.source}), regole in vigore il {day:%d/%m/%Y}")
        for fact in hour_facts(form):
            _say(fact)
        weeks = document["weeks"]
        for key, label in (
            ("ordinary", "al limite ordinario"),
            ("authorised", "al limite autorizzato"),
        ):
            if key == "authorised" and not _liftable(form):
                continue
            found = weeks[key]
            if found["weeks"] is None:
                _say(f"settimane minime {label}: non determinabili (nessun limite orario)")
            else:
                _say(
                    f"settimane minime {label}: {found['weeks']} "
                    f"(al massimo {found['hours_per_week']} ore a settimana)"
                )


def _liftable(form: Form) -> bool:
    hours = form.hours
    return hours.week_default is not None or hours.working_days_per_week is not None


def _conversion_json(done: Conversion, day: date, form: Form | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "on": day,
        "arrest_days": done.arrest_days,
        "fine": done.fine,
        "fine_days": done.fine_days,
        "days": done.days,
        "hours": done.hours,
        "rate": asdict(done.rate),
        "detail": list(done.detail),
    }
    if form is not None:
        hours = Decimal(done.hours)
        document["form"] = _form_json(form)
        document["weeks"] = {
            key: {
                "weeks": weeks_needed(form, hours, authorised),
                "hours_per_week": weekly_capacity(form, authorised),
            }
            for key, authorised in (("ordinary", False), ("authorised", True))
        }
    return document


def _form_json(form: Form) -> dict[str, Any]:
    return {**asdict(form), "hour_facts": list(hour_facts(form))}


@lpu_app.command("forms")
def lpu_forms(on: OnOption = None, as_json: JsonOption = False) -> None:
    """Le forme di LPU in vigore in un giorno, con limiti orari, durata e fonti."""
    with refusals(as_json):
        day = _on(on)
        found = forms_in_force(day)
    if as_json:
        emit({"on": day, "forms": [_form_json(form) for form in found]})
        return
    _say(f"forme di LPU in vigore il {day:%d/%m/%Y}: {len(found)}")
    for form in found:
        _say(f"{form.code} - {form.name} ({form.source}), in vigore dal {form.since:%d/%m/%Y}")
        for fact in _facts(form):
            _say(f"  {fact}")


def _facts(form: Form) -> list[str]:
    facts = [
        f"disposto da: {form.imposed_by}",
        f"durata: {form.duration.rule} ({form.duration.article})",
        *hour_facts(form),
        f"convenzione con: {form.convention_with}",
        f"violazioni: {form.breach_reported_to}",
        f"esito positivo: {form.on_completion}",
    ]
    if form.checked_by is not None:
        facts.append(f"verifica: {form.checked_by}")
    if form.max_times is not None:
        times = "una volta" if form.max_times == 1 else f"{form.max_times} volte"
        facts.append(f"può sostituire la pena al massimo {times} ({form.max_times_article})")
    facts.extend(f"nota: {note}" for note in form.notes)
    return facts


@lpu_app.command("attendance")
def lpu_attendance(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Il file CSV del registro presenze ('-' per lo standard input): colonne "
            "reference, day, start, end, activity, signed_by_person, signed_by_coordinator.",
        ),
    ],
    actor: Annotated[str, typer.Option(help="L'ente che annota le sessioni.")] = "ente",
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Il registro presenze di una giornata per più persone: ogni riga è una sessione, accolta
    o rifiutata da sola con il suo motivo (seme 003: registro presenze). Esce con 1 se una riga
    è rifiutata."""
    with refusals(as_json):
        text = sys.stdin.read() if str(path) == "-" else _read(path)
        results = attendance.record(make_context(now), attendance.parse(text), actor)
    refused = [r for r in results if not r.ok]
    if as_json:
        emit({"rows": [asdict(r) for r in results], "recorded": len(results) - len(refused)})
    else:
        for r in results:
            outcome = f"annotata ({r.state})" if r.ok else f"rifiutata: {r.message}"
            _say(f"riga {r.row} {r.reference or '-'}: {outcome}")
        _say(f"{len(results) - len(refused)} sessioni annotate, {len(refused)} rifiutate")
    if refused:
        raise typer.Exit(1)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise Refused(f"{path}: file non leggibile ({error})") from error


@lpu_app.command("dashboard")
def lpu_dashboard(
    now: NowOption = None, raw: MarkdownOption = False, as_json: JsonOption = False
) -> None:
    """Il lavoro di pubblica utilità in sintesi, per ente ospitante: convenzioni in vigore,
    persone al lavoro e posti liberi, inserimenti in corso con le ore dovute, svolte e residue,
    persone da accogliere; e anomalie (convenzioni in scadenza entro 60 giorni senza rinnovo,
    relazioni conclusive in ritardo, violazioni in attesa della decisione del giudice)."""
    with refusals(as_json):
        board = dashboard.lpu_dashboard(make_context(now))
    if as_json:
        emit(asdict(board))
        return
    show_markdown(dashboard.dashboard_markdown(board, board.today), raw)


@lpu_app.command("sheet")
def lpu_sheet(
    reference: Annotated[
        str, typer.Argument(metavar="RIFERIMENTO", help="L'inserimento (LPU-AAAA-NNNNNN).")
    ],
    target: Annotated[
        Path, typer.Option("--out", help="Il file da scrivere: PDF, o HTML con --html.")
    ],
    as_html: Annotated[bool, typer.Option("--html", help="Scrive l'HTML invece del PDF.")] = False,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Il registro presenze di un inserimento, da far firmare (seme 003: registro presenze):
    ogni sessione con data, inizio, fine, ore, ore riconosciute, attività e firme annotate; i
    totali (ore dovute, svolte, riconosciute, residue); convenzione, ente e forma; gli spazi per
    le firme del coordinatore e della persona."""
    with refusals(as_json):
        if not target.parent.is_dir():
            raise Refused(f"--out {target}: la cartella {target.parent} non esiste")
        written = sheet.write_sheet(make_context(now), reference, target, html=as_html)
    done = written.sheet
    if as_json:
        emit(
            {
                "reference": done.reference,
                "file": str(written.path),
                "format": written.format,
                "bytes": written.bytes,
                "sha256": written.sha256,
                "sessions": len(done.sessions),
                "owed_hours": done.owed_hours,
                "attended_hours": done.attended_hours,
                "credited_hours": done.credited_hours,
                "hours_left": done.hours_left,
            }
        )
        return
    owed = "non ancora fissate" if done.owed_hours is None else f"{done.owed_hours} dovute"
    count = len(done.sessions)
    _say(
        f"registro presenze {done.reference}: {count} {'sessione' if count == 1 else 'sessioni'}, "
        f"{done.credited_hours} ore riconosciute ({owed}) -> {written.path}"
    )

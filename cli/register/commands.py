"""Commands of the register of residential facilities (D.M. 128/2025 arts. 3-10), one per
actor's act: the operator (ente gestore), the Directorate-general (DG) and the UIEPE's
penitentiary police unit. Each prints one Italian line (the case, its new state, the legal
basis) or one JSON document with --json; a refusal is one line on stderr and exit status 1."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.common import (
    ActorOption,
    JsonOption,
    KeyOption,
    NowOption,
    Refused,
    act_on_signals,
    emit,
    err,
    make_context,
    out,
    refusals,
    rome,
)
from cli.terminal import MarkdownOption, show_markdown
from machines.calendar import rome_date
from services.context import Context
from services.engine import FireResult
from services.register import actors, dashboard, publication


def register(app: typer.Typer) -> None:
    """The register's commands on the CLI root (the procedure's `cli`)."""
    app.add_typer(register_app, name="register")


register_app = typer.Typer(
    no_args_is_help=True, help="Elenco delle strutture residenziali (D.M. 128/2025 artt. 3-10)."
)
cancellation_app = typer.Typer(
    no_args_is_help=True,
    help="Procedimento di cancellazione dall'elenco (art. 5 D.M. 128/2025).",
)
register_app.add_typer(cancellation_app, name="cancellation")

Reference = Annotated[str, typer.Argument(metavar="RIFERIMENTO", help="La pratica (STR-...).")]
Procedure = Annotated[
    str, typer.Argument(metavar="RIFERIMENTO", help="Il procedimento di cancellazione (CANC-...).")
]
AnyReference = Annotated[
    str, typer.Argument(metavar="RIFERIMENTO", help="La pratica (STR-...) o il procedimento.")
]
Text = Annotated[str, typer.Option("--text", help="Il testo.")]
Reasons = Annotated[str, typer.Option("--reasons", help="La motivazione.")]
Documents = Annotated[int, typer.Option("--documents", help="Documenti allegati (numero).")]
Flag = Annotated[bool | None, typer.Option(show_default=False)]

# What the summary's fields are called on the status page.
FIELDS = {
    "code": "codice", "name": "denominazione", "operator": "ente gestore",
    "operator_type": "tipologia dell'ente", "address": "indirizzo", "section": "sezione",
    "places": "posti", "filed_on": "presentata il", "dap_opinion": "parere del DAP",
    "registered_on": "iscritta il", "suspended_since": "sospesa dal",
    "cancelled_on": "cancellata il", "procedures": "procedimenti di cancellazione",
    "reports": "comunicazioni (art. 4)", "visits": "visite di vigilanza",
    "prescriptions": "prescrizioni", "facility": "struttura",
    "facility_state": "stato della struttura",
    "causes": "cause (art. 5 co. 1)", "in_progress": "in corso", "opened_at": "avviato il",
    "closed_at": "chiuso il", "received_on": "ricevuta l'ultima comunicazione il",
    "defence_days": "giorni per le difese",
}  # fmt: skip

# Who acts, by default, as the event records it.
OPERATOR, DG, UIEPE = actors.OPERATOR, actors.DG, actors.UIEPE
PRESENCE = {"presente": True, "assente": False}


# the operator (ente gestore) -----------------------------------------------------------------
@register_app.command("interest")
def interest(
    code: Annotated[str, typer.Option(help="Codice della struttura.")],
    name: Annotated[str, typer.Option(help="Denominazione della struttura.")],
    operator: Annotated[str, typer.Option(help="Ente gestore.")],
    operator_type: Annotated[str, typer.Option(help="Tipologia dell'ente, a-e (art. 8 co. 1).")],
    address: Annotated[str, typer.Option(help="Indirizzo della struttura.")],
    section: Annotated[str, typer.Option(help="Sezione dell'elenco: la regione (art. 3 co. 4).")],
    places: Annotated[int, typer.Option(help="Posti offerti.")],
    filed_on: Annotated[
        str | None, typer.Option(help="Data di presentazione, AAAA-MM-GG (oggi se omessa).")
    ] = None,
    members: Annotated[
        str | None,
        typer.Option(help="Tipologie dei soggetti associati, es. a,d (art. 8 co. 1 e)."),
    ] = None,
    structure_type: Annotated[
        str | None,
        typer.Option(help="community (D.M. 308/2001) o temporary (art. 6 co. 1)."),
    ] = None,
    runts_registered: Annotated[
        bool | None,
        typer.Option("--runts-registered/--no-runts-registered", help="Iscrizione al RUNTS."),
    ] = None,
    statute_covers_accommodation: Annotated[
        bool | None,
        typer.Option(
            "--statute-covers-accommodation/--no-statute-covers-accommodation",
            help="Accoglienza o reinserimento nello statuto (art. 8 co. 1 d).",
        ),
    ] = None,
    territorially_authorised: Annotated[
        bool,
        typer.Option(help="Autorizzata o accreditata dagli enti territoriali (art. 9)."),
    ] = False,
    housing_suitable: Annotated[
        bool | None,
        typer.Option(
            "--housing-suitable/--no-housing-suitable", help="Idoneità alloggiativa (art. 7)."
        ),
    ] = None,
    hygiene_suitable: Annotated[
        bool | None,
        typer.Option(
            "--hygiene-suitable/--no-hygiene-suitable",
            help="Idoneità igienico-sanitaria (art. 7).",
        ),
    ] = None,
    residence_registration: Annotated[
        bool | None,
        typer.Option(
            "--residence-registration/--no-residence-registration",
            help="Iscrizione anagrafica dei residenti (art. 7 co. 1).",
        ),
    ] = None,
    accommodation: Annotated[
        bool | None,
        typer.Option(
            "--accommodation/--no-accommodation", help="Accoglienza residenziale (art. 7 co. 2 a)."
        ),
    ] = None,
    personal_assistance: Annotated[
        bool | None,
        typer.Option(
            "--personal-assistance/--no-personal-assistance",
            help="Assistenza alla persona (art. 7 co. 2 b).",
        ),
    ] = None,
    reintegration: Annotated[
        bool | None,
        typer.Option(
            "--reintegration/--no-reintegration",
            help="Reinserimento socio-lavorativo (art. 7 co. 2 c).",
        ),
    ] = None,
    actor: ActorOption = OPERATOR,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'ente gestore presenta la manifestazione di interesse con le autodichiarazioni dei
    requisiti (art. 3 co. 2-3 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        filed = rome_date(ctx.clock.now()) if filed_on is None else _date(filed_on, "filed-on")
        data: dict[str, Any] = {
            "code": code,
            "name": name,
            "operator": operator,
            "operator_type": operator_type,
            "members": _letters(members),
            "address": address,
            "section": section,
            "places": places,
            "territorially_authorised": territorially_authorised,
            "filed_on": filed.isoformat(),
        }
        optional = {
            "structure_type": structure_type,
            "runts_registered": runts_registered,
            "statute_covers_accommodation": statute_covers_accommodation,
            "housing_suitable": housing_suitable,
            "hygiene_suitable": hygiene_suitable,
            "residence_registration": residence_registration,
            "accommodation": accommodation,
            "personal_assistance": personal_assistance,
            "reintegration": reintegration,
        }
        data |= {field: value for field, value in optional.items() if value is not None}
        result = actors.file_interest(ctx, data, actor, key)
    _print(ctx, result, as_json)


@register_app.command("observe")
def observe(
    reference: Reference,
    text: Text,
    actor: ActorOption = OPERATOR,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'ente presenta osservazioni sui motivi ostativi entro dieci giorni dalla ricezione
    (art. 10-bis L. 241/1990); oltre il termine sono acquisite agli atti e non valutate."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.observe(ctx, reference, text, actor, key)
    _print(ctx, result, as_json)


@register_app.command("report-change")
def report_change(
    reference: Reference,
    nature: Annotated[
        str, typer.Option(help="change (variazione, art. 4 co. 1 a) o loss (perdita, lett. b).")
    ],
    requirement: Annotated[str, typer.Option(help="Il requisito interessato.")],
    description: Annotated[str, typer.Option(help="Che cosa è cambiato.")],
    occurred_on: Annotated[str, typer.Option(help="Quando è avvenuto, AAAA-MM-GG.")],
    actor: ActorOption = OPERATOR,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'ente comunica senza ritardo la variazione o la perdita di un requisito (art. 4 D.M.
    128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.report_change(
            ctx, reference, nature, requirement, description,
            _date(occurred_on, "occurred-on"), actor, key,
        )  # fmt: skip
    _print(ctx, result, as_json)


@register_app.command("withdraw")
def withdraw(
    reference: Reference,
    actor: ActorOption = OPERATOR,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'ente ritira la manifestazione di interesse prima della decisione (art. 3 co. 2 D.M.
    128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.withdraw_interest(ctx, reference, actor, key)
    _print(ctx, result, as_json)


# the Directorate-general (DG) ----------------------------------------------------------------
@register_app.command("review")
def review(
    reference: Reference,
    people_file: Annotated[
        Path | None,
        typer.Option(
            help="JSON: elenco delle persone dell'art. 8 co. 2 per ruolo e dichiarazioni, mai "
            "per nome ('-' per stdin; nessuna se omesso).",
        ),
    ] = None,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La Direzione generale avvia l'istruttoria sulle autodichiarazioni (art. 3 co. 3-4 D.M.
    128/2025; art. 15: dati personali fuori dal registro degli atti)."""
    with refusals(as_json):
        ctx = make_context(now)
        people = [] if people_file is None else _json_file(people_file)
        if not isinstance(people, list):
            raise Refused(f"{people_file}: serve un elenco JSON di persone")
        result = actors.start_review(ctx, reference, people, actor, key)
    _print(ctx, result, as_json)


@register_app.command("dap-opinion")
def dap_opinion(
    reference: Reference,
    opinion: Annotated[
        str, typer.Option(help="favourable (favorevole) o unfavourable (sfavorevole).")
    ],
    given_on: Annotated[str, typer.Option(help="Data del parere, AAAA-MM-GG.")],
    note: Annotated[str | None, typer.Option(help="Annotazione.")] = None,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Il parere del Dipartimento dell'amministrazione penitenziaria, sentito prima
    dell'iscrizione (art. 3 co. 4 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.record_dap_opinion(
            ctx, reference, opinion, _date(given_on, "given-on"), note, actor, key
        )
    _print(ctx, result, as_json)


@register_app.command("notify-reasons")
def notify_reasons(
    reference: Reference,
    reasons: Reasons,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La comunicazione dei motivi ostativi all'iscrizione, con dieci giorni per le
    osservazioni dalla ricezione (art. 10-bis L. 241/1990)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.notify_reasons(ctx, reference, reasons, actor, key)
    _print(ctx, result, as_json)


@register_app.command("receipt")
def receipt(
    reference: AnyReference,
    received_on: Annotated[str, typer.Option(help="Data di consegna (ricevuta PEC), AAAA-MM-GG.")],
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La ricevuta di consegna all'ente dell'ultima comunicazione (motivi ostativi, invito,
    contestazione): da essa decorrono i termini (art. 10-bis L. 241/1990; art. 5 co. 2-3
    D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.record_receipt(
            ctx, reference, _date(received_on, "received-on"), actor, key
        )
    _print(ctx, result, as_json)


@register_app.command("decide")
def decide(
    reference: Reference,
    to_register: Annotated[
        bool, typer.Option("--register", help="Iscrive la struttura nell'elenco.")
    ] = False,
    to_reject: Annotated[bool, typer.Option("--reject", help="Respinge la manifestazione.")] = (
        False
    ),
    reasons: Annotated[str | None, typer.Option(help="La motivazione del rigetto.")] = None,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La Direzione generale, sentito il DAP, iscrive la struttura nella sua sezione o respinge
    la manifestazione con motivazione (art. 3 co. 4 D.M. 128/2025; art. 10-bis L. 241/1990)."""
    with refusals(as_json):
        if to_register == to_reject:
            raise Refused("indicare --register oppure --reject --reasons")
        if to_register and reasons is not None:
            raise Refused("--reasons accompagna soltanto --reject")
        ctx = make_context(now)
        if to_register:
            result = actors.register_facility(ctx, reference, actor, key)
        else:
            if reasons is None:
                raise Refused("--reject richiede --reasons")
            result = actors.reject(ctx, reference, reasons, actor, key)
    _print(ctx, result, as_json)


@register_app.command("prescribe")
def prescribe(
    reference: Reference,
    service: Annotated[str, typer.Option(help="Il servizio dell'art. 7 co. 2: a, b o c.")],
    text: Text,
    due_on: Annotated[str, typer.Option(help="Termine per adempiere, AAAA-MM-GG.")],
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Una prescrizione sui servizi dell'art. 7 co. 2: se inottemperata è causa di
    cancellazione (art. 5 co. 1 d D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.prescribe(
            ctx, reference, service, text, _date(due_on, "due-on"), actor, key
        )
    _print(ctx, result, as_json)


@register_app.command("prescription-outcome")
def prescription_outcome(
    reference: Reference,
    number: Annotated[int, typer.Option(help="Numero della prescrizione.")],
    outcome: Annotated[str, typer.Option(help="complied (adempiuta) o ignored (inottemperata).")],
    found_on: Annotated[str, typer.Option(help="Data dell'accertamento, AAAA-MM-GG.")],
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'esito di una prescrizione sui servizi (art. 5 co. 1 d D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.prescription_outcome(
            ctx, reference, number, outcome, _date(found_on, "found-on"), actor, key
        )
    _print(ctx, result, as_json)


# the UIEPE's penitentiary police unit ---------------------------------------------------------
@register_app.command("visit")
def visit(
    reference: Reference,
    visited_on: Annotated[str, typer.Option(help="Data della visita, AAAA-MM-GG.")],
    unit: Annotated[str, typer.Option(help="Nucleo di polizia penitenziaria dell'UIEPE.")],
    check: Annotated[
        list[str] | None,
        typer.Option(
            help="ATT-AAAA-NNNNNN=presente|assente, per pratica e mai per nome (ripetibile).",
            show_default=False,
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Annotazione.")] = None,
    actor: ActorOption = UIEPE,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La visita di vigilanza del nucleo di polizia penitenziaria: le presenze accertate
    correggono i giorni pagati (art. 10 co. 3-4, art. 13 co. 5 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        checks = [_presence(item) for item in check or []]
        result = actors.record_visit(
            ctx, reference, _date(visited_on, "visited-on"), unit, checks, note, actor, key
        )
    _print(ctx, result, as_json)


# the cancellation procedure ------------------------------------------------------------------
@cancellation_app.command("open")
def cancellation_open(
    facility: Reference,
    causes: Annotated[str, typer.Option(help="Le cause dell'art. 5 co. 1, es. b oppure a,d.")],
    facts: Annotated[str, typer.Option(help="I fatti.")],
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La Direzione generale avvia il procedimento di cancellazione per una o più cause (art.
    5 co. 1 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.open_cancellation(ctx, facility, _letters(causes), facts, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("invite")
def cancellation_invite(
    reference: Procedure,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'invito a fornire chiarimenti e documenti entro il termine perentorio di trenta giorni
    dalla ricezione (art. 5 co. 2 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.invite(ctx, reference, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("clarify")
def cancellation_clarify(
    reference: Procedure,
    text: Text,
    documents: Documents = 0,
    actor: ActorOption = OPERATOR,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'ente fornisce chiarimenti e documenti (art. 5 co. 2 D.M. 128/2025); oltre il termine
    perentorio sono acquisiti agli atti e non valutati."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.clarify(ctx, reference, text, documents, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("contest")
def cancellation_contest(
    reference: Procedure,
    facts: Annotated[str, typer.Option(help="I fatti contestati.")],
    rules_breached: Annotated[str, typer.Option(help="Le norme violate.")],
    defence_days: Annotated[
        int, typer.Option(help="Giorni per le difese dalla ricezione (art. 5 co. 3).")
    ],
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La contestazione formale dei fatti, con le norme violate e un termine per le difese non
    inferiore a quindici e non superiore a quarantacinque giorni (art. 5 co. 3 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.contest(ctx, reference, facts, rules_breached, defence_days, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("defend")
def cancellation_defend(
    reference: Procedure,
    text: Text,
    documents: Documents = 0,
    actor: ActorOption = OPERATOR,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'ente presenta le difese entro il termine della contestazione (art. 5 co. 3 D.M.
    128/2025); oltre il termine sono acquisite agli atti e non valutate."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.defend(ctx, reference, text, documents, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("archive")
def cancellation_archive(
    reference: Procedure,
    reasons: Reasons,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'archiviazione del procedimento; la sospensione in corso cessa con esso (art. 5 co.
    3-4, 6 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.archive(ctx, reference, reasons, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("cancel")
def cancellation_cancel(
    reference: Procedure,
    reasons: Reasons,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La cancellazione dall'elenco con provvedimento motivato, se le difese non superano la
    contestazione (art. 5 co. 4 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.cancel(ctx, reference, reasons, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("give-up")
def cancellation_give_up(
    reference: Procedure,
    actor: ActorOption = OPERATOR,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """L'ente dichiara di non avere più interesse all'iscrizione: la struttura è cancellata
    allo stato degli atti (art. 5 co. 5 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.give_up(ctx, reference, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("suspend")
def cancellation_suspend(
    reference: Procedure,
    reasons: Reasons,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La sospensione della struttura dall'elenco nel corso del procedimento (art. 5 co. 6
    D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.suspend(ctx, reference, reasons, actor, key)
    _print(ctx, result, as_json)


@cancellation_app.command("lift")
def cancellation_lift(
    reference: Procedure,
    reasons: Reasons,
    actor: ActorOption = DG,
    key: KeyOption = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """La revoca della sospensione nel corso del procedimento (art. 5 co. 6 D.M. 128/2025)."""
    with refusals(as_json):
        ctx = make_context(now)
        result = actors.lift(ctx, reference, reasons, actor, key)
    _print(ctx, result, as_json)


# reading -------------------------------------------------------------------------------------
@register_app.command("status")
def status(reference: AnyReference, now: NowOption = None, as_json: JsonOption = False) -> None:
    """Lo stato di una struttura o di un procedimento di cancellazione: lo stato di diritto
    (termini già scaduti compresi), ciò che l'elenco ne sa, i termini e gli atti."""
    with refusals(as_json):
        shown = actors.status(make_context(now), reference)
    if as_json:
        emit(shown)
        return
    out.print(
        f"[bold]{shown['reference']}[/] ({escape(shown['kind_label'])}): "
        f"[bold]{escape(shown['state_label'])}[/] ({shown['state']})",
        highlight=False,
    )
    for name, value in shown["summary"].items():
        if value not in (None, [], {}):
            field = FIELDS.get(name, name.replace("_", " "))
            out.print(f"  {escape(field)}: {escape(_plain(value))}", highlight=False)
    for term in shown["terms"]:
        passed = "scaduto" if term["passed"] else "in corso"
        out.print(
            f"  termine: {escape(term['label'])}, ultimo giorno {term['last_day']:%d/%m/%Y} "
            f"({passed}; {escape(term['legal_basis'])})",
            highlight=False,
        )
    allowed = [t["label"] for t in shown["triggers"] if t["allowed"]]
    out.print(f"  atti possibili: {escape(', '.join(allowed) or 'nessuno')}", highlight=False)
    for event in shown["history"]:
        out.print(
            f"  {event['sequence']}. {rome(event['effective_at'])} {escape(event['label'])} "
            f"-> {escape(event['to_state_label'])} ({escape(event['actor'])}; "
            f"{escape(event['legal_basis'])})",
            highlight=False,
        )


# the register as a whole ---------------------------------------------------------------------
# Why a publication from the command line is made, unless --reason says.
ORDERED = "pubblicazione disposta dalla Direzione generale (art. 3 co. 6 D.M. 128/2025)"
CHANGED = "variazione dell'elenco (art. 3 co. 6 D.M. 128/2025)"
OVERDUE = "elenco non pubblicato da oltre sei mesi (art. 3 co. 6 D.M. 128/2025)"
FIRST = "prima pubblicazione dell'elenco (art. 3 D.M. 128/2025)"


@register_app.command("publish")
def publish(
    if_changed: Annotated[
        bool,
        typer.Option(
            "--if-changed",
            help="Pubblica soltanto se l'elenco differisce dall'ultima pubblicazione, o se "
            "questa risale a oltre sei mesi fa.",
        ),
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Il motivo della pubblicazione.")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="La cartella dei file (MISURE_REGISTER_DIR, var/register se omessa)."
        ),
    ] = None,
    now: NowOption = None,
    raw: MarkdownOption = False,
    as_json: JsonOption = False,
) -> None:
    """Pubblica l'elenco delle strutture residenziali per sezione (HTML, PDF, CSV e JSON):
    tempestivamente a ogni variazione e comunque almeno ogni sei mesi (art. 3 co. 5-6 D.M.
    128/2025). Segnala le anomalie: un elenco non pubblicato da oltre sei mesi."""
    with refusals(as_json):
        ctx = make_context(now)
        stale = publication.staleness(ctx, ctx.clock.now())
        found = publication.incidents_of(stale)
        if if_changed and not stale.stale:
            why = CHANGED if reason is None else reason
            record = publication.publish_if_changed(ctx, why, out_dir)
        else:
            if stale.last_published_at is None:
                default = FIRST
            else:
                default = OVERDUE if if_changed else ORDERED
            record = publication.publish(ctx, default if reason is None else reason, out_dir)
    if as_json:
        emit({"publication": None if record is None else asdict(record), "incidents": found})
        return
    if record is None:
        out.print(
            "Elenco invariato dall'ultima pubblicazione: nulla da pubblicare.", highlight=False
        )
        for incident in found:
            err.print(f"anomalia: {escape(incident)}", highlight=False, soft_wrap=True)
        return
    show_markdown(publication.publication_markdown(record, found), raw)


@register_app.command("dashboard")
def register_dashboard(
    now: NowOption = None, raw: MarkdownOption = False, as_json: JsonOption = False
) -> None:
    """L'elenco in sintesi: strutture per sezione, procedimenti di cancellazione in corso con il
    prossimo termine, manifestazioni da decidere e anomalie (pubblicazione oltre sei mesi,
    prescrizioni scadute, visite di vigilanza oltre MISURE_VISIT_EVERY_DAYS giorni)."""
    with refusals(as_json):
        board = dashboard.register_dashboard(make_context(now))
    if as_json:
        emit(asdict(board))
        return
    show_markdown(dashboard.dashboard_markdown(board, board.today), raw)


# helpers -------------------------------------------------------------------------------------
def _print(ctx: Context, result: FireResult, as_json: bool) -> None:
    """One Italian line: the case, the act, its new state and the legal basis; then what its
    signals started at once (places freed and reassigned), as after every change."""
    served = [] if result.replayed else act_on_signals(ctx, result.signals, _key_of(result))
    machine = actors.machine_of(ctx, result.reference)
    label = (lambda name: name) if machine is None else machine.label
    basis = actors.legal_basis(ctx, result)
    if as_json:
        emit(
            {
                **asdict(result),
                "state_label": label(result.to_state),
                "legal_basis": basis,
                "served": served,
            }
        )
        return
    caught = "".join(f"prima, scaduto il termine: {label(t)}; " for t in result.caught_up)
    replayed = "; già eseguito con questa chiave" if result.replayed else ""
    out.print(
        f"{result.reference}: {escape(caught)}{escape(label(result.trigger))} -> "
        f"[bold]{escape(label(result.to_state))}[/] ({escape(basis)}; evento "
        f"{result.sequence}{replayed})",
        highlight=False,
        soft_wrap=True,
    )
    for line in served:
        err.print(line, highlight=False)


def _key_of(result: FireResult) -> str:
    return f"{result.reference}:{result.event_id}"


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise Refused(f"--{name} {value!r} non è una data (AAAA-MM-GG)") from error


def _letters(value: str | None) -> list[str]:
    """`a,d` -> ['a', 'd'] (the machine judges each letter)."""
    return [] if not value else [part.strip() for part in value.split(",") if part.strip()]


def _presence(item: str) -> tuple[str, bool]:
    reference, sep, found = item.partition("=")
    if not sep or found.strip().lower() not in PRESENCE:
        raise Refused(f"--check {item!r}: serve RIFERIMENTO=presente oppure RIFERIMENTO=assente")
    return reference.strip(), PRESENCE[found.strip().lower()]


def _json_file(path: Path) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError) as error:
        raise Refused(f"{path}: {error}") from error


def _plain(value: Any) -> str:
    if isinstance(value, datetime):
        return rome(value)
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)

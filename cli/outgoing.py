"""What an office needs to issue notices: its letterhead and signatory, the addressees'
certified e-mail, the person's identity for the identification annex, and the daily export of
its outgoing protocol register."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import JsonOption, NowOption, emit, make_context, out, refusals
from machines.calendar import ROME, rome_date
from services import letterheads, protocol
from services.errors import InvalidInput


def register(notices_app: typer.Typer, case_app: typer.Typer) -> None:
    notices_app.command("reference")(notices_reference)
    notices_app.command("letterheads")(notices_letterheads)
    notices_app.command("addressee")(notices_addressee)
    notices_app.command("protocol")(notices_protocol)
    case_app.command("identity")(case_identity)


def notices_reference(
    path: Annotated[Path, typer.Argument(help="TOML: [[letterheads]] e [[addressees]].")],
    as_json: JsonOption = False,
) -> None:
    """Carica intestazioni e firmatari degli uffici e la PEC dei destinatari.

    Tutto il file, o niente."""
    with refusals(as_json):
        loaded = letterheads.load_file(make_context(), path)
    if as_json:
        emit({"letterheads": loaded.letterheads, "addressees": loaded.addressees})
        return
    out.print(
        f"caricate {loaded.letterheads} intestazioni e {loaded.addressees} indirizzi PEC da {path}"
    )


def notices_letterheads(as_json: JsonOption = False) -> None:
    """Intestazioni e firmatari degli uffici, e i destinatari noti."""
    with refusals(as_json):
        ctx = make_context()
        heads = letterheads.letterheads(ctx)
        known = letterheads.addressees(ctx)
    if as_json:
        emit({"letterheads": [vars(h) for h in heads], "addressees": known})
        return
    table = Table("ufficio", "denominazione", "PEC", "firmatario", "luogo", title="Intestazioni")
    for head in heads:
        table.add_row(head.office, head.name, head.pec, head.signer, head.place)
    out.print(table)
    book = Table("destinatario", "PEC", title="Destinatari")
    for name, pec in known.items():
        book.add_row(name, pec)
    out.print(book)


def notices_addressee(
    name: Annotated[
        str, typer.Argument(help="Il nome della parte, come lo stampano le comunicazioni.")
    ],
    pec: Annotated[str, typer.Option("--pec", help="Il suo indirizzo PEC.")],
    as_json: JsonOption = False,
) -> None:
    """Registra dove una parte riceve le comunicazioni (il suo indirizzo PEC)."""
    with refusals(as_json):
        addressee = letterheads.set_addressee(make_context(), name, pec)
    if as_json:
        emit({"name": addressee.name, "pec": addressee.pec})
        return
    out.print(f"{addressee.name}: PEC {addressee.pec}")


def notices_protocol(
    office: Annotated[str, typer.Option("--office", help="Il codice dell'ufficio.")],
    day: Annotated[
        str | None, typer.Option(help="Il giorno (AAAA-MM-GG, ora italiana); se omesso, oggi.")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Scrive qui il registro del giorno in CSV e PDF.")
    ] = None,
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Registro di protocollo in uscita di un ufficio in un giorno (artt. 53-57 D.P.R. 445/2000)."""
    with refusals(as_json):
        ctx = make_context(now)
        try:
            the_day = rome_date(ctx.clock.now()) if day is None else date.fromisoformat(day)
        except ValueError:
            raise InvalidInput(f"--day {day!r} non è una data (AAAA-MM-GG)", "day") from None
        register = protocol.day_register(ctx, office, the_day)
        written: list[str] = []
        if out_dir is not None:
            csv_path, pdf_path, _ = protocol.write_day_register(
                ctx, office, the_day, out_dir, ctx.clock.now()
            )
            written = [str(csv_path), str(pdf_path)]
    if as_json:
        emit(
            {
                "office": office,
                "day": the_day.isoformat(),
                "entries": [
                    {**vars(line), "registered_at": line.registered_at.isoformat()}
                    for line in register.lines
                ],
                "written": written,
            }
        )
        return
    table = Table(
        "protocollo", "ora", "pratica", "oggetto", "stato",
        title=f"Registro di protocollo in uscita di {office}, {the_day:%d/%m/%Y}",
    )  # fmt: skip
    for line in register.lines:
        table.add_row(
            line.label,
            line.registered_at.astimezone(ROME).strftime("%H:%M:%S"),
            line.reference,
            line.subject,
            _status(line.status, line.annulled_reason),
        )
    out.print(table)
    count = len(register.lines)
    out.print(f"{count} {'registrazione' if count == 1 else 'registrazioni'}")
    for name in written:
        out.print(f"scritto {name}")


# What a registration's status is called in the register (the codes stay in --json).
STATUS = {"registered": "registrato", "annulled": "annullato"}


def _status(status: str, annulled_reason: str | None) -> str:
    label = STATUS.get(status, status)
    return f"{label}: {annulled_reason}" if annulled_reason else label


def case_identity(
    reference: str,
    surname: Annotated[str, typer.Option("--cognome", help="Cognome.")],
    given_names: Annotated[str, typer.Option("--nome", help="Nome o nomi.")],
    born_on: Annotated[str, typer.Option("--nato-il", help="Data di nascita (AAAA-MM-GG).")],
    born_in: Annotated[str, typer.Option("--nato-a", help="Luogo di nascita.")],
    tax_code: Annotated[
        str | None, typer.Option("--codice-fiscale", help="Codice fiscale (16 caratteri).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Registra chi è la persona di una pratica (dati riservati, mai ristampati).

    Li mostra solo l'allegato identificativo per il tribunale e per l'istituto penitenziario."""
    with refusals(as_json):
        letterheads.set_identity(
            make_context(),
            reference,
            {
                "surname": surname,
                "given_names": given_names,
                "born_on": born_on,
                "born_in": born_in,
                "tax_code": tax_code,
            },
        )
    if as_json:
        emit({"reference": reference, "identity": "recorded"})
        return
    out.print(f"{reference}: dati identificativi registrati (riservati)")

"""`misure api`: serve the court registry API, manage the registries' tokens, write the
OpenAPI schema."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.table import Table

from cli.common import JsonOption, emit, err, make_context, out, refusals, rome
from services import registry

api_app = typer.Typer(no_args_is_help=True, help="L'API per le cancellerie dei tribunali.")
token_app = typer.Typer(
    no_args_is_help=True, help="Token delle cancellerie: rilascio, elenco, revoca."
)
api_app.add_typer(token_app, name="token")


@api_app.command("serve")
def api_serve(
    host: Annotated[str, typer.Option(help="Indirizzo su cui ascoltare.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Porta.")] = 8400,
    workers: Annotated[int, typer.Option(min=1, help="Processi del server.")] = 1,
    read_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            envvar="MISURE_API_READ_TIMEOUT",
            help="Secondi entro cui un client deve inviare un'intera richiesta, poi 408 "
            "(predefinito: READ_TIMEOUT in api/limits.py).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve l'API (uvicorn, con i limiti di `api/limits.py`).

    I token non compaiono mai nei suoi log: solo metodo, percorso, stato."""
    import asyncio

    import uvicorn

    from api.limits import BoundedHttpTools

    # uvicorn builds each connection's protocol by calling `http` as it would the class.
    limits = {} if read_timeout is None else {"read_timeout": read_timeout}
    protocol = cast(type[asyncio.Protocol], partial(BoundedHttpTools, **limits))
    uvicorn.run(
        "api.app:app", host=host, port=port, log_level="info", workers=workers,
        http=protocol, ws="none", timeout_keep_alive=5,
    )  # fmt: skip


@api_app.command("openapi")
def api_openapi(
    out_file: Annotated[Path | None, typer.Option("--out", help="Lo scrive qui.")] = None,
) -> None:
    """Stampa (o scrive) lo schema OpenAPI."""
    from api.app import create_app

    schema = json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        out.print(schema, highlight=False, soft_wrap=True)
    else:
        out_file.write_text(schema, encoding="utf-8")


@token_app.command("issue")
def token_issue(
    court: Annotated[str, typer.Option(help="Il tribunale alla cui cancelleria va il token.")],
    label: Annotated[str, typer.Option(help="Chi lo detiene (una nota).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Rilascia un token per la cancelleria di un tribunale: è mostrato ora e mai più."""
    with refusals(as_json):
        issued = registry.issue_token(make_context(), court, label)
    if as_json:
        emit({"token_id": issued.token_id, "court": issued.party, "token": issued.token})
        return
    out.print(f"token {issued.token_id} per {issued.party}:", markup=False, highlight=False)
    print(issued.token)
    err.print("[yellow]conservarlo ora: se ne tiene solo l'impronta[/]")


@token_app.command("list")
def token_list(as_json: JsonOption = False) -> None:
    """I token rilasciati (mai i token stessi)."""
    with refusals(as_json):
        found = registry.tokens(make_context())
    if as_json:
        emit(
            {
                "tokens": [
                    {
                        "id": t.id,
                        "court": t.court,
                        "role": t.role,
                        "label": t.label,
                        "created_at": t.created_at,
                        "revoked_at": t.revoked_at,
                    }
                    for t in found
                ]
            }
        )
        return
    table = Table(
        "id", "titolare", "ruolo", "nota", "rilasciato il", "revocato il", title="Token API"
    )
    for t in found:
        table.add_row(str(t.id), t.court, t.role, t.label, rome(t.created_at), rome(t.revoked_at))
    out.print(table)


@token_app.command("revoke")
def token_revoke(token_id: int, as_json: JsonOption = False) -> None:
    """Revoca un token: d'ora in poi le sue richieste sono rifiutate."""
    with refusals(as_json):
        registry.revoke_token(make_context(), token_id)
    if as_json:
        emit({"id": token_id, "revoked": True})
    else:
        out.print(f"token {token_id} revocato")

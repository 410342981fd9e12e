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

api_app = typer.Typer(no_args_is_help=True, help="The court registry API.")
token_app = typer.Typer(no_args_is_help=True, help="Registry tokens: issue, list, revoke.")
api_app.add_typer(token_app, name="token")


@api_app.command("serve")
def api_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8400,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    read_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            envvar="MISURE_API_READ_TIMEOUT",
            help="Seconds a client has to send a whole request, 408 after "
            "(default: READ_TIMEOUT in api/limits.py).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the API (uvicorn, with the limits of `api/limits.py`). Tokens never appear in its
    logs: only method, path, status."""
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
    out_file: Annotated[Path | None, typer.Option("--out", help="Write it here.")] = None,
) -> None:
    """Print (or write) the OpenAPI schema."""
    from api.app import create_app

    schema = json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        out.print(schema, highlight=False, soft_wrap=True)
    else:
        out_file.write_text(schema, encoding="utf-8")


@token_app.command("issue")
def token_issue(
    court: Annotated[str, typer.Option(help="The court whose registry gets the token.")],
    label: Annotated[str, typer.Option(help="Who holds it (a note).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Issue a token for a court's registry: it is shown now and never again."""
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
    """The tokens issued (never the tokens themselves)."""
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
    """Revoke a token: its requests are refused from now on."""
    with refusals(as_json):
        registry.revoke_token(make_context(), token_id)
    if as_json:
        emit({"id": token_id, "revoked": True})
    else:
        out.print(f"token {token_id} revocato")

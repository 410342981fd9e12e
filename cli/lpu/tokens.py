"""`misure lpu token issue`: a host entity's API token, acting on the placements under its
conventions (its attendance register through `POST /v1/lpu/entity/attendance`). Listed and
revoked with the other tokens (`misure api token list|revoke`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import JsonOption, emit, err, make_context, out, refusals
from services.lpu import actors

token_app = typer.Typer(no_args_is_help=True, help="Token API degli enti ospitanti.")


@token_app.command("issue")
def token_issue(
    entity: Annotated[str, typer.Option(help="L'ente, come nominato nelle sue convenzioni.")],
    label: Annotated[str, typer.Option(help="Chi lo detiene (una nota).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Rilascia il token di un ente ospitante: mostrato ora e mai più."""
    with refusals(as_json):
        issued = actors.issue_entity_token(make_context(), entity, label)
    if as_json:
        emit({"token_id": issued.token_id, "entity": issued.party, "token": issued.token})
        return
    out.print(f"token {issued.token_id} per l'ente {issued.party}:", markup=False)
    print(issued.token)
    err.print("[yellow]conservarlo ora: se ne tiene solo l'impronta[/]")

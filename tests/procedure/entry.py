"""The test procedure's CLI command and API route."""

from typing import Any

import typer
from fastapi import APIRouter, Depends

from api.common import Api, Refusal
from cli.common import JsonOption, NowOption, make_context, print_result, refusals
from services import engine, registry
from services.errors import DomainError
from tests.procedure import services


def register(app: typer.Typer) -> None:
    permit_app = typer.Typer(no_args_is_help=True, help="Permessi di prova.")

    @permit_app.command("grant")
    def grant(
        reference: str, hours: int, now: NowOption = None, as_json: JsonOption = False
    ) -> None:
        """Concede il permesso per HOURS ore."""
        with refusals(as_json):
            ctx = make_context(now)
            result = engine.fire(ctx, reference, "grant", "giudice", {"hours": hours})
        print_result(result, as_json, ctx)

    app.add_typer(permit_app, name="permit")


def router(api: Api) -> APIRouter:
    routes = APIRouter()

    @routes.get("/v1/permits/{reference}")
    def permit(reference: str, who: registry.Registry = Depends(api.caller)) -> Any:
        try:
            return services.permit(api.ctx(), reference)
        except DomainError as error:
            raise Refusal(error.status, error.code, str(error)) from None

    return routes

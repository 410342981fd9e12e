"""What the API app and the procedures' routers share: the error body, the refusal, and what
a router is given (the services' context, the registry's authentication, the signal worker).

No `from __future__ import annotations` here: FastAPI reads annotations at run time."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services import registry
from services.context import Context

KEY = re.compile(r"^[!-~]{1,200}$")  # printable ASCII, no spaces
KEY_DESCRIPTION = (
    "Chiave scelta dalla cancelleria (1-200 caratteri stampabili, senza spazi): la stessa "
    "richiesta ripetuta con la stessa chiave riceve la prima risposta; con un corpo diverso, 409."
)


class Error(BaseModel):
    error: str = Field(description="Codice dell'errore (unauthorized, not_found, ...).")
    message: str = Field(description="Spiegazione in chiaro.")
    field: str | None = Field(None, description="Il campo non valido, per gli errori 422.")
    state: str | None = Field(
        None, description="Stato della pratica, per le decisioni che non si applicano più."
    )
    since: date | None = Field(None, description="Data (ora italiana) in cui vi è entrata.")
    since_at: datetime | None = Field(
        None,
        description="Istante in cui vi è entrata per legge (per la decadenza: le 00:00 del "
        "giorno successivo all'ultimo giorno di validità), anche se registrato dopo.",
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "Token assente, sconosciuto o revocato."},
    404: {"model": Error, "description": "Nessuna pratica pendente davanti a questa Autorità."},
    409: {"model": Error, "description": "Decisione non applicabile, o chiave già usata."},
    422: {"model": Error, "description": "Richiesta non valida: il campo e il motivo."},
}


class Refusal(Exception):
    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.answer = registry.Answer(status, {"error": error, "message": message, **extra})


@dataclass(frozen=True)
class Api:
    """What a procedure's router is given: `ctx` the services' context; `caller` the FastAPI
    dependency that authenticates a registry (401 otherwise); `poke` to serve the signals a
    change emitted, off the request."""

    ctx: Callable[[], Context]
    caller: Callable[..., registry.Registry]
    poke: Callable[[tuple[str, ...], str], None]

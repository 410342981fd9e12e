"""What the API app and the procedures' routers share: the error body, the refusal, and what
a router is given (the services' context, the registry's authentication, the signal worker).

No `from __future__ import annotations` here: FastAPI reads annotations at run time."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.limits import MAX_BODY_BYTES, MAX_HEAD_BYTES, MAX_HEADERS
from services import orders, registry
from services.context import Context
from services.errors import DomainError

KEY = re.compile(r"^[!-~]{1,200}$")  # printable ASCII, no spaces
KEY_DESCRIPTION = (
    "Chiave scelta dalla cancelleria (1-200 caratteri stampabili, senza spazi): la stessa "
    "richiesta ripetuta con la stessa chiave riceve la prima risposta; con un corpo diverso, 409."
)
UNAUTHORIZED = "serve il token valido di una cancelleria (Authorization: Bearer <token>)"


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
    400: {
        "model": Error,
        "description": "Intestazione Authorization o Idempotency-Key ripetuta (invalid_request).",
    },
    401: {"model": Error, "description": "Token assente, sconosciuto o revocato."},
    404: {"model": Error, "description": "Nessuna pratica pendente davanti a questa Autorità."},
    408: {
        "model": Error,
        "description": "Richiesta non ricevuta per intero entro il tempo concesso "
        "(request_timeout): la connessione è chiusa.",
    },
    409: {
        "model": Error,
        "description": "Decisione non applicabile: late_decision (l'attestazione non attende "
        "più una decisione; registrata nello storico, una volta sola anche se ripetuta), "
        "transition_not_allowed (nessuna attestazione da decidere), guard_failed (una regola "
        "della pratica lo impedisce), idempotency_conflict (chiave già usata con un altro corpo). "
        "Le decisioni concorrenti sulla stessa pratica si attendono: ciascuna riceve la "
        "risposta che le spetta nel suo turno.",
    },
    413: {
        "model": Error,
        "description": f"Corpo oltre {MAX_BODY_BYTES // 1024} KiB (payload_too_large), "
        "rifiutato prima di leggerlo.",
    },
    422: {"model": Error, "description": "Richiesta non valida: il campo e il motivo."},
    503: {
        "model": Error,
        "description": "Il database non risponde (unavailable): nulla è stato scritto; "
        "riprovare dopo Retry-After secondi con la stessa chiave.",
    },
    431: {
        "model": Error,
        "description": f"Intestazioni oltre {MAX_HEAD_BYTES // 1024} KiB o più di {MAX_HEADERS} "
        "(headers_too_large).",
    },
}


class OrderApplied(BaseModel):
    """A court's order applied to a case."""

    reference: str
    order: str = Field(description="Transizione applicata.")
    state: str = Field(description="Stato della pratica dopo il provvedimento.")
    recorded_at: datetime = Field(description="Istante di registrazione (UTC).")
    event: int = Field(description="Numero progressivo dell'evento nello storico.")


class Deadline(BaseModel):
    term: str = Field(description="Termine, in italiano.")
    last_day: date = Field(description="Ultimo giorno del termine (ora italiana).")
    lapses_at: datetime = Field(description="Istante in cui il termine scade (UTC).")
    passed: bool = Field(False, description="Già scaduto: i suoi effetti decorrono da lapses_at.")


class Refusal(Exception):
    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.answer = registry.Answer(status, {"error": error, "message": message, **extra})


@dataclass(frozen=True)
class Api:
    """What a procedure's router is given: `ctx` the services' context; `caller` the FastAPI
    dependency that authenticates a court registry (401 otherwise), `caller_as(role)` one for
    the clients of another role the procedure serves (`Procedure.token_roles`), and
    `unauthorized(role)` the reason a request without such a token is refused; `token` the
    dependency that gives the bearer token as sent ("" if none), for a service that
    authenticates it itself; `poke` to serve the signals a change emitted, off the request."""

    ctx: Callable[[], Context]
    caller: Callable[..., registry.Registry]
    token: Callable[..., str]
    poke: Callable[[tuple[str, ...], str], None]
    caller_as: Callable[[str], Callable[..., registry.Registry]]
    unauthorized: Callable[[str], str]


def kept_answer(handled: registry.Handled, key: str, digest: str, unauthorized: str) -> Any:
    """The answer a write request gets: 401 if its token was refused, 409 if its key was used
    for another request, else the answer kept under the key (the first one, for a retry)."""
    if handled.registry is None or handled.answer is None:
        raise Refusal(401, "unauthorized", unauthorized)
    if handled.digest != digest:
        raise Refusal(
            409, "idempotency_conflict",
            f"la Idempotency-Key {key!r} è già stata usata per un'altra richiesta",
        )  # fmt: skip
    return JSONResponse(handled.answer.body, handled.answer.status)


def court_order(
    api: Api,
    kind: orders.Orders,
    path: str,
    key: str,
    token: str,
    reference: str,
    trigger: str,
    body: dict[str, Any],
) -> Any:
    """A court registry's order on a case (`services/orders.py`): the request's digest over
    `path` and `body`, the order applied once, the answer kept under the key."""
    digest = registry.request_hash("POST", path, body)
    try:
        handled = orders.court_order(api.ctx(), kind, token, key, digest, reference, trigger, body)
    except DomainError as error:  # the case kept changing: nothing was kept
        raise Refusal(error.status, error.code, str(error)) from None
    return kept_answer(handled, key, digest, api.unauthorized(registry.COURT))

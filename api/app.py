"""The HTTP API for the external actors, court registries first (D.M. 128/2025 art. 12 co. 8:
the registry reports every decision at once, rejections included). Every request carries a
registry's token and acts only on cases pending before that registry's court; every write
carries an Idempotency-Key and is applied exactly once; every refusal says why, as JSON: 400,
401, 404, 408, 409, 413, 422 or 431, never a 500 for anything a client can send. What a client
may send is bounded (`api/limits.py`): the head, the body, the time to send them. HEAD answers
every GET. Each configured procedure adds its routes (`services/procedure.py`: `api`).

No `from __future__ import annotations` here: FastAPI reads the dependencies' annotations at
run time."""

import gc
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.common import ERRORS, UNAUTHORIZED, Api, Refusal
from api.limits import Limits
from services import registry
from services.clock import SystemClock
from services.context import Context
from services.procedure import attribute
from services.settings import Settings

log = logging.getLogger("misure.api")
THREADS = 4
COALESCE_SECONDS = 0.2  # signals arriving within this window share one run of their handler


UNREADABLE = "corpo della richiesta non leggibile come JSON"
HTTP_ERRORS = {
    404: ("not_found", "percorso inesistente"),
    405: ("method_not_allowed", "metodo non ammesso su questo percorso"),
}
# pydantic's reasons, in Italian; `{...}` are filled from the error's context.
REASONS = {
    "missing": "campo obbligatorio mancante",
    "extra_forbidden": "campo non previsto",
    "string_type": "atteso un testo",
    "string_too_short": "testo troppo corto (lunghezza minima: {min_length})",
    "string_too_long": "testo troppo lungo (lunghezza massima: {max_length})",
    "string_pattern_mismatch": "formato non valido (atteso: {pattern})",
    "date_type": "attesa una data AAAA-MM-GG",
    "date_parsing": "data non valida (attesa AAAA-MM-GG)",
    "date_from_datetime_parsing": "data non valida (attesa AAAA-MM-GG)",
    "date_from_datetime_inexact": "attesa una data senza ora (AAAA-MM-GG)",
    "int_type": "atteso un numero intero",
    "int_parsing": "atteso un numero intero",
    "literal_error": "valore non ammesso (atteso: {expected})",
    "enum": "valore non ammesso (atteso: {expected})",
    "union_tag_invalid": "valore non ammesso (atteso: {expected_tags})",
    "union_tag_not_found": "campo obbligatorio mancante",
    "model_attributes_type": "atteso un oggetto JSON",
    "model_type": "atteso un oggetto JSON",
    "dict_type": "atteso un oggetto JSON",
    "json_invalid": UNREADABLE,
    "value_error": "{error}",
}


def reason(error: Any) -> str:
    """The reason of a pydantic error, in Italian."""
    context = {name: str(value) for name, value in (error.get("ctx") or {}).items()}
    try:
        return REASONS.get(error.get("type"), "valore non valido").format_map(context)
    except KeyError:  # a context without what the reason names
        return "valore non valido"


bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="Token della cancelleria (`misure api token issue`), come "
    "`Authorization: Bearer <token>`; lo schema Bearer in maiuscole o minuscole.",
)


def bearer(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> str:
    """The token of the only Authorization header, if its scheme is Bearer; else ""."""
    return credentials.credentials.strip() if credentials is not None else ""


class Health(BaseModel):
    status: str
    database: str


def create_app(context: Callable[[], Context] | None = None) -> FastAPI:
    """The app; `context` gives the services' context (default: from MISURE_* settings)."""
    make_context = context or (lambda: Context.from_settings(Settings(), SystemClock()))
    services = make_context()

    def ctx() -> Context:
        return services

    worker = _SignalWorker(ctx)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Few request threads: the work is short and mostly holds the GIL or the database's
        # write lock; forty threads (the default) only add switching.
        to_thread.current_default_thread_limiter().total_tokens = THREADS
        # What is loaded by now lives as long as the process: out of the collector's sight, a
        # full collection no longer walks it (a pause of tens of ms in every few hundred
        # requests otherwise).
        ctx()
        gc.collect()
        gc.freeze()
        worker.start()
        yield
        worker.stop()

    app = FastAPIOffline(
        lifespan=lifespan,
        title="misure - API per le cancellerie",
        version="1",
        description=__doc__,
        responses={status: ERRORS[status] for status in (400, 401, 408, 413, 431, 503)},
        redirect_slashes=False,  # a trailing slash is a 404, never a redirect built from Host
        swagger_ui_parameters={"validatorUrl": None},  # no badge from an outside validator
    )
    app.add_middleware(Limits)

    def caller_as(role: str) -> Callable[..., registry.Registry]:
        """The dependency that authenticates a client of `role` (401 otherwise)."""
        message = unauthorized(role)

        def caller(token: Annotated[str, Depends(bearer)]) -> registry.Registry:
            found = registry.authenticate(ctx(), token, role) if token else None
            if found is None:
                raise Refusal(401, "unauthorized", message)
            return found

        return caller

    def unauthorized(role: str) -> str:
        if role == registry.COURT:
            return UNAUTHORIZED
        named = services.token_roles().get(role, role)
        return f"serve il token valido di un {named} (Authorization: Bearer <token>)"

    @app.exception_handler(Refusal)
    async def refusal(_: Request, error: Refusal) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.answer.status == 401 else None
        return JSONResponse(error.answer.body, error.answer.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        loc = list(first.get("loc", ()))
        if loc[:1] == ["body"] and loc[1:2] in (["granted"], ["rejected"]):
            del loc[1]  # the member of the outcome union, not a field
        where = [str(part) for part in loc if part not in ("body", "path", "header")]
        if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            where = ["outcome"]
        elif first.get("type") == "json_invalid" or loc == ["body"]:
            where = ["body"]  # the body as a whole (not the offset FastAPI gives for bad JSON)
        return JSONResponse(
            {"error": "invalid_input", "message": reason(first),
             "field": ".".join(where) or None},
            422,
        )  # fmt: skip

    @app.exception_handler(SQLAlchemyError)
    async def unavailable(_: Request, error: SQLAlchemyError) -> JSONResponse:
        log.error("database error: %s", type(error).__name__)
        return JSONResponse(
            {"error": "unavailable", "message": "il database non risponde: riprovare tra poco"},
            503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # a body that is not even JSON text
            return JSONResponse(
                {"error": "invalid_input", "message": UNREADABLE, "field": "body"}, 422
            )
        code, message = HTTP_ERRORS.get(error.status_code, ("error", str(error.detail)))
        return JSONResponse(
            {"error": code, "message": message},
            error.status_code,
            headers=getattr(error, "headers", None),  # Allow, on a 405
        )

    @app.get("/health", response_model=Health, responses={503: {"model": Health}})
    def health() -> Any:
        """Whether the API and its database answer."""
        try:
            with ctx().db.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "degraded", "database": "unreachable"}, 503)
        return Health(status="ok", database="ok")

    api = Api(
        ctx=ctx,
        caller=caller_as(registry.COURT),
        token=bearer,
        poke=worker.poke,
        caller_as=caller_as,
        unauthorized=unauthorized,
    )
    for procedure in services.procedures:
        if procedure.api is not None:
            app.include_router(attribute(procedure.api)(api))
    return app


class _SignalWorker:
    """Acts on the signals of the decisions off the request (a freed place reassigned at
    once): a decision pokes it; one thread serves them, through Prefect where it runs
    (PREFECT_API_URL), else in this process (flows.dispatch). A run waits COALESCE_SECONDS for
    the pokes of a burst, and pokes that arrive while it runs are served by one more run: not
    one run each."""

    def __init__(self, ctx: Callable[[], Context]) -> None:
        self._ctx = ctx
        self._poked = threading.Event()
        self._pending: list[tuple[tuple[str, ...], str]] = []
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="signals", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._poked.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def poke(self, signals: tuple[str, ...], key: str) -> None:
        self._pending.append((signals, key))
        self._poked.set()

    def _run(self) -> None:
        while True:
            self._poked.wait()
            if not self._stopping:
                time.sleep(COALESCE_SECONDS)
            self._poked.clear()
            pending, self._pending = self._pending, []
            if pending:
                self._serve(sorted({s for signals, _ in pending for s in signals}), pending[-1][1])
            if self._stopping:
                return

    def _serve(self, signals: list[str], key: str) -> None:
        from flows.dispatch import act_on_signals

        try:
            act_on_signals(self._ctx(), signals, key)
        except Exception:  # the schedule catches up; the decision stands
            log.exception(
                "signals %s not served at once; the next scheduled run serves them", signals
            )


app = create_app()

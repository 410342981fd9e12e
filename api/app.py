"""The court registry API (D.M. 128/2025 art. 12 co. 8: the registry reports every decision at
once, rejections included). Every request carries a registry's token and acts only on cases
pending before that registry's court; every write carries an Idempotency-Key and is applied
exactly once; every refusal says why, as JSON: 401, 404, 409 or 422, never a 500 for anything
a client can send.

No `from __future__ import annotations` here: FastAPI reads the dependencies' annotations at
run time."""

import gc
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import Depends, FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from machines.placement import FileNumber, GrantRuling, Ruling
from services import placements, registry
from services.clock import SystemClock
from services.context import Context
from services.errors import DomainError, GuardFailed, InvalidInput, LateDecision
from services.settings import Settings
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("misure.api")
THREADS = 4
COALESCE_SECONDS = 0.2  # rejections arriving within this window share one reallocation run
REFERENCE = r"^ATT-[0-9]{4}-[0-9]{6}$"
KEY = re.compile(r"^[!-~]{1,200}$")  # printable ASCII, no spaces

ReferencePath = Annotated[
    str,
    Path(
        pattern=REFERENCE,
        description="Riferimento pseudonimo della pratica di attestazione (ATT-AAAA-NNNNNN).",
        examples=["ATT-2026-000123"],
    ),
]


class Outcome(StrEnum):
    GRANTED = "granted"
    REJECTED = "rejected"


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


class Granted(GrantRuling):
    """The measure is granted: the person may enter the facility (art. 12 co. 7). The same
    schema the machine applies to `grant` on every path, less the court, which the token
    names."""

    outcome: Literal["granted"] = Field(description="Misura concessa.")
    file_number: FileNumber
    measure_start: date = Field(
        description="Decorrenza della misura di comunità, non anteriore al provvedimento."
    )


class Rejected(Ruling):
    """The application is rejected: the attestation loses effect at once (art. 12 co. 10)."""

    outcome: Literal["rejected"] = Field(
        description="Istanza rigettata: l'attestazione perde efficacia."
    )
    file_number: FileNumber


Decision = Annotated[Granted | Rejected, Field(discriminator="outcome")]


class Applied(BaseModel):
    reference: str = Field(description="Riferimento della pratica.")
    outcome: Outcome
    state: str = Field(description="Stato della pratica dopo la decisione.")
    decided_on: date
    recorded_at: datetime = Field(description="Istante di registrazione (UTC).")
    event: int = Field(description="Numero progressivo dell'evento nello storico della pratica.")


class Deadline(BaseModel):
    term: str = Field(description="Termine (es. validità dell'attestazione).")
    last_day: date = Field(description="Ultimo giorno del termine (ora italiana).")
    lapses_at: datetime = Field(description="Istante in cui il termine scade (UTC).")
    passed: bool = Field(
        False, description="Il termine è già scaduto: i suoi effetti decorrono da lapses_at."
    )


class Status(BaseModel):
    reference: str
    state: str = Field(
        description="Stato della pratica per legge: un termine già scaduto ha effetto anche "
        "prima che sia registrato."
    )
    state_label: str = Field(description="Stato della pratica, in italiano.")
    court: str = Field(description="Autorità giudiziaria competente.")
    issued_on: date | None = Field(None, description="Data di rilascio dell'attestazione.")
    valid_until: date | None = Field(
        None, description="Fine della validità dell'attestazione (art. 12 co. 6)."
    )
    decided_on: date | None = Field(None, description="Data della decisione registrata.")
    decision: Outcome | None = Field(None, description="Esito della decisione registrata.")
    measure_start: date | None = Field(None, description="Decorrenza della misura concessa.")
    deadlines: list[Deadline] = Field(description="Termini in corso o appena scaduti.")


class Health(BaseModel):
    status: str
    database: str


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


def create_app(context: Callable[[], Context] | None = None) -> FastAPI:
    """The app; `context` gives the services' context (default: from MISURE_* settings)."""
    make_context = context or (lambda: Context.from_settings(Settings(), SystemClock()))
    ctx_holder: dict[str, Context] = {}

    def ctx() -> Context:
        if "ctx" not in ctx_holder:
            ctx_holder["ctx"] = make_context()
        return ctx_holder["ctx"]

    reallocator = _Reallocator(ctx)

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
        reallocator.start()
        yield
        reallocator.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="misure - API per le cancellerie",
        version="1",
        description=__doc__,
        responses={401: ERRORS[401]},
    )

    def caller(authorization: Annotated[str | None, Header()] = None) -> registry.Registry:
        token = (authorization or "").removeprefix("Bearer ").strip()
        found = registry.authenticate(ctx(), token) if token else None
        if found is None:
            raise Refusal(401, "unauthorized", "a valid registry token is required (Bearer)")
        return found

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
        return JSONResponse(
            {"error": "invalid_input", "message": str(first.get("msg")),
             "field": ".".join(where) or None},
            422,
        )  # fmt: skip

    @app.exception_handler(SQLAlchemyError)
    async def unavailable(_: Request, error: SQLAlchemyError) -> JSONResponse:
        log.error("database error: %s", type(error).__name__)
        return JSONResponse(
            {"error": "unavailable", "message": "the database did not answer; retry later"},
            503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # a body that is not even JSON text
            return JSONResponse(
                {"error": "invalid_input", "message": str(error.detail), "field": "body"}, 422
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "error")
        return JSONResponse(
            {"error": code, "message": str(error.detail)},
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

    @app.get(
        "/v1/attestations/{reference}",
        response_model=Status,
        responses={404: ERRORS[404], 422: ERRORS[422]},
        summary="Stato di una pratica pendente davanti alla propria Autorità",
    )
    def status(reference: ReferencePath, who: Annotated[registry.Registry, Depends(caller)]) -> Any:
        found = placements.status_for_court(ctx(), reference, who.court)
        if found is None:
            raise _not_found(reference)
        return found

    @app.post(
        "/v1/attestations/{reference}/decision",
        response_model=Applied,
        responses={404: ERRORS[404], 409: ERRORS[409], 422: ERRORS[422]},
        summary="Comunica la decisione dell'Autorità giudiziaria (art. 12 co. 8)",
    )
    def decide(
        reference: ReferencePath,
        decision: Decision,
        idempotency_key: Annotated[
            str,
            Header(
                pattern=KEY.pattern,
                description="Chiave scelta dalla cancelleria (1-200 caratteri stampabili, "
                "senza spazi): la stessa richiesta ripetuta con la stessa chiave riceve la "
                "prima risposta; con un corpo diverso, 409.",
            ),
        ],
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        services = ctx()
        token = (authorization or "").removeprefix("Bearer ").strip()
        body = decision.model_dump(mode="json")
        digest = registry.request_hash("POST", f"/v1/attestations/{reference}/decision", body)
        emitted: list[str] = []
        try:
            handled = registry.handle_write(
                services, token, idempotency_key, digest, reference,
                _decision(services, reference, decision, idempotency_key, emitted),
                _explain(reference),
            )  # fmt: skip
        except DomainError as error:  # the case kept changing: nothing was kept
            raise Refusal(error.status, error.code, str(error)) from None
        if handled.registry is None or handled.answer is None:
            raise Refusal(401, "unauthorized", "a valid registry token is required (Bearer)")
        if handled.digest != digest:
            raise Refusal(
                409, "idempotency_conflict",
                f"Idempotency-Key {idempotency_key!r} was used for another request",
            )  # fmt: skip
        answer = handled.answer
        if handled.fresh and emitted:
            reallocator.poke(emitted, f"{reference}:{idempotency_key}")
        return JSONResponse(answer.body, answer.status)

    return app


def _not_found(reference: str) -> Refusal:
    # The same answer whether the case does not exist or is before another court.
    return Refusal(404, "not_found", f"no case {reference} pending before this court")


def _decision(
    ctx: Context, reference: str, decision: Decision, key: str, signals: list[str]
) -> registry.Apply:
    """The decision, applied through the service the CLI uses, inside the request's
    transaction; a late decision is answered 409 and its message kept. `signals` receives
    what the change emitted (a freed place), for the entry point to act on."""

    def apply(uow: UnitOfWork, who: registry.Registry) -> registry.Answer:
        if not placements.pending_before_in(uow, reference, who.court):
            return _not_found(reference).answer
        try:
            result = placements.decide_in(
                ctx,
                uow,
                reference,
                placements.Outcome(decision.outcome),
                decision.decided_on,
                who.court,
                who.actor,
                decision.file_number,
                f"api:{who.token_id}:{key}",
                measure_start=decision.measure_start if isinstance(decision, Granted) else None,
            )
        except LateDecision as late:
            signals[:] = late.signals  # the lapse that made it late freed the place
            return registry.Answer(
                409, {"error": late.code, "message": str(late), "state": late.state,
                      "since": late.since, "since_at": late.since_at},
            )  # fmt: skip
        signals[:] = result.signals
        return registry.Answer(
            200,
            Applied(
                reference=reference,
                outcome=Outcome(decision.outcome),
                state=result.to_state,
                decided_on=decision.decided_on,
                recorded_at=result.occurred_at,
                event=result.sequence,
            ).model_dump(mode="json"),
        )

    return apply


def _explain(reference: str) -> registry.Explain:
    """A refusal of the service, as the registry reads it: the field for bad input, else the
    case's state."""

    def explain(uow: UnitOfWork, error: DomainError) -> registry.Answer:
        body: dict[str, Any] = {"error": error.code, "message": str(error)}
        if isinstance(error, InvalidInput | GuardFailed):
            body["field"] = error.field
        if not isinstance(error, InvalidInput):
            body["state"] = placements.state_in(uow, reference)
        return registry.Answer(error.status, body)

    return explain


class _Reallocator:
    """Acts on the signals of the decisions off the request (a freed place reassigned at
    once): a decision pokes it; one thread serves them, through Prefect where it runs
    (PREFECT_API_URL), else in this process (flows.dispatch). A run waits COALESCE_SECONDS for
    the pokes of a burst, and pokes that arrive while it runs are served by one more run: not
    one run each."""

    def __init__(self, ctx: Callable[[], Context]) -> None:
        self._ctx = ctx
        self._poked = threading.Event()
        self._pending: list[tuple[list[str], str]] = []
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reallocator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._poked.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def poke(self, signals: list[str], key: str) -> None:
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

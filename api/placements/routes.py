"""The court registry's endpoints for funded placements (D.M. 128/2025 art. 12 co. 8: the
registry reports every decision at once, rejections included): the state of an attestation
pending before its court, and its decision, applied exactly once per Idempotency-Key.

No `from __future__ import annotations` here: FastAPI reads annotations at run time."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.common import ERRORS, KEY, KEY_DESCRIPTION, UNAUTHORIZED, Api, Refusal
from machines.placements import FileNumber, GrantRuling, Ruling
from services import registry
from services.errors import DomainError
from services.placements import actors as placements

REFERENCE = r"^ATT-[0-9]{4}-[0-9]{6}$"

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


def router(api: Api) -> APIRouter:
    """The placements' routes, as `services/placements/procedure.py` declares them."""
    routes = APIRouter()
    Caller = Annotated[registry.Registry, Depends(api.caller)]

    @routes.get(
        "/v1/attestations/{reference}",
        response_model=Status,
        responses={404: ERRORS[404], 422: ERRORS[422]},
        summary="Stato di una pratica pendente davanti alla propria Autorità",
    )
    def status(reference: ReferencePath, who: Caller) -> Any:
        found = placements.status_for_court(api.ctx(), reference, who.party)
        if found is None:
            raise Refusal(404, **placements.not_found(reference))
        return found

    @routes.post(
        "/v1/attestations/{reference}/decision",
        response_model=Applied,
        responses={404: ERRORS[404], 409: ERRORS[409], 422: ERRORS[422]},
        summary="Comunica la decisione dell'Autorità giudiziaria (art. 12 co. 8)",
    )
    def decide(
        reference: ReferencePath,
        decision: Decision,
        idempotency_key: Annotated[str, Header(pattern=KEY.pattern, description=KEY_DESCRIPTION)],
        token: Annotated[str, Depends(api.token)],
    ) -> Any:
        body = decision.model_dump(mode="json")
        digest = registry.request_hash("POST", f"/v1/attestations/{reference}/decision", body)
        try:
            handled, signals = placements.registry_decision(
                api.ctx(), token, idempotency_key, digest, reference,
                placements.Outcome(decision.outcome), decision.decided_on,
                decision.file_number,
                decision.measure_start if isinstance(decision, Granted) else None,
            )  # fmt: skip
        except DomainError as error:  # the case kept changing: nothing was kept
            raise Refusal(error.status, error.code, str(error)) from None
        if handled.registry is None or handled.answer is None:
            raise Refusal(401, "unauthorized", UNAUTHORIZED)
        if handled.digest != digest:
            raise Refusal(
                409, "idempotency_conflict",
                f"la Idempotency-Key {idempotency_key!r} è già stata usata per un'altra richiesta",
            )  # fmt: skip
        if handled.fresh and signals:
            api.poke(signals, f"{reference}:{idempotency_key}")
        return JSONResponse(handled.answer.body, handled.answer.status)

    return routes

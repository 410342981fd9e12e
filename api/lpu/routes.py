"""The routes of unpaid community work: the court registry's orders on a placement before its
court (the judge's decision, the sentence final, more hours a week authorised, continuation or
revocation after a breach) and the host entity's attendance register for several people at
once, with the guarantees of decisions on attestations (`services/lpu/actors.py`).

No `from __future__ import annotations` here: FastAPI reads annotations at run time."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path
from pydantic import BaseModel, Field, StrictBool

from api.common import (
    ERRORS,
    KEY,
    KEY_DESCRIPTION,
    Api,
    Deadline,
    OrderApplied,
    Refusal,
    court_order,
    kept_answer,
)
from machines.lpu.placement import Final, Ruling, Sentence
from services import registry
from services.lpu import actors as lpu

REFERENCE = r"^LPU-[0-9]{4}-[0-9]{6}$"

ReferencePath = Annotated[
    str,
    Path(
        pattern=REFERENCE,
        description="Riferimento pseudonimo dell'inserimento (LPU-AAAA-NNNNNN).",
        examples=["LPU-2026-000001"],
    ),
]
IdempotencyKey = Annotated[str, Header(pattern=KEY.pattern, description=KEY_DESCRIPTION)]
HOST_UNAUTHORIZED: dict[str, Any] = {
    "model": ERRORS[401]["model"],
    "description": "Token assente, sconosciuto, revocato o di un'altra parte (serve quello di "
    "un ente ospitante: `misure lpu token issue`).",
}
ORDER_ERRORS: dict[int | str, dict[str, Any]] = {
    404: ERRORS[404],
    409: {
        "model": ERRORS[409]["model"],
        "description": "Provvedimento non applicabile: late_order (l'inserimento è concluso, "
        "revocato o non avviato: registrato nello storico, non applicato), "
        "transition_not_allowed (l'inserimento non è nello stato che il provvedimento "
        "presuppone), guard_failed (una regola lo impedisce: il campo e il motivo), "
        "idempotency_conflict (chiave già usata con un altro corpo).",
    },
    422: ERRORS[422],
}


class Authorised(BaseModel):
    """More hours a week than the ordinary limit, on the person's request (art. 54 co. 3
    d.lgs. 274/2000 and the forms that borrow it)."""

    model_config = {"extra": "forbid"}
    authorised_on: date = Field(description="Data dell'autorizzazione (non futura).")


class Decided(Ruling):
    """The judge's decision on a reported breach: the work continues, or it is revoked."""

    outcome: Literal["continue", "revoke"] = Field(
        description="continue: il lavoro prosegue; revoke: revocato, il registro si chiude."
    )


class PlacementStatus(BaseModel):
    reference: str
    state: str = Field(description="Stato per legge (un termine scaduto ha già effetto).")
    state_label: str
    court: str | None
    convention: str | None
    form: str = Field(description="Forma del lavoro di pubblica utilità (A-I, L-N, S).")
    form_law: str | None = Field(None, description="Norma che la prevede.")
    owed_days: int | None = None
    owed_hours: int | None = None
    credited_hours: str | None = Field(None, description="Ore riconosciute dal registro.")
    hours_left: str | None = Field(None, description="Ore ancora dovute.")
    authorised_extra_hours: bool
    decided_on: date | None = None
    final_on: date | None = None
    received_on: date | None = None
    deadlines: list[Deadline]


class SessionRecorded(BaseModel):
    day: date
    start: str
    end: str
    hours: str
    credited: str
    activity: str
    signed_by_person: bool
    signed_by_coordinator: bool


class EntityStatus(PlacementStatus):
    sessions: list[SessionRecorded] = Field(description="Registro presenze, in ordine di data.")


Text = Annotated[str, Field(max_length=200)]


class SessionRow(BaseModel):
    """One session of one placement. Its values are judged row by row, by the same rules as
    one session at a time: a wrong value refuses this row only, with its reason."""

    model_config = {"extra": "forbid"}
    reference: Text = Field(description="Inserimento (LPU-AAAA-NNNNNN).")
    day: Text = Field(description="Giorno (AAAA-MM-GG).", examples=["2026-11-27"])
    start: Text = Field(description="Inizio (HH:MM).", examples=["09:00"])
    end: Text = Field(description="Fine (HH:MM).", examples=["11:00"])
    activity: Text = Field(description="Attività svolta.")
    signed_by_person: StrictBool = Field(description="Firmato dalla persona.")
    signed_by_coordinator: StrictBool = Field(description="Firmato dal coordinatore.")


class Register(BaseModel):
    model_config = {"extra": "forbid"}
    sessions: list[SessionRow] = Field(min_length=1, max_length=lpu.MAX_SESSIONS)


class RowResult(BaseModel):
    row: int = Field(description="Posizione della sessione nella richiesta (da 1).")
    reference: str
    ok: bool = Field(description="Registrata (o già registrata), o rifiutata.")
    state: str | None = None
    error: str | None = None
    message: str | None = Field(None, description="Motivo del rifiuto, in italiano.")
    field: str | None = None


class RegisterApplied(BaseModel):
    recorded: int
    refused: int
    results: list[RowResult]


def router(api: Api) -> APIRouter:
    """The LPU routes, as `services/lpu/procedure.py` declares them."""
    routes = APIRouter()
    Court = Annotated[registry.Registry, Depends(api.caller)]
    Host = Annotated[registry.Registry, Depends(api.caller_as(lpu.HOST_ENTITY))]
    Token = Annotated[str, Depends(api.token)]

    def order(reference: str, key: str, token: str, trigger: str, body: dict[str, Any]) -> Any:
        path = f"/v1/lpu/placements/{reference}/{trigger}"
        return court_order(api, lpu.ORDERS, path, key, token, reference, trigger, body)

    @routes.get(
        "/v1/lpu/placements/{reference}",
        response_model=PlacementStatus,
        responses={404: ERRORS[404], 422: ERRORS[422]},
        summary="Stato di un inserimento LPU davanti alla propria Autorità",
    )
    def status(reference: ReferencePath, who: Court) -> Any:
        found = lpu.status_for_court(api.ctx(), reference, who.party)
        if found is None:
            raise Refusal(404, **lpu.not_found(reference))
        return found

    @routes.post(
        "/v1/lpu/placements/{reference}/sentence",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Provvedimento che dispone il lavoro: giorni e ore dovuti",
    )
    def sentence(
        reference: ReferencePath,
        body: Sentence,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json", exclude_none=True)
        return order(reference, idempotency_key, token, "sentenced", payload)

    @routes.post(
        "/v1/lpu/placements/{reference}/final",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Sentenza irrevocabile (messa alla prova: verbale sottoscritto)",
    )
    def final(
        reference: ReferencePath,
        body: Final,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json")
        return order(reference, idempotency_key, token, "final", payload)

    @routes.post(
        "/v1/lpu/placements/{reference}/authorisation",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Autorizzazione a un orario settimanale superiore (art. 54 co. 3 d.lgs. 274/2000)",
    )
    def authorisation(
        reference: ReferencePath,
        body: Authorised,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json")
        return order(reference, idempotency_key, token, "authorise_hours", payload)

    @routes.post(
        "/v1/lpu/placements/{reference}/ruling",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Decisione dopo una violazione: prosecuzione o revoca",
    )
    def ruling(
        reference: ReferencePath,
        body: Decided,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json", exclude_none=True, exclude={"outcome"})
        return order(reference, idempotency_key, token, body.outcome, payload)

    @routes.get(
        "/v1/lpu/entity/placements/{reference}",
        response_model=EntityStatus,
        responses={401: HOST_UNAUTHORIZED, 404: ERRORS[404], 422: ERRORS[422]},
        summary="Un inserimento presso l'ente, con il registro presenze",
    )
    def register(reference: ReferencePath, who: Host) -> Any:
        found = lpu.status_for_entity(api.ctx(), reference, who.party)
        if found is None:
            raise Refusal(404, **lpu.not_found(reference))
        return found

    @routes.post(
        "/v1/lpu/entity/attendance",
        response_model=RegisterApplied,
        responses={401: HOST_UNAUTHORIZED, 409: ERRORS[409], 422: ERRORS[422]},
        summary="Registro presenze di più persone in una volta: un esito per riga",
    )
    def attendance(
        body: Register, idempotency_key: IdempotencyKey, token: Token, _who: Host
    ) -> Any:
        """Each session is recorded on its own, by the rules of one session at a time: a
        refused row (its reason, its field) leaves the others recorded. A session sent again
        is not counted twice; the same request retried with the same key gets its first
        answer."""
        rows = [row.model_dump(mode="json") for row in body.sessions]
        digest = registry.request_hash("POST", "/v1/lpu/entity/attendance", rows)
        handled = lpu.entity_attendance(api.ctx(), token, idempotency_key, digest, rows)
        return kept_answer(handled, idempotency_key, digest, api.unauthorized(lpu.HOST_ENTITY))

    return routes

"""The court registry's routes for probation with suspension of the trial: the judge's orders
(admission with duration and cadence, refusal, integration of the programme, revocation hearing,
revocation or continuation, final hearing, outcome) on a probation before its court, and its
state, with the guarantees of decisions on attestations (`services/orders.py`).

No `from __future__ import annotations` here: FastAPI reads annotations at run time."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path
from pydantic import BaseModel, Field

from api.common import (
    ERRORS,
    KEY,
    KEY_DESCRIPTION,
    Api,
    Deadline,
    OrderApplied,
    Refusal,
    court_order,
)
from machines.probation.machine import (
    Admission,
    FileNumber,
    Hearing,
    Integration,
    Order,
    RevocationHearing,
)
from services import orders, registry
from services.probation import actors as probation

ReferencePath = Annotated[
    str,
    Path(
        pattern=r"^MAP-[0-9]{4}-[0-9]{6}$",
        description="Riferimento pseudonimo della messa alla prova (MAP-AAAA-NNNNNN).",
        examples=["MAP-2026-000001"],
    ),
]
IdempotencyKey = Annotated[str, Header(pattern=KEY.pattern, description=KEY_DESCRIPTION)]
ORDER_ERRORS: dict[int | str, dict[str, Any]] = {
    404: ERRORS[404],
    409: {
        "model": ERRORS[409]["model"],
        "description": "Provvedimento non applicabile: late_order (la messa alla prova è "
        "conclusa, revocata o non ammessa: registrato nello storico, non applicato), "
        "transition_not_allowed (la pratica non è nello stato che il provvedimento presuppone), "
        "guard_failed (una regola lo impedisce), idempotency_conflict (chiave già usata con un "
        "altro corpo).",
    },
    422: ERRORS[422],
}


class AdmissionOrder(Admission):
    """The order suspending the trial with probation (art. 464-quater c.p.p.): at most 2 years,
    1 for offences punished with a fine only; reports at most three months apart."""


class RefusalOrder(Order):
    """The request is refused (art. 464-quater co. 1 c.p.p.)."""


class IntegrationOrder(Integration):
    """The judge integrates the programme (art. 464-quater co. 4 c.p.p.): a new version."""


class RevocationHearingOrder(RevocationHearing):
    """The revocation hearing, notified to the parties and the victim at least ten days
    before (art. 464-octies co. 2 c.p.p.)."""


class RevocationRuling(BaseModel):
    """After the revocation hearing: the probation is revoked (art. 168-quater c.p.), or goes
    on."""

    model_config = {"extra": "forbid"}
    outcome: Literal["revoke", "continue"]
    ordered_on: date = Field(description="Data dell'ordinanza (non futura).")
    file_number: FileNumber | None = None


class HearingOrder(Hearing):
    """The final hearing, after the period's end (art. 464-septies c.p.p.)."""


class OutcomeRuling(BaseModel):
    """The outcome: the offence extinguished (positive) or the trial resumed (negative)."""

    model_config = {"extra": "forbid"}
    outcome: Literal["extinguished", "resumed"]
    decided_on: date = Field(description="Data della decisione (non futura).")
    file_number: FileNumber | None = None


class ProbationStatus(BaseModel):
    reference: str
    state: str = Field(description="Stato per legge (un termine scaduto ha già effetto).")
    state_label: str
    court: str
    offence: str | None = None
    ordered_on: date | None = None
    duration_months: int | None = None
    duration_days: int | None = None
    cadence_months: int | None = None
    record_signed_on: date | None = None
    period_last_day: date | None = None
    hearing_on: date | None = None
    revocation_hearing_on: date | None = None
    programme_version: int | None = None
    lpu_days_planned: int | None = None
    lpu_days_done: int | None = None
    days_served: int | None = Field(
        None, description="Giorni di prova svolti (revoca o esito negativo)."
    )
    art_657_bis: str | None = Field(
        None, description="Loro valore ai sensi dell'art. 657-bis c.p.p."
    )
    deadlines: list[Deadline]


def router(api: Api) -> APIRouter:
    """The probation routes, as `services/probation/procedure.py` declares them."""
    routes = APIRouter()
    Court = Annotated[registry.Registry, Depends(api.caller)]
    Token = Annotated[str, Depends(api.token)]

    def order(
        reference: str, path: str, key: str, token: str, trigger: str, body: dict[str, Any]
    ) -> Any:
        route = f"/v1/probations/{reference}/{path}"
        return court_order(api, probation.ORDERS, route, key, token, reference, trigger, body)

    @routes.get(
        "/v1/probations/{reference}",
        response_model=ProbationStatus,
        responses={404: ERRORS[404], 422: ERRORS[422]},
        summary="Stato di una messa alla prova davanti alla propria Autorità",
    )
    def status(reference: ReferencePath, who: Court) -> Any:
        found = probation.status_for_court(api.ctx(), reference, who.party)
        if found is None:
            raise Refusal(404, **orders.not_found(reference))
        return found

    @routes.post(
        "/v1/probations/{reference}/admission",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Ordinanza di sospensione con messa alla prova: durata e cadenza delle relazioni",
    )
    def admission(
        reference: ReferencePath,
        body: AdmissionOrder,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json", exclude_none=True)
        return order(reference, "admission", idempotency_key, token, "admit", payload)

    @routes.post(
        "/v1/probations/{reference}/refusal",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Rigetto della richiesta di messa alla prova",
    )
    def refusal(
        reference: ReferencePath,
        body: RefusalOrder,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json", exclude_none=True)
        return order(reference, "refusal", idempotency_key, token, "refuse", payload)

    @routes.post(
        "/v1/probations/{reference}/integration",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Integrazione del programma (una nuova versione, la precedente conservata)",
    )
    def integration(
        reference: ReferencePath,
        body: IntegrationOrder,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json", exclude_none=True)
        return order(reference, "integration", idempotency_key, token, "integrate", payload)

    @routes.post(
        "/v1/probations/{reference}/revocation-hearing",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Udienza di revoca, avvisata almeno dieci giorni prima",
    )
    def revocation_hearing(
        reference: ReferencePath,
        body: RevocationHearingOrder,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json", exclude={"revocation_pending"})
        return order(
            reference, "revocation-hearing", idempotency_key, token, "set_revocation_hearing",
            payload,
        )  # fmt: skip

    @routes.post(
        "/v1/probations/{reference}/revocation",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Revoca della sospensione o prosecuzione della prova",
    )
    def revocation(
        reference: ReferencePath,
        body: RevocationRuling,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        given = body.model_dump(mode="json", exclude_none=True, exclude={"outcome"})
        if body.outcome == "revoke":
            payload = {"decided_on": given.pop("ordered_on"), **given}
            return order(reference, "revocation", idempotency_key, token, "revoke", payload)
        return order(reference, "revocation", idempotency_key, token, "continue", given)

    @routes.post(
        "/v1/probations/{reference}/hearing",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Fissazione dell'udienza finale",
    )
    def hearing(
        reference: ReferencePath,
        body: HearingOrder,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json")
        return order(reference, "hearing", idempotency_key, token, "set_hearing", payload)

    @routes.post(
        "/v1/probations/{reference}/outcome",
        response_model=OrderApplied,
        responses=ORDER_ERRORS,
        summary="Esito: reato estinto o ripresa del processo",
    )
    def outcome(
        reference: ReferencePath,
        body: OutcomeRuling,
        idempotency_key: IdempotencyKey,
        token: Token,
        _who: Court,
    ) -> Any:
        payload = body.model_dump(mode="json", exclude_none=True, exclude={"outcome"})
        trigger = "extinguish" if body.outcome == "extinguished" else "resume"
        return order(reference, "outcome", idempotency_key, token, trigger, payload)

    return routes

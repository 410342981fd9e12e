"""The court's orders on a placement of community work and the host entity's attendance
register, as the API (`api/lpu/routes.py`) receives them, with the guarantees of decisions on
attestations (`services/orders.py`):

- scope: a court registry acts only on the placements whose declaration names its court; a
  host entity's token only on the placements under the conventions of its entity; any other
  reference is the same 404 as one that does not exist;
- one application per Idempotency-Key, the first answer given again to a retry;
- an order that arrives once the placement has ended (hours done, closed, revoked, not started)
  is recorded in its history as a late message and answered 409, never applied.

The machine judges every order as on every other path (`case fire`, the CLI): the same
guards, the same Italian reasons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from machines.lpu.placement import FORMS, MACHINE, LpuPlacement
from services import engine, orders, registry
from services.context import Context
from services.errors import DomainError, InvalidInput
from services.lpu import attendance
from storage.lpu.repository import LpuRepository
from storage.models import Case
from storage.unit_of_work import UnitOfWork

KIND = MACHINE.kind
HOST_ENTITY = "host_entity"
TOKEN_ROLES = {HOST_ENTITY: "ente ospitante"}
LATE_ORDER = orders.LATE_ORDER
MAX_SESSIONS = 200  # sessions per request: a day of a large entity, well within the body limit
ORDERS = orders.Orders(
    machine=MACHINE,
    ended=frozenset(
        {
            LpuPlacement.COMPLETED,
            LpuPlacement.REPORT_OVERDUE,
            LpuPlacement.CLOSED,
            LpuPlacement.REVOKED,
            LpuPlacement.WITHDRAWN,
        }
    ),
    late_basis=(
        "art. 54 d.lgs. 274/2000: provvedimento pervenuto a lavoro concluso, revocato o non "
        "avviato; registrato, non applicato"
    ),
)


def not_found(reference: str) -> dict[str, Any]:
    """The same answer whether the placement does not exist or is out of the token's scope."""
    return orders.not_found(reference)


def _placement(uow: UnitOfWork, reference: str) -> Case | None:
    return ORDERS.case(uow, reference)


def _under_entity(uow: UnitOfWork, case: Case | None, entity: str) -> bool:
    if case is None:
        return False
    convention = uow.repo.case_by_reference(str(case.data.get("convention", "")))
    return convention is not None and convention.data.get("entity") == entity


def status_for_court(ctx: Context, reference: str, court: str) -> dict[str, Any] | None:
    """What the court's registry reads of a placement before it (None otherwise): its state in
    law, the form, the hours owed, credited and left, the dates of the orders, the terms."""
    with ctx.read() as uow:
        if not ORDERS.before(uow, reference, court):
            return None
    return _status(ctx, reference)


def status_for_entity(ctx: Context, reference: str, entity: str) -> dict[str, Any] | None:
    """What a host entity reads of a placement under its conventions, with its register."""
    with ctx.read() as uow:
        case = _placement(uow, reference)
        if case is None or not _under_entity(uow, case, entity):
            return None
        sessions = [
            {
                "day": row.day.isoformat(),
                "start": row.start.strftime("%H:%M"),
                "end": row.end.strftime("%H:%M"),
                "hours": str(row.hours),
                "credited": str(row.credited),
                "activity": row.activity,
                "signed_by_person": row.signed_by_person,
                "signed_by_coordinator": row.signed_by_coordinator,
            }
            for row in LpuRepository.of(uow).register(case.id)
        ]
    return {**_status(ctx, reference), "sessions": sessions}


def _status(ctx: Context, reference: str) -> dict[str, Any]:
    detail = engine.describe(ctx, reference)
    data, facts = detail.case.data, detail.facts
    form = str(data.get("form", ""))
    return {
        "reference": reference,
        "state": detail.state,
        "state_label": MACHINE.label(detail.state),
        "court": data.get("court"),
        "convention": data.get("convention"),
        "form": form,
        "form_law": FORMS[form].law if form in FORMS else None,
        "owed_days": data.get("owed_days"),
        "owed_hours": data.get("owed_hours"),
        "credited_hours": facts.get("credited_hours"),
        "hours_left": facts.get("hours_left"),
        "authorised_extra_hours": bool(data.get("authorised_extra_hours", False)),
        "decided_on": data.get("decided_on"),
        "final_on": data.get("final_on"),
        "received_on": data.get("received_on"),
        "deadlines": orders.deadlines(ctx, reference),
    }


def entity_attendance(
    ctx: Context, token: str, key: str, digest: str, sessions: Sequence[Mapping[str, Any]]
) -> registry.Handled:
    """A host entity's sessions for several people at once: each fired as `attend` in its own
    transaction (a bad row refuses only itself; a row out of the entity's conventions is
    refused as not found), the answer, one result per row, kept under `key`. A retry with the
    same key gets that answer; a session sent again under another key is the same session."""
    admitted = registry.admit(ctx, token, key, HOST_ENTITY)
    who = admitted.registry
    if who is None or admitted.answer is not None:
        return admitted

    def out_of_scope(reference: str) -> DomainError | None:
        with ctx.read() as uow:
            if _under_entity(uow, _placement(uow, reference), who.party):
                return None
        return _NotFound(not_found(reference)["message"])

    results = []
    for number, row in enumerate(sessions, start=1):
        payload = {name: value for name, value in row.items() if name != "reference"}
        reference = str(row.get("reference", ""))
        results.append(attendance.attend(ctx, number, reference, payload, who.actor, out_of_scope))
    body = {
        "recorded": sum(1 for r in results if r.ok),
        "refused": sum(1 for r in results if not r.ok),
        "results": [
            {
                "row": r.row,
                "reference": r.reference,
                "ok": r.ok,
                "state": r.state,
                "error": r.error,
                "message": r.message,
                "field": r.field,
            }
            for r in results
        ],
    }
    return registry.keep(ctx, who, key, digest, registry.Answer(200, body))


class _NotFound(DomainError):
    status = 404
    code = "not_found"


def issue_entity_token(ctx: Context, entity: str, label: str = "") -> registry.Issued:
    """A token for a host entity, acting on the placements under its conventions; the entity
    is named as in its conventions (at least one must exist)."""
    entity = entity.strip()
    with ctx.read() as uow:
        known = {c.entity for c, _ in LpuRepository.of(uow).conventions()}
    if entity not in known:
        raise InvalidInput(f"nessuna convenzione dell'ente «{entity}»", "entity")
    return registry.issue_token(ctx, entity, label, HOST_ENTITY)

"""The court's orders on a placement of community work and the host entity's attendance
register, as the API (`api/lpu/routes.py`) receives them, with the guarantees of decisions on
attestations:

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
from datetime import datetime, timedelta
from typing import Any

from machines.calendar import rome_date
from machines.lpu.placement import FORMS, MACHINE, LpuPlacement
from services import engine, registry
from services.context import Context
from services.errors import DomainError, GuardFailed, InvalidInput, TransitionNotAllowed
from services.lpu import attendance
from storage.lpu.repository import LpuRepository
from storage.models import Case
from storage.unit_of_work import UnitOfWork

KIND = MACHINE.kind
HOST_ENTITY = "host_entity"
TOKEN_ROLES = {HOST_ENTITY: "ente ospitante"}
LATE_ORDER = "late_order"
ENDED = frozenset(
    {
        LpuPlacement.COMPLETED,
        LpuPlacement.REPORT_OVERDUE,
        LpuPlacement.CLOSED,
        LpuPlacement.REVOKED,
        LpuPlacement.WITHDRAWN,
    }
)
MAX_SESSIONS = 200  # sessions per request: a day of a large entity, well within the body limit
LATE_BASIS = (
    "art. 54 d.lgs. 274/2000: provvedimento pervenuto a lavoro concluso, revocato o non "
    "avviato; registrato, non applicato"
)


class LateOrder(DomainError):
    """A court's order for a placement that has ended: recorded in its history, not applied."""

    status = 409
    code = "late_order"

    def __init__(self, reference: str, state: str, since_at: datetime) -> None:
        since = rome_date(since_at)
        super().__init__(
            f"provvedimento su {reference} non applicato: l'inserimento è "
            f"«{MACHINE.label(state)}» dal {since:%d/%m/%Y}; registrato nello storico"
        )
        self.state, self.since, self.since_at = state, since.isoformat(), since_at.isoformat()


def not_found(reference: str) -> dict[str, Any]:
    """The same answer whether the placement does not exist or is out of the token's scope."""
    return {
        "error": "not_found",
        "message": f"nessun inserimento {reference} nell'ambito di questo token",
    }


def _placement(uow: UnitOfWork, reference: str) -> Case | None:
    case = uow.repo.case_by_reference(reference)
    return case if case is not None and case.kind == KIND else None


def _before_court(case: Case | None, court: str) -> bool:
    return case is not None and case.data.get("court") == court


def _under_entity(uow: UnitOfWork, case: Case | None, entity: str) -> bool:
    if case is None:
        return False
    convention = uow.repo.case_by_reference(str(case.data.get("convention", "")))
    return convention is not None and convention.data.get("entity") == entity


def court_order(
    ctx: Context,
    token: str,
    key: str,
    digest: str,
    reference: str,
    trigger: str,
    payload: Mapping[str, Any],
) -> registry.Handled:
    """A court registry's order (`trigger`: sentenced, final, authorise_hours, continue,
    revoke) on placement `reference`, in one transaction (`registry.handle_write`)."""

    def apply(uow: UnitOfWork, who: registry.Registry) -> registry.Answer:
        case = _placement(uow, reference)
        if not _before_court(case, who.party):
            return registry.Answer(404, not_found(reference))
        try:
            fired = order_in(
                ctx, uow, reference, trigger, dict(payload), who.actor, f"api:{who.token_id}:{key}"
            )
        except LateOrder as late:
            return registry.Answer(
                409, {"error": late.code, "message": str(late), "state": late.state,
                      "since": late.since, "since_at": late.since_at},
            )  # fmt: skip
        return registry.Answer(
            200,
            {
                "reference": reference,
                "order": trigger,
                "state": fired.to_state,
                "recorded_at": fired.occurred_at.isoformat(),
                "event": fired.sequence,
            },
        )

    def explain(uow: UnitOfWork, error: DomainError) -> registry.Answer:
        body: dict[str, Any] = {"error": error.code, "message": str(error)}
        if isinstance(error, InvalidInput | GuardFailed):
            body["field"] = error.field
        if not isinstance(error, InvalidInput):
            case = _placement(uow, reference)
            body["state"] = None if case is None else case.state
        return registry.Answer(error.status, body)

    return registry.handle_write(ctx, token, key, digest, reference, apply, explain)


def order_in(
    ctx: Context,
    uow: UnitOfWork,
    reference: str,
    trigger: str,
    payload: dict[str, Any],
    actor: str,
    idempotency_key: str | None,
) -> engine.FireResult:
    """Fire the court's order in an open unit of work; on an ended placement, record it as a
    late message (in the unit of work, which the caller commits) and raise `LateOrder`."""
    case = uow.repo.case_for_update(reference)
    try:
        return engine.fire_in(ctx, uow, reference, trigger, actor, payload, idempotency_key, case)
    except TransitionNotAllowed as refusal:
        case = _placement(uow, reference)
        if case is None or case.state not in ENDED:
            raise
        caught_up = refusal.caught_up
    checked = engine.validated(MACHINE, trigger, payload)
    since = _since(uow, case)
    engine.record_message(
        ctx, uow, case, LATE_ORDER, actor,
        {**checked, "requested": trigger, "since": since.isoformat()},
        LATE_BASIS, idempotency_key,
    )  # fmt: skip
    late = LateOrder(reference, case.state, since)
    late.caught_up = caught_up
    raise late


def _since(uow: UnitOfWork, case: Case) -> datetime:
    """The instant the case entered its current state in law."""
    moved = [e for e in uow.repo.history(case.id) if e.from_state != e.to_state]
    return moved[-1].effective_at


def status_for_court(ctx: Context, reference: str, court: str) -> dict[str, Any] | None:
    """What the court's registry reads of a placement before it (None otherwise): its state in
    law, the form, the hours owed, credited and left, the dates of the orders, the terms."""
    with ctx.read() as uow:
        if not _before_court(_placement(uow, reference), court):
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
        "deadlines": [
            {
                "term": MACHINE.label(timer.name),
                "last_day": rome_date(timer.due_at - timedelta(microseconds=1)),
                "lapses_at": timer.due_at,
                "passed": timer.name in {p.timer for p in detail.passed_terms},
            }
            for timer in detail.pending_timers
            if timer.fires is not None
        ],
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

"""A court's order on a case of a procedure, as the API receives it, with the guarantees of
decisions on attestations (`registry.handle_write`): the token's scope (only the cases before its
court: any other reference is the same 404 as one that does not exist), one application per
Idempotency-Key, and an order that arrives once the case has ended recorded in its history as a
late message and answered 409, never applied. The machine judges the order as on every other
path (`case fire`, the CLI): the same guards, the same Italian reasons.

Each procedure says which kind, which states are ended and on which basis a late order is
recorded (`Orders`); this module names no procedure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from machines.calendar import rome_date
from machines.spec import CaseMachine
from services import engine, registry
from services.context import Context
from services.errors import DomainError, GuardFailed, InvalidInput, TransitionNotAllowed
from storage.models import Case
from storage.unit_of_work import UnitOfWork

LATE_ORDER = "late_order"


class LateOrder(DomainError):
    """A court's order for a case that has ended: recorded in its history, not applied."""

    status = 409
    code = LATE_ORDER

    def __init__(self, machine: CaseMachine, reference: str, state: str, since_at: datetime):
        since = rome_date(since_at)
        super().__init__(
            f"provvedimento su {reference} non applicato: la pratica è "
            f"«{machine.label(state)}» dal {since:%d/%m/%Y}; registrato nello storico"
        )
        self.state, self.since, self.since_at = state, since.isoformat(), since_at.isoformat()


@dataclass(frozen=True)
class Orders:
    """How a procedure's kind takes a court's orders: `ended`, the states after which an order
    is late; `late_basis`, the legal basis written on the late message; `court_of`, the court a
    case is before (its data names it)."""

    machine: CaseMachine
    ended: frozenset[str]
    late_basis: str
    court_of: Callable[[Case], str | None] = lambda case: case.data.get("court")

    def case(self, uow: UnitOfWork, reference: str) -> Case | None:
        found = uow.repo.case_by_reference(reference)
        return found if found is not None and found.kind == self.machine.kind else None

    def before(self, uow: UnitOfWork, reference: str, court: str) -> bool:
        found = self.case(uow, reference)
        return found is not None and self.court_of(found) == court


def not_found(reference: str) -> dict[str, Any]:
    """The same answer whether the case does not exist or is out of the token's scope."""
    return {
        "error": "not_found",
        "message": f"nessuna pratica {reference} nell'ambito di questo token",
    }


def court_order(
    ctx: Context,
    orders: Orders,
    token: str,
    key: str,
    digest: str,
    reference: str,
    trigger: str,
    payload: Mapping[str, Any],
) -> registry.Handled:
    """A court registry's order (`trigger`) on case `reference`, in one transaction."""

    def apply(uow: UnitOfWork, who: registry.Registry) -> registry.Answer:
        if not orders.before(uow, reference, who.party):
            return registry.Answer(404, not_found(reference))
        try:
            fired = order_in(
                ctx, orders, uow, reference, trigger, dict(payload), who.actor,
                f"api:{who.token_id}:{key}",
            )  # fmt: skip
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
            case = orders.case(uow, reference)
            body["state"] = None if case is None else case.state
        return registry.Answer(error.status, body)

    return registry.handle_write(ctx, token, key, digest, reference, apply, explain)


def order_in(
    ctx: Context,
    orders: Orders,
    uow: UnitOfWork,
    reference: str,
    trigger: str,
    payload: dict[str, Any],
    actor: str,
    idempotency_key: str | None,
) -> engine.FireResult:
    """Fire the court's order in an open unit of work; on an ended case, record it as a late
    message (in the unit of work, which the caller commits) and raise `LateOrder`."""
    case = uow.repo.case_for_update(reference)
    try:
        return engine.fire_in(ctx, uow, reference, trigger, actor, payload, idempotency_key, case)
    except TransitionNotAllowed as refusal:
        case = orders.case(uow, reference)
        if case is None or case.state not in orders.ended:
            raise
        caught_up = refusal.caught_up
    checked = engine.validated(orders.machine, trigger, payload)
    moved = [e for e in uow.repo.history(case.id) if e.from_state != e.to_state]
    since = moved[-1].effective_at
    engine.record_message(
        ctx, uow, case, LATE_ORDER, actor,
        {**checked, "requested": trigger, "since": since.isoformat()},
        orders.late_basis, idempotency_key,
    )  # fmt: skip
    late = LateOrder(orders.machine, reference, case.state, since)
    late.caught_up = caught_up
    raise late


def deadlines(ctx: Context, reference: str) -> list[dict[str, Any]]:
    """The case's running terms as a court reads them: label, last day, lapse instant, passed."""
    detail = engine.describe(ctx, reference)
    machine = ctx.machine(detail.case.kind)
    passed = {p.timer for p in detail.passed_terms}
    return [
        {
            "term": machine.label(timer.name),
            "last_day": rome_date(timer.due_at - timedelta(microseconds=1)),
            "lapses_at": timer.due_at,
            "passed": timer.name in passed,
        }
        for timer in detail.pending_timers
        if timer.fires is not None
    ]

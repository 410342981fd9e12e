"""What each actor does on a funded placement (D.M. 128/2025 arts. 11-14): the prison files
and reviews, the UIEPE registers and checks, the court decides, the facility reports entry,
presence and exit. The CLI and the court API call these same functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from machines.calendar import rome_date
from machines.placement import DM, PENDING, Placement
from machines.spec import CaseView, GuardInput
from services import engine
from services.context import Context
from services.engine import FireResult
from services.errors import (
    InvalidInput,
    LateDecision,
    TransitionNotAllowed,
    UnknownCase,
)
from storage.models import Case
from storage.repository import VersionConflict
from storage.unit_of_work import UnitOfWork

KIND = "placement"
WAITING_FOR_DECISION = (Placement.ATTESTED, Placement.AT_COURT)
LATE_DECISION = "late_decision"


class Outcome(StrEnum):
    GRANTED = "granted"
    REJECTED = "rejected"


def file_application(
    ctx: Context,
    prison: str,
    court: str,
    actor: str,
    filed_on: date | None = None,
    idempotency_key: str | None = None,
) -> FireResult:
    """The detainee's application, filed at the prison Direction (art. 12 co. 1). The case
    carries no name: its reference is the pseudonym."""
    today = rome_date(ctx.clock.now())
    filed = filed_on or today
    if filed > today:
        raise InvalidInput(f"filed_on {filed} is in the future")
    data = {"prison": prison, "court": court, "filed_on": filed.isoformat()}
    return engine.open_case(ctx, KIND, actor, data, idempotency_key)


def director_review(
    ctx: Context,
    reference: str,
    assessment: Mapping[str, Any],
    actor: str,
    idempotency_key: str | None = None,
) -> FireResult:
    """The Director's check of the art. 11 requirements with the equipe's summary report (art.
    12 co. 2-3): forwarded to the UIEPE if all are met, otherwise refused naming each one that
    failed."""
    payload = dict(assessment)
    with ctx.uow() as uow:
        case = _case(uow, reference)
        given = GuardInput(_view(case), payload, ctx.clock.now())
        verdict = next(v for v in ctx.machine(case.kind).verdicts(given) if v.trigger == "forward")
    if verdict.allowed or verdict.dest is None:
        return engine.fire(ctx, reference, "forward", actor, payload, idempotency_key)
    reason = "; ".join(verdict.reasons)
    return engine.fire(
        ctx, reference, "refuse", actor, {**payload, "reason": reason}, idempotency_key
    )


def intake(
    ctx: Context, reference: str, actor: str, idempotency_key: str | None = None
) -> FireResult:
    """The UIEPE registers the application: protocol number and timestamp, which fix its place
    in the queue (art. 12 co. 5). While the Directorate's stop is on, it is refused at once
    with that reason (art. 13 co. 7)."""

    def work(uow: UnitOfWork) -> FireResult:
        case = _case(uow, reference)
        application = uow.placements.application(case.id)
        if application is None:
            raise InvalidInput(f"{reference} is not a placement application")
        now = ctx.clock.now()
        year = rome_date(now).year
        number = uow.repo.next_number(f"PROT{application.office_id}", year)
        protocol = {"protocol_number": number, "protocol_at": now.isoformat()}
        result = engine.fire_in(ctx, uow, reference, "register", actor, protocol, idempotency_key)
        if result.replayed:
            return result
        budget = uow.placements.budget_year(year)
        if budget is not None and budget.stopped_at is not None:
            reason = f"nuove istanze sospese dalla Direzione generale: {budget.stop_reason}"
            result = engine.fire_in(
                ctx,
                uow,
                reference,
                "refuse",
                actor,
                {"reason": f"{reason} (art. 13 co. 7 {DM})"},
                idempotency_key and f"{idempotency_key}:stop",
            )
        uow.commit()
        return result

    return engine.in_fresh_transactions(ctx, reference, work)


def formal_check(
    ctx: Context,
    reference: str,
    compliant: bool,
    actor: str,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> FireResult:
    """The UIEPE's formal check (art. 12 co. 4): admitted to wait for a place, or refused with
    its reason."""
    if compliant:
        return engine.fire(ctx, reference, "admit", actor, {}, idempotency_key)
    if not reason:
        raise InvalidInput("a refusal needs its reason")
    return engine.fire(ctx, reference, "refuse", actor, {"reason": reason}, idempotency_key)


def record_decision(
    ctx: Context,
    reference: str,
    outcome: Outcome,
    decided_on: date,
    court: str,
    actor: str,
    file_number: str | None = None,
    idempotency_key: str | None = None,
    measure_start: date | None = None,
) -> FireResult:
    """The court's decision on an attestation, reported by its registry (art. 12 co. 7-10).

    Applied if the attestation still waits for it. If it no longer does (it lapsed, was
    withdrawn, or was already decided), the decision is recorded in the case's history as a late
    message, changes nothing, and `LateDecision` says since when the case is where it is."""

    def work(uow: UnitOfWork) -> FireResult:
        try:
            result = decide_in(
                ctx, uow, reference, outcome, decided_on, court, actor, file_number,
                idempotency_key, measure_start,
            )  # fmt: skip
        except LateDecision:
            uow.commit()  # the late message
            raise
        if not result.replayed:
            uow.commit()
        return result

    return engine.in_fresh_transactions(ctx, reference, work)


def decide_in(
    ctx: Context,
    uow: UnitOfWork,
    reference: str,
    outcome: Outcome,
    decided_on: date,
    court: str,
    actor: str,
    file_number: str | None = None,
    idempotency_key: str | None = None,
    measure_start: date | None = None,
) -> FireResult:
    """`record_decision` inside an open unit of work, which the caller commits, also when it
    raises `LateDecision` (the late message is written in it). Raises `VersionConflict` when
    the case moved since it was read: the caller starts again."""
    if decided_on > rome_date(ctx.clock.now()):
        raise InvalidInput(f"decided_on {decided_on} is in the future", "decided_on")
    if not court.strip():
        raise InvalidInput("the decision names no court")
    trigger = "grant" if outcome is Outcome.GRANTED else "reject"
    payload: dict[str, Any] = {
        "outcome": outcome.value,
        "decided_on": decided_on.isoformat(),
        "court": court,
    }
    if file_number:
        payload["file_number"] = file_number
    if measure_start is not None:
        payload["measure_start"] = measure_start.isoformat()
    case = _case(uow, reference)
    state = Placement(case.state)
    if state in WAITING_FOR_DECISION or state in PENDING:
        try:
            return engine.fire_in(
                ctx, uow, reference, trigger, actor, payload, idempotency_key, case
            )
        except TransitionNotAllowed:
            if state in WAITING_FOR_DECISION:  # it moved since read (the lapse won): late
                raise VersionConflict(reference) from None
            raise
    # A late message is only ever written here, the case no longer waiting: a replay of it
    # finds the case here too.
    replay = _replay_of(uow, idempotency_key)
    if replay is not None:
        return replay
    since = _since(uow, case)
    engine.record_message(
        ctx,
        uow,
        case,
        LATE_DECISION,
        actor,
        {**payload, "requested": trigger, "since": since},
        f"art. 12 co. 8-10 {DM}: decisione pervenuta quando l'attestazione non era "
        "più in attesa di decisione; non applicata",
        idempotency_key,
    )
    raise LateDecision(reference, case.state, since)


def record_entry(
    ctx: Context,
    reference: str,
    commitment_signed: bool,
    actor: str,
    idempotency_key: str | None = None,
) -> FireResult:
    """The person enters the facility and signs the written commitment (art. 11 co. 5); the
    eight funded months start today (art. 11 co. 4)."""
    payload = {"commitment_signed": commitment_signed}
    return engine.fire(ctx, reference, "enter", actor, payload, idempotency_key)


@dataclass(frozen=True)
class PresenceSummary:
    reference: str
    recorded: int  # days written by this report
    present: int  # days of presence in the stay so far
    absent: int
    spent: str  # EUR, days of presence x rate


def record_presence(
    ctx: Context, reference: str, start: date, end: date, absences: set[date]
) -> PresenceSummary:
    """The facility's presence register for `start`..`end`: every day present but the
    `absences` (art. 13 co. 5: only days of actual presence are paid). Reporting a day again
    corrects it."""
    today = rome_date(ctx.clock.now())
    if end < start:
        raise InvalidInput("the period ends before it starts")
    if any(not start <= day <= end for day in absences):
        raise InvalidInput("an absence falls outside the period")
    with ctx.uow() as uow:
        case = _case(uow, reference)
        if case.state != Placement.PLACED:
            raise TransitionNotAllowed(
                f"presence is recorded while the person is placed; {reference} is '{case.state}'"
            )
        reservation = uow.placements.active_reservation(case.id)
        assert reservation is not None and reservation.entered_on is not None
        assert reservation.funded_until is not None
        last = min(today, reservation.funded_until)
        if start < reservation.entered_on or end > last:
            raise InvalidInput(
                f"the period must fall between the entry ({reservation.entered_on}) and {last}"
            )
        days = {
            start + timedelta(days=n): start + timedelta(days=n) not in absences
            for n in range((end - start).days + 1)
        }
        uow.placements.record_presences(reservation.id, days)
        register = uow.placements.presences(reservation.id)
        present = sum(register.values())
        uow.commit()
        return PresenceSummary(
            reference,
            len(days),
            present,
            len(register) - present,
            str(reservation.daily_rate * present),
        )


def record_exit(
    ctx: Context,
    reference: str,
    left_on: date,
    actor: str,
    idempotency_key: str | None = None,
) -> FireResult:
    """The person leaves the facility before the funded period ends (art. 13 co. 5)."""
    payload = {"left_on": left_on.isoformat()}
    return engine.fire(ctx, reference, "leave", actor, payload, idempotency_key)


def withdraw(
    ctx: Context, reference: str, actor: str, idempotency_key: str | None = None
) -> FireResult:
    return engine.fire(ctx, reference, "withdraw", actor, {}, idempotency_key)


def close(
    ctx: Context, reference: str, actor: str, idempotency_key: str | None = None
) -> FireResult:
    """Close the case; after a stay, with the cost-recovery statement (art. 14)."""
    return engine.fire(ctx, reference, "close", actor, {}, idempotency_key)


def pending_before(ctx: Context, reference: str, court: str) -> bool:
    with ctx.uow() as uow:
        return pending_before_in(uow, reference, court)


def pending_before_in(uow: UnitOfWork, reference: str, court: str) -> bool:
    """Whether `reference` is a placement whose application names `court`: what a court's
    registry may see and decide (art. 12 co. 8)."""
    return uow.placements.court_of(reference) == court


def state_in(uow: UnitOfWork, reference: str) -> str | None:
    case = uow.repo.case_by_reference(reference)
    return None if case is None else case.state


def status_for_court(ctx: Context, reference: str, court: str) -> dict[str, Any] | None:
    """What the court's registry may read of a case before it (None otherwise): state, the
    attestation's dates, the decision recorded and the running terms. No personal data."""
    if not pending_before(ctx, reference, court):
        return None
    detail = engine.describe(ctx, reference)
    machine = ctx.machine(KIND)
    with ctx.uow() as uow:
        reservation = uow.placements.last_reservation(detail.case.id)
    decided = detail.case.data.get("decided_on")
    return {
        "reference": reference,
        "state": detail.case.state,
        "state_label": machine.label(detail.case.state),
        "court": court,
        "issued_on": None if reservation is None else reservation.issued_on,
        "valid_until": None if reservation is None else reservation.valid_until,
        "decided_on": decided,
        "deadlines": [
            {
                "term": machine.label(timer.name),
                "last_day": rome_date(timer.due_at - timedelta(microseconds=1)),
                "lapses_at": timer.due_at,
            }
            for timer in detail.pending_timers
            if timer.fires is not None
        ],
    }


def _case(uow: UnitOfWork, reference: str) -> Case:
    case = uow.repo.case_by_reference(reference)
    if case is None or case.kind != KIND:
        raise UnknownCase(reference)
    return case


def _view(case: Case) -> CaseView:
    return CaseView(case.reference, case.state, dict(case.data))


def _replay_of(uow: UnitOfWork, key: str | None) -> FireResult | None:
    """The first answer to a decision with `key`: its result, or `LateDecision` again."""
    found = uow.repo.event_by_key(key) if key else None
    if found is None:
        return None
    event, reference = found
    if event.trigger == LATE_DECISION:
        raise LateDecision(reference, event.to_state, str(event.payload["since"]))
    return FireResult.of(event, reference, replayed=True)


def _since(uow: UnitOfWork, case: Case) -> str:
    """The Italian date the case entered its current state."""
    moved = [e for e in uow.repo.history(case.id) if e.from_state != e.to_state]
    return rome_date(moved[-1].occurred_at).isoformat()

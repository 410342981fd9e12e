"""What each actor does on a funded placement (D.M. 128/2025 arts. 11-14): the prison files
and reviews, the UIEPE registers and checks, the court decides, the facility reports entry,
presence and exit. The CLI and the court API call these same functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from machines.calendar import rome_date
from machines.placements import DM, PENDING, Placement
from machines.spec import CaseView, GuardInput
from services import engine, registry
from services.context import Context
from services.engine import FireResult
from services.errors import (
    DomainError,
    GuardFailed,
    InvalidInput,
    LateDecision,
    TransitionNotAllowed,
    UnknownCase,
)
from services.placements.effects import attendance
from storage.models import Case
from storage.placements.repository import PlacementRepository
from storage.unit_of_work import UnitOfWork

KIND = "placement"
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
    carries no name: its reference is the pseudonym. The machine refuses a filing date in the
    future, as it does on `case open`."""
    filed = filed_on or rome_date(ctx.clock.now())
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
    failed (the assessment is kept on the refusal)."""
    machine = ctx.machine(KIND)
    payload = engine.validated(machine, "forward", _json_object(assessment))
    with ctx.read() as uow:
        case = _case(uow, reference)
        given = GuardInput(_view(case), payload, ctx.clock.now())
        verdict = next(v for v in machine.verdicts(given) if v.trigger == "forward")
    if verdict.allowed or verdict.dest is None:
        return engine.fire(ctx, reference, "forward", actor, payload, idempotency_key)
    refusal = {"reason": "; ".join(verdict.reasons), "assessment": payload}
    return engine.fire(ctx, reference, "refuse", actor, refusal, idempotency_key)


def intake(
    ctx: Context, reference: str, actor: str, idempotency_key: str | None = None
) -> FireResult:
    """The UIEPE registers the application: its protocol number and timestamp, which fix its
    place in the queue (art. 12 co. 5), are given by the registration itself. While the
    Directorate's stop is on, the machine refuses it with that reason (art. 13 co. 7)."""
    return engine.fire(ctx, reference, "register", actor, {}, idempotency_key)


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
        raise InvalidInput(
            "per l'esito negativo della verifica formale serve il motivo "
            "(art. 12 co. 4 D.M. 128/2025)"
        )
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
        except DomainError as refusal:
            if isinstance(refusal, LateDecision) or refusal.caught_up:
                uow.commit()  # the late message, or the terms that lapsed before it
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
    the case moved since it was read: the caller starts again.

    The machine judges the decision as on every other path (its date, its court). A term
    already passed takes effect first (engine.fire_in): a decision that arrives after the
    attestation's validity is late, whether or not a sweep has run."""
    trigger = "grant" if outcome is Outcome.GRANTED else "reject"
    payload: dict[str, Any] = {"decided_on": decided_on.isoformat(), "court": court}
    if file_number:
        payload["file_number"] = file_number
    if measure_start is not None:
        payload["measure_start"] = measure_start.isoformat()
    _late_again(uow, idempotency_key)
    case = _case(uow, reference, for_update=True)
    try:
        return engine.fire_in(ctx, uow, reference, trigger, actor, payload, idempotency_key, case)
    except TransitionNotAllowed as refusal:
        caught_up, signals = refusal.caught_up, refusal.signals
    # No longer waiting for a decision (or it never was): a late message, recorded.
    case = _case(uow, reference)
    if Placement(case.state) in PENDING:  # not attested yet: nothing to decide on
        raise TransitionNotAllowed(
            f"{reference} non ha ancora un'attestazione (stato '{case.state}'): non c'è nulla "
            "da decidere"
        )
    checked = engine.validated(ctx.machine(KIND), trigger, payload)
    try:
        engine.judge_guards(ctx, uow, case, trigger, checked)
    except GuardFailed as refusal:
        refusal.caught_up, refusal.signals = caught_up, signals
        raise
    since = _since(uow, case)
    engine.record_message(
        ctx,
        uow,
        case,
        LATE_DECISION,
        actor,
        {
            **checked,
            "requested": trigger,
            "since": since.isoformat(),
        },
        f"art. 12 co. 8-10 {DM}: decisione pervenuta quando l'attestazione non era "
        "più in attesa di decisione; non applicata",
        idempotency_key,
    )
    late = LateDecision(reference, case.state, rome_date(since).isoformat(), since.isoformat())
    late.caught_up, late.signals = caught_up, signals
    raise late


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
    """A presence return and the stay so far as the facility's register shows it. Only the
    days reported present are payable (art. 13 co. 5 D.M. 128/2025); a day of the stay up to
    yesterday that nobody reported is listed in `unreported` and not paid."""

    reference: str
    start: date  # the days this return covers
    end: date
    recorded: int  # days written by this return
    present: int  # days reported present in the stay so far
    absent: int  # days reported absent in the stay so far
    unreported: list[date]  # days of the stay up to yesterday nobody reported: not paid
    payable: str  # EUR, days reported present x the daily rate


def record_presence(
    ctx: Context, reference: str, start: date, end: date, absences: set[date]
) -> PresenceSummary:
    """The facility's presence register for `start`..`end`: every day present but the
    `absences` (art. 13 co. 5 D.M. 128/2025: only days of actual presence are paid). The
    period lies between the entry and today, never past the last funded day (art. 11 co. 4).
    Reporting a day again corrects it."""
    if end < start:
        raise InvalidInput(
            f"la fine del periodo ({end:%d/%m/%Y}) precede l'inizio ({start:%d/%m/%Y})"
        )
    return _presence_return(ctx, reference, start, end, absences, within_stay=False)


def record_month_presence(
    ctx: Context, reference: str, year: int, month: int, absences: set[date]
) -> PresenceSummary:
    """The facility's monthly presence return, day by day (art. 13 co. 5 D.M. 128/2025): every
    day of the month that falls in the funded stay so far, from the entry to today and never
    past the last funded day (art. 11 co. 4), is present but the `absences`. A month with no
    such day is refused; returning a month again corrects it."""
    try:
        first = date(year, month, 1)
    except ValueError as error:
        raise InvalidInput(f"{year}-{month:02d} non è un mese valido (AAAA-MM)") from error
    following = date(year + month // 12, month % 12 + 1, 1)
    return _presence_return(
        ctx, reference, first, following - timedelta(days=1), absences, within_stay=True
    )


def _presence_return(
    ctx: Context,
    reference: str,
    start: date,
    end: date,
    absences: set[date],
    within_stay: bool,
) -> PresenceSummary:
    """Write a return for `start`..`end` (cut to the stay so far when `within_stay`) and
    summarise the register: present, absent, unreported, payable (art. 13 co. 5)."""
    today = rome_date(ctx.clock.now())
    with ctx.uow() as uow:
        case = _case(uow, reference)
        if case.state != Placement.PLACED:
            raise TransitionNotAllowed(
                "le presenze si annotano solo mentre la persona è accolta in struttura; "
                f"{reference} è nello stato '{case.state}'"
            )
        reservation = PlacementRepository.of(uow).active_reservation(case.id)
        assert reservation is not None and reservation.entered_on is not None
        assert reservation.funded_until is not None
        last = min(today, reservation.funded_until)
        if within_stay:
            month = start
            start, end = max(start, reservation.entered_on), min(end, last)
            if end < start:
                raise InvalidInput(
                    f"il mese {month:%m/%Y} non ha giorni di permanenza tra l'ingresso "
                    f"({reservation.entered_on:%d/%m/%Y}) e il {last:%d/%m/%Y}"
                )
        elif start < reservation.entered_on or end > last:
            raise InvalidInput(
                f"il periodo {start:%d/%m/%Y} - {end:%d/%m/%Y} deve cadere tra l'ingresso "
                f"({reservation.entered_on:%d/%m/%Y}) e il {last:%d/%m/%Y}"
            )
        outside = sorted(day for day in absences if not start <= day <= end)
        if outside:
            raise InvalidInput(
                f"assenze fuori dal periodo {start:%d/%m/%Y} - {end:%d/%m/%Y}: "
                + ", ".join(f"{day:%d/%m/%Y}" for day in outside)
            )
        days = {
            start + timedelta(days=n): start + timedelta(days=n) not in absences
            for n in range((end - start).days + 1)
        }
        PlacementRepository.of(uow).record_presences(reservation.id, days)
        account = attendance(
            reservation, PlacementRepository.of(uow).presences(reservation.id), today
        )
        uow.commit()
        return PresenceSummary(
            reference=reference,
            start=start,
            end=end,
            recorded=len(days),
            present=account.present,
            absent=len(account.absent),
            unreported=list(account.unreported),
            payable=str(account.payable(reservation.daily_rate)),
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


def registry_decision(
    ctx: Context,
    token: str,
    key: str,
    digest: str,
    reference: str,
    outcome: Outcome,
    decided_on: date,
    file_number: str,
    measure_start: date | None,
) -> tuple[registry.Handled, tuple[str, ...]]:
    """A court registry's decision request (art. 12 co. 8), in one transaction
    (`registry.handle_write`): its token, its key's first answer, the scope (only a case
    pending before its court; any other is the same 404 as a case that does not exist), the
    decision through `decide_in`, the answer kept under the key. Returns what became of the
    request and the signals the change emitted (a freed place), for the entry point to act
    on."""
    signals: list[str] = []

    def apply(uow: UnitOfWork, who: registry.Registry) -> registry.Answer:
        if not pending_before_in(uow, reference, who.party):
            return registry.Answer(404, not_found(reference))
        try:
            result = decide_in(
                ctx, uow, reference, outcome, decided_on, who.party, who.actor, file_number,
                f"api:{who.token_id}:{key}", measure_start,
            )  # fmt: skip
        except LateDecision as late:
            signals[:] = late.signals  # the lapse that made it late freed the place
            return registry.Answer(
                409, {"error": late.code, "message": str(late), "state": late.state,
                      "since": late.since, "since_at": late.since_at},
            )  # fmt: skip
        signals[:] = result.signals
        return registry.Answer(
            200,
            {
                "reference": reference,
                "outcome": outcome.value,
                "state": result.to_state,
                "decided_on": decided_on.isoformat(),
                "recorded_at": result.occurred_at.isoformat(),
                "event": result.sequence,
            },
        )

    def explain(uow: UnitOfWork, error: DomainError) -> registry.Answer:
        """A refusal, as the registry reads it: the field at fault, and the case's state."""
        body: dict[str, Any] = {"error": error.code, "message": str(error)}
        if isinstance(error, InvalidInput | GuardFailed):
            body["field"] = error.field
        if not isinstance(error, InvalidInput):
            body["state"] = state_in(uow, reference)
        return registry.Answer(error.status, body)

    handled = registry.handle_write(ctx, token, key, digest, reference, apply, explain)
    return handled, tuple(signals)


def not_found(reference: str) -> dict[str, Any]:
    """The same answer whether the case does not exist or is before another court."""
    return {
        "error": "not_found",
        "message": f"nessuna pratica {reference} pendente davanti a questa Autorità giudiziaria",
    }


def pending_before(ctx: Context, reference: str, court: str) -> bool:
    with ctx.read() as uow:
        return pending_before_in(uow, reference, court)


def pending_before_in(uow: UnitOfWork, reference: str, court: str) -> bool:
    """Whether `reference` is a placement whose application names `court`: what a court's
    registry may see and decide (art. 12 co. 8)."""
    return PlacementRepository.of(uow).court_of(reference) == court


def state_in(uow: UnitOfWork, reference: str) -> str | None:
    case = uow.repo.case_by_reference(reference)
    return None if case is None else case.state


def status_for_court(ctx: Context, reference: str, court: str) -> dict[str, Any] | None:
    """What the court's registry may read of a case before it (None otherwise): its state in
    law (a term already passed counts, with its instant), the attestation's dates, the decision
    recorded and the terms. No personal data."""
    if not pending_before(ctx, reference, court):
        return None
    detail = engine.describe(ctx, reference)
    machine = ctx.machine(KIND)
    facts = detail.facts
    passed = {p.timer for p in detail.passed_terms}
    return {
        "reference": reference,
        "state": detail.state,
        "state_label": machine.label(detail.state),
        "court": court,
        "issued_on": facts.get("issued_on"),
        "valid_until": facts.get("valid_until"),
        "decided_on": facts.get("decided_on"),
        "decision": facts.get("decision"),
        "measure_start": facts.get("measure_start"),
        "deadlines": [
            {
                "term": machine.label(timer.name),
                "last_day": rome_date(timer.due_at - timedelta(microseconds=1)),
                "lapses_at": timer.due_at,
                "passed": timer.name in passed,
            }
            for timer in detail.pending_timers
            if timer.fires is not None
        ],
    }


def _case(uow: UnitOfWork, reference: str, for_update: bool = False) -> Case:
    """The placement `reference`; `for_update`: to change it (concurrent changes queue)."""
    repo = uow.repo
    case = repo.case_for_update(reference) if for_update else repo.case_by_reference(reference)
    if case is None or case.kind != KIND:
        raise UnknownCase(reference)
    return case


def _view(case: Case) -> CaseView:
    return CaseView(case.reference, case.state, dict(case.data))


def _late_again(uow: UnitOfWork, key: str | None) -> None:
    """A decision whose key was already kept as a late message: `LateDecision` again (any
    other first use of the key is the engine's to answer)."""
    found = uow.repo.event_by_key(key) if key else None
    if found is not None and found[0].trigger == LATE_DECISION:
        event, reference = found
        since = datetime.fromisoformat(str(event.payload["since"]))
        day = rome_date(since).isoformat()
        raise LateDecision(reference, event.to_state, day, since.isoformat())


def _since(uow: UnitOfWork, case: Case) -> datetime:
    """The instant the case entered its current state in law (a lapse: its due instant)."""
    moved = [e for e in uow.repo.history(case.id) if e.from_state != e.to_state]
    return moved[-1].effective_at


def _json_object(value: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput("la valutazione deve essere un oggetto JSON")
    return dict(value)

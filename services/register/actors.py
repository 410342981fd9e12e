"""What each actor does on the register of residential facilities (D.M. 128/2025 arts. 3-10):
the operator (ente gestore) files its expression of interest, answers the notices and reports
changes; the Directorate-general (DG) reviews, hears the prison administration (DAP), registers
or rejects, runs the cancellation procedures and prescribes; the UIEPE's penitentiary police
unit visits. The CLI calls these same functions.

Nothing here decides: each function shapes its payload and fires it; the machines
(machines/register) and the effects (services/register/effects.py) refuse. A payload its
schema refuses is told in Italian with the field's own description from the machine, before
anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError

from machines.calendar import rome_date
from machines.register import DM
from machines.spec import CaseMachine, Payload
from services import engine
from services.context import Context
from services.engine import FireResult
from services.errors import InvalidInput, UnknownCase
from services.reasons import reason

FACILITY = "facility"
CANCELLATION = "cancellation"
KINDS = (FACILITY, CANCELLATION)
OPEN = "open"
# What each case's opening is in law: the expression of interest (art. 3 co. 2-3), the
# procedure started on its causes (art. 5 co. 1).
OPENING_BASIS = {FACILITY: f"art. 3 co. 2-3 {DM}", CANCELLATION: f"art. 5 co. 1 {DM}"}

OPERATOR = "ente-gestore"
DG = "direzione-generale"
UIEPE = "uiepe"


# the operator (ente gestore) -----------------------------------------------------------------
def file_interest(
    ctx: Context,
    data: Mapping[str, Any],
    actor: str = OPERATOR,
    idempotency_key: str | None = None,
) -> FireResult:
    """The expression of interest on the notice's uniform forms, with the self-declarations of
    the requirements (art. 3 co. 2-3): a facility case (STR-...) with the Opening's fields."""
    if not isinstance(data, Mapping):
        raise InvalidInput("la manifestazione di interesse deve essere un oggetto JSON")
    given = dict(data)
    _check(ctx.machine(FACILITY), OPEN, given)
    return engine.open_case(ctx, FACILITY, actor, given, idempotency_key)


def observe(
    ctx: Context,
    reference: str,
    text: str,
    actor: str = OPERATOR,
    idempotency_key: str | None = None,
) -> FireResult:
    """The operator's observations on the notice of reasons (art. 10-bis L. 241/1990): after
    the term, recorded on the case and not applied (the machine says so)."""
    return _fire(ctx, reference, "observe", actor, {"text": text}, idempotency_key)


def report_change(
    ctx: Context,
    reference: str,
    nature: str,
    requirement: str,
    description: str,
    occurred_on: date,
    actor: str = OPERATOR,
    idempotency_key: str | None = None,
) -> FireResult:
    """A change to a declared requirement ('change') or the loss of one ('loss'), and the day
    it happened (art. 4 co. 1 a-b)."""
    payload = {
        "nature": nature,
        "requirement": requirement,
        "description": description,
        "occurred_on": occurred_on.isoformat(),
    }
    return _fire(ctx, reference, "report_change", actor, payload, idempotency_key)


def withdraw_interest(
    ctx: Context, reference: str, actor: str = OPERATOR, idempotency_key: str | None = None
) -> FireResult:
    """The operator withdraws its expression of interest before the decision (art. 3 co. 2)."""
    return _fire(ctx, reference, "withdraw", actor, {}, idempotency_key)


def clarify(
    ctx: Context,
    reference: str,
    text: str,
    documents: int = 0,
    actor: str = OPERATOR,
    idempotency_key: str | None = None,
) -> FireResult:
    """Clarifications and documents on the invitation of a cancellation procedure (art. 5 co.
    2): after the peremptory 30 days, recorded and disregarded (the machine says so)."""
    payload = {"text": text, "documents": documents}
    return _fire(ctx, reference, "clarify", actor, payload, idempotency_key)


def defend(
    ctx: Context,
    reference: str,
    text: str,
    documents: int = 0,
    actor: str = OPERATOR,
    idempotency_key: str | None = None,
) -> FireResult:
    """The defence on the formal contestation (art. 5 co. 3), within the term it set."""
    payload = {"text": text, "documents": documents}
    return _fire(ctx, reference, "defend", actor, payload, idempotency_key)


def give_up(
    ctx: Context, reference: str, actor: str = OPERATOR, idempotency_key: str | None = None
) -> FireResult:
    """The operator declares it no longer wants to be registered, at any stage of the
    cancellation procedure `reference`: the facility is cancelled on the record as it stands
    (art. 5 co. 5)."""
    return _fire(ctx, reference, "give_up", actor, {}, idempotency_key)


# the Directorate-general (DG) ----------------------------------------------------------------
def start_review(
    ctx: Context,
    reference: str,
    people: Sequence[Mapping[str, Any]] = (),
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The review opens on the self-declarations of each person of art. 8 co. 2, by role and
    flags, never a name (art. 3 co. 3-4; art. 15: kept on the case, out of the trail)."""
    if isinstance(people, str | bytes | Mapping) or not isinstance(people, Iterable):
        raise InvalidInput("le persone sono un elenco JSON di oggetti", "people")
    payload = {"people": [dict(p) if isinstance(p, Mapping) else p for p in people]}
    return _fire(ctx, reference, "review", actor, payload, idempotency_key)


def record_dap_opinion(
    ctx: Context,
    reference: str,
    opinion: str,
    given_on: date,
    note: str | None = None,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The opinion of the prison administration, heard before the decision (art. 3 co. 4)."""
    payload: dict[str, Any] = {"opinion": opinion, "given_on": given_on.isoformat()}
    if note is not None:
        payload["note"] = note
    return _fire(ctx, reference, "dap_opinion", actor, payload, idempotency_key)


def notify_reasons(
    ctx: Context,
    reference: str,
    reasons: str,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The notice of the reasons against registration, with ten days for observations from
    its receipt (art. 10-bis L. 241/1990)."""
    return _fire(ctx, reference, "notify_reasons", actor, {"reasons": reasons}, idempotency_key)


def record_receipt(
    ctx: Context,
    reference: str,
    received_on: date,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The day the operator received the last notice (the PEC delivery receipt): of a facility
    (the notice of reasons) or of a cancellation procedure (the invitation, the contestation).
    The terms for observations, clarifications and the defence run from it."""
    payload = {"received_on": received_on.isoformat()}
    return _fire(ctx, reference, "record_receipt", actor, payload, idempotency_key)


def register_facility(
    ctx: Context, reference: str, actor: str = DG, idempotency_key: str | None = None
) -> FireResult:
    """Registration in the facility's section, having heard the DAP (art. 3 co. 4)."""
    return _fire(ctx, reference, "register", actor, {}, idempotency_key)


def reject(
    ctx: Context,
    reference: str,
    reasons: str,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """Rejection with its reasons, after the notice and the term for observations (art. 3 co.
    4; art. 10-bis L. 241/1990)."""
    return _fire(ctx, reference, "reject", actor, {"reasons": reasons}, idempotency_key)


def open_cancellation(
    ctx: Context,
    facility_reference: str,
    causes: Sequence[str],
    facts: str,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """A cancellation procedure (CANC-...) on the facility for one or more causes (art. 5 co.
    1 a-d), with the facts."""
    if isinstance(causes, str | bytes):
        causes = [causes.decode() if isinstance(causes, bytes) else causes]
    data = {"facility": facility_reference, "causes": list(causes), "facts": facts}
    _check(ctx.machine(CANCELLATION), OPEN, data)
    return engine.open_case(ctx, CANCELLATION, actor, data, idempotency_key)


def invite(
    ctx: Context, reference: str, actor: str = DG, idempotency_key: str | None = None
) -> FireResult:
    """The invitation to clarify within the peremptory 30 days from its receipt (art. 5 co. 2)."""
    return _fire(ctx, reference, "invite", actor, {}, idempotency_key)


def archive(
    ctx: Context,
    reference: str,
    reasons: str,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The procedure archived (art. 5 co. 3-4); a suspension in place ends with it."""
    return _fire(ctx, reference, "archive", actor, {"reasons": reasons}, idempotency_key)


def contest(
    ctx: Context,
    reference: str,
    facts: str,
    rules_breached: str,
    defence_days: int,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The formal contestation: the facts, the rules breached and the days for the defence
    from its receipt (art. 5 co. 3)."""
    payload = {"facts": facts, "rules_breached": rules_breached, "defence_days": defence_days}
    return _fire(ctx, reference, "contest", actor, payload, idempotency_key)


def cancel(
    ctx: Context,
    reference: str,
    reasons: str,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The cancellation ordered by a reasoned decision at the end of the procedure `reference`
    (art. 5 co. 4): the facility is cancelled in the same transaction."""
    return _fire(ctx, reference, "cancel", actor, {"reasons": reasons}, idempotency_key)


def suspend(
    ctx: Context,
    reference: str,
    reasons: str,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The facility suspended from the register during the cancellation procedure `reference`
    (art. 5 co. 6)."""
    return _fire(ctx, reference, "suspend", actor, {"reasons": reasons}, idempotency_key)


def lift(
    ctx: Context,
    reference: str,
    reasons: str,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """The suspension lifted during the cancellation procedure `reference` (art. 5 co. 6)."""
    return _fire(ctx, reference, "lift", actor, {"reasons": reasons}, idempotency_key)


def prescribe(
    ctx: Context,
    facility_reference: str,
    service: str,
    text: str,
    due_on: date,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """A prescription on the services of art. 7 co. 2 (a, b or c), due by `due_on`: ignored,
    it is cause (d) of cancellation (art. 5 co. 1 d)."""
    payload = {"service": service, "text": text, "due_on": due_on.isoformat()}
    return _fire(ctx, facility_reference, "prescribe", actor, payload, idempotency_key)


def prescription_outcome(
    ctx: Context,
    facility_reference: str,
    number: int,
    outcome: str,
    found_on: date,
    actor: str = DG,
    idempotency_key: str | None = None,
) -> FireResult:
    """Whether prescription `number` was complied with or ignored, as found on `found_on`."""
    payload = {"number": number, "outcome": outcome, "found_on": found_on.isoformat()}
    return _fire(ctx, facility_reference, "prescription_outcome", actor, payload, idempotency_key)


# the UIEPE's penitentiary police unit ---------------------------------------------------------
def record_visit(
    ctx: Context,
    facility_reference: str,
    visited_on: date,
    unit: str,
    checks: Iterable[tuple[str, bool]] = (),
    note: str | None = None,
    actor: str = UIEPE,
    idempotency_key: str | None = None,
) -> FireResult:
    """A supervision visit (art. 10 co. 3-4 b): who it found present or absent, by placement
    reference (ATT-...), never by name. The placements correct the days it contradicts."""
    payload: dict[str, Any] = {
        "visited_on": visited_on.isoformat(),
        "unit": unit,
        "checks": [{"reference": ref, "present": present} for ref, present in checks],
    }
    if note is not None:
        payload["note"] = note
    return _fire(ctx, facility_reference, "record_visit", actor, payload, idempotency_key)


# demos and tests -----------------------------------------------------------------------------
def enrol(
    ctx: Context,
    data: Mapping[str, Any],
    people: Sequence[Mapping[str, Any]] = (),
    actor: str = DG,
) -> str:
    """A facility put on the register through its real path: expression of interest, review,
    a favourable DAP opinion today, registration. Its STR reference."""
    reference = file_interest(ctx, data).reference
    start_review(ctx, reference, people, actor)
    today = rome_date(ctx.clock.now())
    record_dap_opinion(ctx, reference, "favourable", today, actor=actor)
    register_facility(ctx, reference, actor)
    return reference


# reading -------------------------------------------------------------------------------------
def status(ctx: Context, reference: str) -> dict[str, Any]:
    """A facility or a cancellation procedure as plain values: its state in law (a term already
    passed counts) with its Italian label, what the register knows of it (the summary: no
    person, no resident), what can happen now and why not, its terms and its history (acts,
    not their texts)."""
    detail = engine.describe(ctx, reference)
    kind = detail.case.kind
    if kind not in KINDS:
        raise UnknownCase(reference)
    machine = ctx.machine(kind)
    passed = {p.timer for p in detail.passed_terms}
    return {
        "reference": detail.case.reference,
        "kind": kind,
        "kind_label": machine.label(kind),
        "state": detail.state,
        "state_label": machine.label(detail.state),
        "recorded_state": detail.case.state,
        "version": detail.case.version,
        "opened_at": detail.case.opened_at,
        "updated_at": detail.case.updated_at,
        "summary": dict(detail.facts),
        "triggers": [
            {
                "trigger": verdict.trigger,
                "label": machine.label(verdict.trigger),
                "allowed": verdict.allowed,
                "to_state": verdict.dest,
                "reasons": list(verdict.reasons),
            }
            for verdict in detail.verdicts
        ],
        "terms": [
            {
                "name": timer.name,
                "label": machine.label(timer.name),
                "legal_basis": timer.legal_basis,
                "last_day": rome_date(timer.due_at - timedelta(microseconds=1)),
                "lapses_at": timer.due_at,
                "passed": timer.name in passed,
            }
            for timer in detail.pending_timers
            if timer.fires is not None
        ],
        "history": [
            {
                "sequence": event.sequence,
                "trigger": event.trigger,
                "label": machine.label(event.trigger),
                "from_state": event.from_state,
                "to_state": event.to_state,
                "to_state_label": machine.label(event.to_state),
                "actor": event.actor,
                "legal_basis": event.legal_basis,
                "effective_at": event.effective_at,
            }
            for event in detail.history
        ],
    }


def legal_basis(ctx: Context, result: FireResult) -> str:
    """The legal basis the machine gives the change `result` reports (an act of the procedure,
    or the opening of its case)."""
    machine = machine_of(ctx, result.reference)
    if machine is None:
        return ""
    if result.trigger == OPEN:
        return OPENING_BASIS.get(machine.kind, "")
    for transition in machine.transitions:
        if transition.trigger != result.trigger:
            continue
        if result.from_state is None or result.from_state in {s.value for s in transition.sources}:
            return transition.article
    return ""


def machine_of(ctx: Context, reference: str) -> CaseMachine | None:
    """The register's machine whose references look like `reference` (STR-, CANC-)."""
    for kind in KINDS:
        machine = ctx.machines.get(kind)
        if machine is not None and reference.startswith(f"{machine.prefix}-"):
            return machine
    return None


# helpers -------------------------------------------------------------------------------------
def _fire(
    ctx: Context,
    reference: str,
    trigger: str,
    actor: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
) -> FireResult:
    machine = machine_of(ctx, reference)
    if machine is not None and trigger in machine.triggers:
        _check(machine, trigger, payload)
    return engine.fire(ctx, reference, trigger, actor, payload, idempotency_key)


def _check(machine: CaseMachine, trigger: str, payload: Mapping[str, Any]) -> None:
    """The payload against the transition's schema, refused in Italian naming the field and
    what the machine says of it (its bounds, its article); the engine validates it again."""
    schema: type[Payload] = machine.opening if trigger == OPEN else machine.schema_of(trigger)
    try:
        schema.model_validate(dict(payload))
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first.get("loc", ()))
        where = ".".join(str(part) for part in location) or None
        field = schema.model_fields.get(str(location[0])) if location else None
        described = f" ({field.description.rstrip('.')})" if field and field.description else ""
        label = machine.label(trigger)
        subject = f"{label}, {where}" if where else label
        raise InvalidInput(f"{subject}: {reason(first)}{described}", where) from None

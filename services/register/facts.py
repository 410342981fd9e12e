"""What the register's guards and readers know of a case beyond its row: the acts of the
cancellation procedures on a facility, the day a notice was sent (a receipt cannot precede it),
the facility's standing for its procedure, and what a clerk reads on `case show`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from machines.calendar import rome_date
from services.applied import LazyFacts
from storage.register.repository import RegisterRepository
from storage.repository import Repository

# The acts whose notice a receipt acknowledges.
SENT = {"facility": ("notify_reasons",), "cancellation": ("invite", "contest")}


def _sent_on(register: RegisterRepository, case_id: int, kind: str) -> date | None:
    at = register.last_event_at(case_id, SENT[kind])
    return None if at is None else rome_date(at)


def facility_facts(repo: Repository, case_id: int, now: datetime) -> Mapping[str, Any]:
    """`procedure_acts`: each cancellation procedure of the facility -> its last act;
    `sent_on`: the day the notice of reasons was sent."""
    register = RegisterRepository(repo.session, repo.postgresql)
    return LazyFacts(
        {
            "procedure_acts": lambda: register.procedure_acts(case_id),
            "sent_on": lambda: _sent_on(register, case_id, "facility"),
        }
    )


def cancellation_facts(repo: Repository, case_id: int, now: datetime) -> Mapping[str, Any]:
    """`facility_standing`: the state of the facility's case; `sent_on`: the day the last
    invitation or contestation was sent."""
    register = RegisterRepository(repo.session, repo.postgresql)

    def standing() -> str | None:
        procedure = register.procedure(case_id)
        return None if procedure is None else repo.case_by_id(procedure.facility_case_id).state

    return LazyFacts(
        {
            "facility_standing": standing,
            "sent_on": lambda: _sent_on(register, case_id, "cancellation"),
        }
    )


def facility_summary(repo: Repository, case_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """The facility as the register shows it, its procedures, reports, visits and
    prescriptions: no person of the operator, no resident."""
    register = RegisterRepository(repo.session, repo.postgresql)
    entry = register.entry(case_id)
    if entry is None:
        return {}
    return {
        "code": entry.code,
        "name": entry.name,
        "operator": entry.operator,
        "operator_type": entry.operator_type,
        "address": entry.address,
        "section": entry.section,
        "places": entry.places,
        "filed_on": entry.filed_on,
        "dap_opinion": data.get("opinion"),
        "registered_on": entry.registered_on,
        "suspended_since": entry.suspended_since,
        "cancelled_on": entry.cancelled_on,
        "procedures": register.procedure_acts(case_id),
        "reports": [
            {"nature": r.nature, "requirement": r.requirement, "occurred_on": r.occurred_on,
             "reported_on": r.reported_on}
            for r in register.reports(case_id)
        ],
        "visits": [
            {"visited_on": v.visited_on, "unit": v.unit, "checks": v.checks}
            for v in register.visits(case_id)
        ],
        "prescriptions": [
            {"number": p.number, "service": p.service, "due_on": p.due_on,
             "outcome": p.outcome, "outcome_on": p.outcome_on}
            for p in register.prescriptions(case_id)
        ],
    }  # fmt: skip


def cancellation_summary(repo: Repository, case_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    register = RegisterRepository(repo.session, repo.postgresql)
    procedure = register.procedure(case_id)
    if procedure is None:
        return {}
    facility = repo.case_by_id(procedure.facility_case_id)
    return {
        "facility": facility.reference,
        "facility_state": facility.state,
        "causes": procedure.causes,
        "in_progress": procedure.in_progress,
        "opened_at": procedure.opened_at,
        "closed_at": procedure.closed_at,
        "received_on": data.get("received_on"),
        "defence_days": data.get("defence_days"),
    }

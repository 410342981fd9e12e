"""The effects of the register's transitions (D.M. 128/2025 arts. 3-10), written in the
transaction of the transition itself, whoever fires it:

- a facility's case: its entry (opening), its registration, suspension, lifting and
  cancellation, each announced on `facility_standing` so that the procedures placing people
  there act on it in the same transaction (no new attestation on a suspended facility; on
  cancellation, the places it held released and the applications requeued); the operator's
  reports (art. 4), the visits (art. 10, each presence check announced on `presence_checked`)
  and the prescriptions (art. 5 co. 1 d);
- a cancellation procedure: one in progress per facility, on a facility on the register; cause
  (d) only on a prescription ignored; its acts on the facility (suspend, lift, cancel) fired on
  the facility's case as the system, in the same transaction; the suspension ends with the
  procedure (lifted on archive, absorbed by cancellation).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from machines.calendar import rome_date
from machines.register import FACILITY_STANDING, Facility
from services.applied import Applied, Effect
from services.errors import InvalidInput, UnknownCase
from storage.models import Case
from storage.register.models import ChangeReport, Prescription, Procedure, RegisterEntry, Visit
from storage.register.repository import RegisterRepository
from storage.repository import Repository

PRESENCE_CHECKED = "presence_checked"  # a visit's checks, for the procedures that bill presence


def _register(repo: Repository) -> RegisterRepository:
    return RegisterRepository(repo.session, repo.postgresql)


def _entry(register: RegisterRepository, applied: Applied) -> RegisterEntry:
    entry = register.entry(applied.case_id)
    if entry is None:
        raise InvalidInput(f"{applied.reference}: nessuna iscrizione registrata")
    return entry


def standing_message(
    entry: RegisterEntry, reference: str, standing: str, on: date
) -> dict[str, Any]:
    """What the register announces of a facility: no resident, no person of the operator."""
    return {
        "facility": reference,
        "code": entry.code,
        "name": entry.name,
        "operator": entry.operator,
        "address": entry.address,
        "section": entry.section,
        "standing": standing,
        "on": on.isoformat(),
    }


def _filed(repo: Repository, applied: Applied) -> None:
    register = _register(repo)
    data = applied.data
    code = str(data["code"])
    existing = register.entry_by_code(code)
    if existing is not None:
        other = repo.case_by_id(existing.case_id).reference
        raise InvalidInput(
            f"struttura {code} già presente nell'elenco con la pratica {other}", "code"
        )
    repo.session.add(
        RegisterEntry(
            case_id=applied.case_id,
            code=code,
            name=str(data["name"]),
            operator=str(data["operator"]),
            operator_type=str(data["operator_type"]),
            address=str(data["address"]),
            section=str(data["section"]),
            places=int(data["places"]),
            filed_on=date.fromisoformat(str(data["filed_on"])),
            changed_at=applied.at,
        )
    )
    repo.session.flush()


def _standing(standing: str) -> Effect:
    """The facility's standing changes (art. 3 co. 4, art. 5 co. 4-6), and is announced."""

    def effect(repo: Repository, applied: Applied) -> None:
        entry = _entry(_register(repo), applied)
        day = rome_date(applied.at)
        if standing == Facility.REGISTERED and applied.trigger == "register":
            entry.registered_on = day
        entry.suspended_since = day if standing == Facility.SUSPENDED else None
        if standing == Facility.CANCELLED:
            entry.cancelled_on = day
        entry.changed_at = applied.at
        repo.session.flush()
        applied.announce(
            FACILITY_STANDING, standing_message(entry, applied.reference, standing, day)
        )

    return effect


def _reported(repo: Repository, applied: Applied) -> None:
    """Art. 4: the operator's report, kept with the day it happened and the day it came."""
    repo.session.add(
        ChangeReport(
            facility_case_id=applied.case_id,
            event_id=applied.event_id,
            nature=str(applied.payload["nature"]),
            requirement=str(applied.payload["requirement"]),
            occurred_on=date.fromisoformat(str(applied.payload["occurred_on"])),
            reported_on=rome_date(applied.at),
        )
    )
    repo.session.flush()


def _visited(repo: Repository, applied: Applied) -> None:
    """Art. 10 co. 4 b: the visit and its presence checks; the procedures that pay for presence
    correct the days it contradicts (art. 13 co. 5: only days of actual presence are paid)."""
    entry = _entry(_register(repo), applied)
    checks = {str(c["reference"]): bool(c["present"]) for c in applied.payload.get("checks", [])}
    visited_on = str(applied.payload["visited_on"])
    repo.session.add(
        Visit(
            facility_case_id=applied.case_id,
            event_id=applied.event_id,
            visited_on=date.fromisoformat(visited_on),
            unit=str(applied.payload["unit"]),
            checks=checks,
            discrepancies=0,
        )
    )
    repo.session.flush()
    if checks:
        applied.announce(
            PRESENCE_CHECKED,
            {
                "facility": applied.reference,
                "code": entry.code,
                "day": visited_on,
                "checks": checks,
            },
        )


def _prescribed(repo: Repository, applied: Applied) -> None:
    register = _register(repo)
    number = len(register.prescriptions(applied.case_id)) + 1
    repo.session.add(
        Prescription(
            facility_case_id=applied.case_id,
            number=number,
            event_id=applied.event_id,
            service=str(applied.payload["service"]),
            text=str(applied.payload["text"]),
            due_on=date.fromisoformat(str(applied.payload["due_on"])),
        )
    )
    repo.session.flush()


def _prescription_decided(repo: Repository, applied: Applied) -> None:
    """A prescription's outcome, once: ignored only after its deadline (art. 5 co. 1 d)."""
    number = int(applied.payload["number"])
    found_on = date.fromisoformat(str(applied.payload["found_on"]))
    prescription = next(
        (p for p in _register(repo).prescriptions(applied.case_id) if p.number == number), None
    )
    if prescription is None:
        raise InvalidInput(f"nessuna prescrizione n. {number} per {applied.reference}", "number")
    if prescription.outcome is not None:
        raise InvalidInput(
            f"prescrizione n. {number}: esito già registrato ({prescription.outcome})", "number"
        )
    if applied.payload["outcome"] == "ignored" and found_on <= prescription.due_on:
        raise InvalidInput(
            f"prescrizione n. {number}: il termine scade il {prescription.due_on:%d/%m/%Y}, "
            "non può dirsi inottemperata prima",
            "found_on",
        )
    prescription.outcome = str(applied.payload["outcome"])
    prescription.outcome_on = found_on
    repo.session.flush()


# cancellation procedures --------------------------------------------------------------------
def _facility_case(repo: Repository, reference: str) -> Case:
    case = repo.case_by_reference(reference)
    if case is None or case.kind != "facility":
        raise UnknownCase(reference)
    return case


def _procedure(register: RegisterRepository, applied: Applied) -> Procedure:
    procedure = register.procedure(applied.case_id)
    if procedure is None:
        raise InvalidInput(f"{applied.reference}: procedimento non registrato")
    return procedure


def _opened(repo: Repository, applied: Applied) -> None:
    """Art. 5 co. 1-2: a procedure on a facility on the register, one at a time; cause (d) only
    on a prescription the operator ignored."""
    register = _register(repo)
    facility = _facility_case(repo, str(applied.data["facility"]))
    if facility.state not in (Facility.REGISTERED, Facility.SUSPENDED):
        raise InvalidInput(
            f"la struttura {facility.reference} non è iscritta nell'elenco "
            f"(stato: {facility.state})",
            "facility",
        )
    running = register.procedure_in_progress(facility.id)
    if running is not None:
        other = repo.case_by_id(running.case_id).reference
        raise InvalidInput(
            f"per {facility.reference} è già in corso il procedimento {other}", "facility"
        )
    causes = list(applied.data["causes"])
    if "d" in causes and not any(
        p.outcome == "ignored" for p in register.prescriptions(facility.id)
    ):
        raise InvalidInput(
            "causa d): nessuna prescrizione sui servizi risulta inottemperata (art. 5 co. 1 d "
            "D.M. 128/2025)",
            "causes",
        )
    repo.session.add(
        Procedure(
            case_id=applied.case_id,
            facility_case_id=facility.id,
            causes=causes,
            in_progress=True,
            opened_at=applied.at,
        )
    )
    repo.session.flush()


def _orders(act: str, closes: bool = False) -> Effect:
    """The procedure's act on the facility, fired on the facility's case in this transaction."""

    def effect(repo: Repository, applied: Applied) -> None:
        register = _register(repo)
        procedure = _procedure(register, applied)
        facility = repo.case_by_id(procedure.facility_case_id)
        if closes:
            procedure.in_progress = False
            procedure.closed_at = applied.at
            repo.session.flush()
        if act == "lift" and facility.state != Facility.SUSPENDED:
            return  # archived with no suspension in place: nothing to lift
        applied.then(facility.reference, act, {"procedure": applied.reference})

    return effect


FACILITY_EFFECTS: dict[str, Effect] = {
    "open": _filed,
    "register": _standing(Facility.REGISTERED),
    "suspend": _standing(Facility.SUSPENDED),
    "lift": _standing(Facility.REGISTERED),
    "cancel": _standing(Facility.CANCELLED),
    "report_change": _reported,
    "record_visit": _visited,
    "prescribe": _prescribed,
    "prescription_outcome": _prescription_decided,
}

CANCELLATION_EFFECTS: dict[str, Effect] = {
    "open": _opened,
    "suspend": _orders("suspend"),
    "lift": _orders("lift"),
    "archive": _orders("lift", closes=True),
    "cancel": _orders("cancel", closes=True),
    "give_up": _orders("cancel", closes=True),
}

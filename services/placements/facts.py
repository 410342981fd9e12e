"""What a placement's guards and readers know of it beyond its row (D.M. 128/2025 arts.
11-13): the attestation's issue date, the Directorate's stop on new applications, and the
dates and facts a clerk needs on `case show` and `placement status`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from machines.calendar import rome_date
from services.applied import LazyFacts
from storage.placements.repository import PlacementRepository
from storage.repository import Repository


def facts(repo: Repository, case_id: int, now: datetime) -> Mapping[str, Any]:
    """`issued_on`: the issue date of the attestation the case holds or last held (None
    before one); `applications_stopped`: the reason of the stop on new applications in the
    year of `now`, or None (art. 13 co. 7)."""
    placements = PlacementRepository(repo.session, repo.postgresql)

    def issued_on() -> Any:
        reservation = placements.last_reservation(case_id)
        return None if reservation is None else reservation.issued_on

    def applications_stopped() -> str | None:
        budget = placements.budget_year(rome_date(now).year)
        if budget is None or budget.stopped_at is None:
            return None
        return budget.stop_reason or "limite di spesa raggiunto"

    def held_facility_cancelled() -> str | None:
        """The code of the facility of the place the case holds, if it was cancelled."""
        reservation = placements.active_reservation(case_id)
        if reservation is None:
            return None
        convention = placements.convention_by_id(reservation.convention_id)
        facility = placements.facility_by_id(convention.facility_id)
        return facility.code if facility.cancelled_on is not None else None

    return LazyFacts(
        {
            "issued_on": issued_on,
            "applications_stopped": applications_stopped,
            "held_facility_cancelled": held_facility_cancelled,
        }
    )


def _decision(repo: Repository, case_id: int) -> str | None:
    """`granted` or `rejected`, as the court decided; None before a decision."""
    decided = [e.trigger for e in repo.history(case_id) if e.trigger in ("grant", "reject")]
    return None if not decided else {"grant": "granted", "reject": "rejected"}[decided[-1]]


def summary(repo: Repository, case_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """The application, its protocol, the attestation (facility, place, validity), the
    court's decision and the funded stay, as plain values: no name, no tax code."""
    placements = PlacementRepository(repo.session, repo.postgresql)
    application = placements.application(case_id)
    if application is None:
        return {}
    office = placements.office_by_id(application.office_id)
    prison = placements.prison_by_id(application.prison_id)
    found: dict[str, Any] = {
        "prison": prison.code,
        "office": office.code,
        "court": application.court,
        "filed_on": application.filed_on,
        "protocol": application.protocol,
        "protocol_at": application.protocol_at,
        "decision": _decision(repo, case_id),
        "decided_on": data.get("decided_on"),
        "file_number": data.get("file_number"),
        "measure_start": data.get("measure_start"),
    }
    reservation = placements.last_reservation(case_id)
    if reservation is not None:
        convention = placements.convention_by_id(reservation.convention_id)
        facility = placements.facility_by_id(convention.facility_id)
        found |= {
            "facility": facility.code,
            "facility_name": facility.name,
            "convention": convention.code,
            "place": reservation.place,
            "place_status": reservation.status,
            "daily_rate": str(reservation.daily_rate),
            "issued_on": reservation.issued_on,
            "valid_until": reservation.valid_until,
            "entered_on": reservation.entered_on,
            "funded_until": reservation.funded_until,
            "left_on": reservation.left_on,
            "committed": str(reservation.committed),
        }
    return found

"""What community work's guards read beyond the case row: for a placement, the hours it still
owes as its attendance register counts them, the hours attended between two days (the limits
per day and week), its convention's state and the seats it has left."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.applied import LazyFacts
from storage.lpu.repository import LpuRepository
from storage.repository import Repository


def placement_facts(repo: Repository, case_id: int, now: datetime) -> Mapping[str, Any]:
    lpu = LpuRepository(repo.session, repo.postgresql)
    case = repo.case_by_id(case_id)

    def convention_case() -> Any:
        reference = case.data.get("convention")
        return None if reference is None else repo.case_by_reference(str(reference))

    def hours_owed_left() -> Decimal | None:
        owed = case.data.get("owed_hours")
        if owed is None:
            return None
        return max(Decimal(str(owed)) - lpu.credited(case_id), Decimal(0))

    def convention_state() -> str | None:
        found = convention_case()
        return None if found is None else str(found.state)

    def convention_places_left() -> int | None:
        found = convention_case()
        row = None if found is None else lpu.convention(found.id)
        return None if row is None else row.capacity - len(lpu.held_seats(found.id))

    def sessions_on() -> Callable[[date], list[tuple[str, str]]]:
        return lambda day: lpu.sessions_on(case_id, day)

    def probation_state() -> str | None:
        reference = case.data.get("probation")
        found = None if reference is None else repo.case_by_reference(str(reference))
        return None if found is None else str(found.state)

    def hours_between() -> Callable[[date, date], Decimal]:
        return lambda first, last: lpu.hours_between(case_id, first, last)

    return LazyFacts(
        {
            "hours_owed_left": hours_owed_left,
            "convention_state": convention_state,
            "convention_places_left": convention_places_left,
            "hours_between": hours_between,
            "probation_state": probation_state,
            "sessions_on": sessions_on,
        }
    )


def placement_summary(repo: Repository, case_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a clerk reads: the convention and seat, the form, the hours owed, credited and left,
    the sessions in the register (no name)."""
    lpu = LpuRepository(repo.session, repo.postgresql)
    seat = lpu.seat_of(case_id)
    credited = lpu.credited(case_id)
    owed = data.get("owed_hours")
    return {
        "convention": data.get("convention"),
        "form": data.get("form"),
        "seat": None if seat is None else seat.seat,
        "owed_days": data.get("owed_days"),
        "owed_hours": owed,
        "credited_hours": str(credited),
        "hours_left": None if owed is None else str(max(Decimal(str(owed)) - credited, 0)),
        "authorised_extra_hours": data.get("authorised_extra_hours", False),
        "sessions": len(lpu.register(case_id)),
    }


def convention_summary(repo: Repository, case_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a clerk reads of a convention: the entity, the counterparty, its validity, its
    capacity and the people it holds now, the places left."""
    lpu = LpuRepository(repo.session, repo.postgresql)
    row = lpu.convention(case_id)
    held = len(lpu.held_seats(case_id))
    return {
        "entity": data.get("entity"),
        "counterparty": data.get("counterparty"),
        "tribunal": data.get("tribunal"),
        "province": data.get("province"),
        "valid_from": data.get("valid_from"),
        "valid_until": data.get("valid_until"),
        "ended_on": None if row is None or row.ended_on is None else row.ended_on.isoformat(),
        "capacity": data.get("capacity"),
        "people_at_work": held,
        "places_left": None if row is None else row.capacity - held,
    }

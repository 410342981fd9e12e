"""The effects of community work's transitions, in their own transaction, whoever fires them:

- a convention's row (its capacity, its validity) written when drafted, and the day it ends when
  it expires or is terminated (art. 54 co. 6 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001);
- a placement takes a seat of its convention at reception (the convention's row locked: never
  more people at once than it takes, a partial unique index per seat in the database), and gives
  it back when the hours are done or the work is revoked;
- each session of the attendance register is written with the hours it credits: never more
  than the hours still owed; the session that reaches them completes the placement (`hours_done`,
  in the same transaction);
- the LPU part of a probation (a placement whose declaration names it) announces each day of
  work (`community_work_day`), and ends when the probation is revoked (`probation_ended`): the
  topics are the interface, neither procedure imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from machines.lpu.placement import session_hours
from services.applied import Applied, Effect, Reaction
from services.errors import InvalidInput, PlaceUnavailable, UnknownCase
from storage.lpu.models import Attendance, LpuConvention
from storage.lpu.repository import LpuRepository
from storage.repository import Repository

COMMUNITY_WORK_DAY = "community_work_day"
"""Announced for each session of a probation's LPU part: the probation, the placement, the day."""
PROBATION_ENDED = "probation_ended"
"""Heard from probation: a probation ended (`outcome`: revoked...), its reference."""


def _lpu(repo: Repository) -> LpuRepository:
    return LpuRepository(repo.session, repo.postgresql)


def _drafted(repo: Repository, applied: Applied) -> None:
    data = applied.data
    repo.session.add(
        LpuConvention(
            case_id=applied.case_id,
            entity=str(data["entity"]),
            province=str(data["province"]),
            capacity=int(data["capacity"]),
            valid_from=date.fromisoformat(str(data["valid_from"])),
            valid_until=date.fromisoformat(str(data["valid_until"])),
        )
    )
    repo.session.flush()


def _ended(repo: Repository, applied: Applied) -> None:
    """Expired: from the day after its last; terminated: from the day the parties said."""
    convention = _lpu(repo).convention(applied.case_id)
    if convention is None:
        raise InvalidInput(f"{applied.reference}: convenzione non registrata")
    if applied.trigger == "expire":
        convention.ended_on = convention.valid_until + timedelta(days=1)
    else:
        convention.ended_on = date.fromisoformat(str(applied.payload["ended_on"]))
    repo.session.flush()


def _convention_of(repo: Repository, applied: Applied) -> int:
    reference = str(applied.data["convention"])
    case = repo.case_by_reference(reference)
    if case is None or case.kind != "lpu_convention":
        raise UnknownCase(reference)
    return case.id


def _received(repo: Repository, applied: Applied) -> None:
    """The person takes a seat of the convention (art. 2 D.M. 26 marzo 2001: the most people it
    takes at once): the lowest free one, the convention's row locked first."""
    lpu = _lpu(repo)
    convention_id = _convention_of(repo, applied)
    convention = lpu.convention(convention_id, lock=True)
    if convention is None:
        raise InvalidInput(f"{applied.data['convention']}: convenzione non registrata")
    held = set(lpu.held_seats(convention_id))
    free = next((n for n in range(1, convention.capacity + 1) if n not in held), None)
    if free is None:
        raise PlaceUnavailable(
            f"la convenzione {applied.data['convention']} accoglie già {convention.capacity} "
            "persone, il massimo che prevede (art. 2 D.M. 26 marzo 2001)"
        )
    lpu.take_seat(convention_id, free, applied.case_id, applied.at)


def _declared(repo: Repository, applied: Applied) -> None:
    """The declaration goes to the court named in it (`transmit` and its notice), in the
    opening's transaction."""
    applied.then(applied.reference, "transmit")


def _seat_freed(repo: Repository, applied: Applied) -> None:
    _lpu(repo).release_seat(applied.case_id, applied.at)


def _attended(repo: Repository, applied: Applied) -> None:
    """A session of the register, crediting at most the hours still owed; the one that reaches
    them completes the work."""
    lpu = _lpu(repo)
    payload = applied.payload
    hours = session_hours(str(payload["start"]), str(payload["end"]))
    owed = Decimal(str(applied.data["owed_hours"]))
    left = max(owed - lpu.credited(applied.case_id), Decimal(0))
    credited = min(hours, left)
    lpu.add_attendance(
        Attendance(
            placement_case_id=applied.case_id,
            event_id=applied.event_id,
            day=date.fromisoformat(str(payload["day"])),
            start=time.fromisoformat(str(payload["start"])),
            end=time.fromisoformat(str(payload["end"])),
            hours=hours,
            credited=credited,
            activity=str(payload["activity"]),
            signed_by_person=bool(payload["signed_by_person"]),
            signed_by_coordinator=bool(payload["signed_by_coordinator"]),
        )
    )
    if credited == left:
        applied.then(applied.reference, "hours_done")
    probation = applied.data.get("probation")
    if probation:  # the LPU part of a probation: its days count there (art. 168-bis co. 3 c.p.)
        message = {"probation": probation, "placement": applied.reference, "day": payload["day"]}
        applied.announce(COMMUNITY_WORK_DAY, message)


def on_probation_ended(repo: Repository, applied: Applied, message: Mapping[str, Any]) -> None:
    """A probation revoked ends its LPU part: each placement that names it, by the system, with
    every rule of the machine (art. 168-quater c.p.)."""
    if message.get("outcome") != "revoked":
        return
    for reference in _lpu(repo).placements_of_probation(str(message["probation"])):
        applied.then(reference, "end_with_probation")


PLACEMENT_EFFECTS: dict[str, Effect] = {
    "open": _declared,
    "receive": _received,
    "attend": _attended,
    "hours_done": _seat_freed,
    "revoke": _seat_freed,
    "end_with_probation": _seat_freed,
}
REACTIONS: dict[str, Reaction] = {PROBATION_ENDED: on_probation_ended}

CONVENTION_EFFECTS: dict[str, Effect] = {
    "open": _drafted,
    "expire": _ended,
    "terminate": _ended,
}

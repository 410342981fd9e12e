"""How placements obey the register of facilities (D.M. 128/2025 arts. 3-5, 10), in the
transaction of the register's change, whoever made it. The register is another procedure: it
announces on two topics, and this module reacts; nothing here imports it.

- `facility_standing` (registered, suspended, cancelled): the facility's row keeps its
  standing, so a suspended or cancelled facility gets no new attestation at once. On
  cancellation its conventions end, each attestation it held that is not yet decided by the
  court (attested, at court) loses its place: the case goes back to the queue keeping its
  protocol number (`requeue`, which releases the place and the money and notifies the court,
  the prison and the UIEPE), and the queue is served again; a place of a measure granted or of
  a person placed stays until the UIEPE moves the person (the court set that domicile): the
  UIEPE and the court get a notice.
- `presence_checked` (a supervision visit, art. 10 co. 4 b): the day of each person the visit
  found is corrected in the presence register, so the billing pays only days of actual presence
  (art. 13 co. 5); a reference not placed at that facility on that day refuses the visit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from machines.placements import Placement
from services.applied import NOTICE_TOPIC, Applied
from services.errors import InvalidInput
from services.placements.effects import paid_period
from storage.placements.models import Facility, Reservation, ReservationStatus
from storage.placements.repository import PlacementRepository
from storage.repository import NewOutbox, Repository

# The register's topics (its interface: the strings it announces on).
FACILITY_STANDING = "facility_standing"
PRESENCE_CHECKED = "presence_checked"

# Attestations that lose their place when their facility is cancelled: not yet decided.
REQUEUED = (Placement.ATTESTED, Placement.AT_COURT)


def on_standing(repo: Repository, applied: Applied, message: Mapping[str, Any]) -> None:
    placements = PlacementRepository(repo.session, repo.postgresql)
    standing = str(message["standing"])
    code = str(message["code"])
    described = {key: str(message[key]) for key in ("name", "operator", "address", "section")}
    facility = placements.facility(code)
    if facility is None:
        facility = Facility(code=code, **described, registered=False, suspended=False)
        repo.session.add(facility)
    else:
        for key, value in described.items():
            setattr(facility, key, value)
    facility.registered = standing in ("registered", "suspended")
    facility.suspended = standing == "suspended"
    on = date.fromisoformat(str(message["on"]))
    facility.cancelled_on = on if standing == "cancelled" else None
    repo.session.flush()  # the row is locked from here (PostgreSQL): attestations wait
    if standing == "cancelled":
        _cancelled(repo, placements, applied, facility, on)


def _cancelled(
    repo: Repository,
    placements: PlacementRepository,
    applied: Applied,
    facility: Facility,
    on: date,
) -> None:
    placements.end_conventions(facility.id, on)
    for reservation, case in placements.held_at_facility(facility.id):
        if case.state in REQUEUED:
            applied.then(case.reference, "requeue", {"facility": facility.code})
        else:  # granted or placed: the person stays until the UIEPE moves them
            last = repo.history(case.id)[-1]
            repo.add_outbox(
                case.id,
                last.id,
                NewOutbox(
                    NOTICE_TOPIC,
                    {
                        "template": "struttura_cancellata_collocamento",
                        "reference": case.reference,
                        "facility": facility.code,
                        "place": reservation.place,
                        "on": on.isoformat(),
                        "dated": on.isoformat(),  # the act is dated on the cancellation
                    },
                ),
                applied.at,
            )


def on_presence_checked(repo: Repository, applied: Applied, message: Mapping[str, Any]) -> None:
    """Art. 10 co. 4 b, art. 13 co. 5: what the visit found stands for that day."""
    placements = PlacementRepository(repo.session, repo.postgresql)
    day = date.fromisoformat(str(message["day"]))
    code = str(message["code"])
    for reference, present in dict(message["checks"]).items():
        case = repo.case_by_reference(reference)
        reservation = None if case is None else placements.last_reservation(case.id)
        if reservation is None or not _stays_at(placements, reservation.convention_id, code):
            raise InvalidInput(f"{reference}: nessun collocamento nella struttura {code}", "checks")
        if reservation.status == ReservationStatus.RELEASED or not _in_stay(reservation, day):
            raise InvalidInput(
                f"{reference}: il {day:%d/%m/%Y} non è un giorno di permanenza finanziata "
                f"nella struttura {code}",
                "checks",
            )
        placements.record_presences(reservation.id, {day: bool(present)}, checked=True)


def _stays_at(placements: PlacementRepository, convention_id: int, code: str) -> bool:
    convention = placements.convention_by_id(convention_id)
    return placements.facility_by_id(convention.facility_id).code == code


def _in_stay(reservation: Reservation, day: date) -> bool:
    """Whether `day` is a day of the funded stay (from the entry, before the exit)."""
    period = paid_period(reservation, day)
    return period is not None and period[0] <= day <= period[1]


REACTIONS = {FACILITY_STANDING: on_standing, PRESENCE_CHECKED: on_presence_checked}

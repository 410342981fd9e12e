"""What the transitions of a probation write beyond the case row, in their transaction: the
person's pseudonymous key (opening), each version of the programme (drafted by the UEPE,
integrated by the judge: the earlier ones kept), and the days of the LPU part the attendance
register reports (a reaction to community work's announcement), and the revocation announced,
so that the LPU part ends with it: the topics are the interface, no procedure imports the
other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from services.applied import Applied, Effect, Reaction
from storage.probation.models import ProgrammeVersion
from storage.probation.repository import ProbationRepository
from storage.repository import Repository

COMMUNITY_WORK_DAY = "community_work_day"
"""Announced by community work for each day of a placement's attendance register, with the
probation the placement belongs to (`probation`), the placement (`placement`) and the day."""
PROBATION_ENDED = "probation_ended"
"""Announced when a probation is revoked (`outcome`): its LPU part ends with it (art.
168-quater c.p.)."""


def _probation(repo: Repository) -> ProbationRepository:
    return ProbationRepository(repo.session, repo.postgresql)


def _opened(repo: Repository, applied: Applied) -> None:
    _probation(repo).add_person(applied.case_id, str(applied.data["person_key"]))


def _programme(by: str, on_field: str) -> Effect:
    def write(repo: Repository, applied: Applied) -> None:
        probation = _probation(repo)
        probation.add_programme(
            ProgrammeVersion(
                case_id=applied.case_id,
                version=probation.last_version(applied.case_id) + 1,
                event_id=applied.event_id,
                by=by,
                on=date.fromisoformat(str(applied.payload[on_field])),
                components=list(applied.payload["components"]),
                lpu_days=int(applied.payload["lpu_days"]),
                lpu_hours_per_day=Decimal(str(applied.payload["lpu_hours_per_day"])),
            )
        )

    return write


def on_community_work_day(repo: Repository, applied: Applied, message: Mapping[str, Any]) -> None:
    """A day of work of a placement that is a probation's LPU part counts for that probation
    (at least 10 days, art. 168-bis co. 3 c.p.)."""
    reference = message.get("probation")
    probation = _probation(repo)
    case_id = None if not reference else probation.by_reference(str(reference))
    if case_id is not None:
        probation.add_lpu_day(
            case_id, str(message["placement"]), date.fromisoformat(message["day"])
        )


def _revoked(repo: Repository, applied: Applied) -> None:
    applied.announce(PROBATION_ENDED, {"probation": applied.reference, "outcome": "revoked"})


EFFECTS: dict[str, Effect] = {
    "open": _opened,
    "revoke": _revoked,
    "draft": _programme("uepe", "drafted_on"),
    "integrate": _programme("judge", "ordered_on"),
}
REACTIONS: dict[str, Reaction] = {COMMUNITY_WORK_DAY: on_community_work_day}

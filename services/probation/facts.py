"""What the guards of a probation read beyond its row: the person's other probations and what
became of them (once only, art. 168-bis co. 4 c.p.), the programme's versions, the days of the
LPU part done; and what a clerk reads of it, with the worth of the days served under art.
657-bis c.p.p. once it is revoked or the trial resumes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from machines.probation import law
from machines.probation.machine import Probation, period_last_day
from services.applied import LazyFacts
from storage.probation.repository import ProbationRepository
from storage.repository import Repository

S = Probation
OUTCOMES: dict[str, law.Outcome] = {
    S.REQUESTED: law.Outcome.REQUESTED,
    S.INQUIRY: law.Outcome.REQUESTED,
    S.SENT: law.Outcome.REQUESTED,
    S.REFUSED: law.Outcome.REFUSED,
    S.WITHDRAWN: law.Outcome.REFUSED,
    S.ADMITTED: law.Outcome.ADMITTED,
    S.RUNNING: law.Outcome.RUNNING,
    S.REVOCATION_HEARING: law.Outcome.RUNNING,
    S.PERIOD_ENDED: law.Outcome.RUNNING,
    S.HEARING_SET: law.Outcome.RUNNING,
    S.REPORT_OVERDUE: law.Outcome.RUNNING,
    S.REPORTED: law.Outcome.RUNNING,
    S.EXTINGUISHED: law.Outcome.EXTINGUISHED,
    S.RESUMED: law.Outcome.FAILED,
    S.REVOKED: law.Outcome.REVOKED,
}
"""What each state of an earlier probation means for a new request (`law.Outcome`): a request
never granted bars nothing; one admitted counts from the order; one revoked or failed bars."""

SERVED_UNTIL = {S.REVOKED: "decided_on", S.RESUMED: "decided_on"}


def probation_facts(repo: Repository, case_id: int, now: datetime) -> Mapping[str, Any]:
    probation = ProbationRepository(repo.session, repo.postgresql)
    return LazyFacts(
        {
            "earlier_probations": lambda: [
                (reference, OUTCOMES[state].value)
                for reference, state in probation.others_of_person(case_id)
            ],
            "programme_version": lambda: probation.last_version(case_id),
            "lpu_days_done": lambda: probation.lpu_days(case_id),
        }
    )


def days_served(data: Mapping[str, Any], state: str) -> int | None:
    """Days of probation from the record's signature to the revocation or the negative outcome
    (never past the period's last day), both counted; None while it is not over that way."""
    signed, until = data.get("record_signed_on"), data.get(SERVED_UNTIL.get(S(state), ""), None)
    if state not in SERVED_UNTIL or signed is None or until is None:
        return None
    start = date.fromisoformat(str(signed))
    last = min(date.fromisoformat(str(until)), period_last_day(data, start))
    return max((last - start).days + 1, 0)


def probation_summary(repo: Repository, case_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a clerk reads: the court, the offence, the order, the period, the programme's
    version and its LPU part, the days done; the days served and their worth (art. 657-bis
    c.p.p.) for the prosecutor, once revoked or resumed. The person only as a key."""
    probation = ProbationRepository(repo.session, repo.postgresql)
    case = repo.case_by_id(case_id)
    programmes = probation.programmes(case_id)
    signed = data.get("record_signed_on")
    served = days_served(data, case.state)
    credit = None if served is None else law.probation_credit(served)
    return {
        "court": data.get("court"),
        "offence": (data.get("offence") or {}).get("article"),
        "ordered_on": data.get("ordered_on"),
        "duration_months": data.get("duration_months"),
        "duration_days": data.get("duration_days"),
        "cadence_months": data.get("cadence_months"),
        "record_signed_on": signed,
        "period_last_day": None
        if signed is None
        else period_last_day(data, date.fromisoformat(str(signed))).isoformat(),
        "programme_version": programmes[-1].version if programmes else None,
        "lpu_days_planned": programmes[-1].lpu_days if programmes else None,
        "lpu_days_done": probation.lpu_days(case_id),
        "days_served": served,
        "art_657_bis": None if credit is None else credit.detail,
    }

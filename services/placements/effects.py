"""The effects of placement transitions on applications, places and money (D.M. 128/2025
arts. 11-13), written in the transaction of the transition itself, whoever fires it.

- open: the application row (prison, competent UIEPE, court, filing date);
- register: its protocol number and timestamp (art. 12 co. 5);
- attest: the place reserved and its maximum cost committed against the UIEPE's allocation,
  strictly in protocol order (art. 12 co. 4-6, art. 13 co. 6);
- reject, lapse, withdraw: the place and the commitment released (art. 12 co. 9-10);
- enter: the commitment cut to the exact funded period, the day of entry being its first
  paid day (art. 11 co. 4);
- leave, funding_end: the stay closed; what it costs is the days the facility reported as
  present x the rate; a day nobody reported is not paid (art. 13 co. 5, art. 14).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from machines.calendar import rome_date
from machines.placements import FUNDED_STAY, VALIDITY
from machines.placements.funding import stay_cost
from services.applied import NOTICE_TOPIC, Applied, Effect
from services.errors import (
    InvalidInput,
    NotCovered,
    OutOfProtocolOrder,
    PlaceUnavailable,
    UnknownReferenceData,
)
from storage.placements.models import Application, Reservation, ReservationStatus
from storage.placements.repository import PlacementRepository
from storage.repository import NewOutbox, Repository


@cache
def max_funded_days() -> int:
    """The longest eight-month funded period, the day of entry included (art. 11 co. 4 D.M.
    128/2025), over every start day of a leap cycle: what an attestation commits before the
    entry date is known (245 days: 1 March - 31 October)."""
    start = date(2024, 1, 1)
    return max(
        (FUNDED_STAY.last_day(day) - day).days + 1
        for day in (start + timedelta(days=n) for n in range(4 * 366))
    )


def max_cost(daily_rate: Decimal) -> Decimal:
    return stay_cost(max_funded_days(), daily_rate)


def _placements(repo: Repository) -> PlacementRepository:
    return PlacementRepository(repo.session, repo.postgresql)


def _application(placements: PlacementRepository, applied: Applied) -> Application:
    application = placements.application(applied.case_id)
    if application is None:
        raise InvalidInput(f"nessuna istanza registrata per la pratica {applied.reference}")
    return application


def _opened(repo: Repository, applied: Applied) -> None:
    placements = _placements(repo)
    code = str(applied.payload.get("prison") or "")
    prison = placements.prison(code)
    if prison is None:
        raise UnknownReferenceData(
            f"istituto penitenziario '{code}' non presente nei dati di riferimento"
        )
    court = str(applied.payload.get("court") or "").strip()
    if not court:
        raise InvalidInput("l'istanza non indica l'Autorità giudiziaria competente")
    given = applied.data.get("filed_on")
    try:
        filed_on = date.fromisoformat(str(given))
    except ValueError as error:
        raise InvalidInput(
            f"data di presentazione dell'istanza non valida: {given or 'mancante'} (AAAA-MM-GG)"
        ) from error
    repo.session.add(
        Application(
            case_id=applied.case_id,
            prison_id=prison.id,
            office_id=prison.office_id,
            court=court,
            filed_on=filed_on,
        )
    )
    repo.session.flush()


def _registered(repo: Repository, applied: Applied) -> None:
    """The UIEPE's protocol number, per UIEPE and year, and its timestamp: the order in which
    applications are served (art. 12 co. 5)."""
    application = _application(_placements(repo), applied)
    year = rome_date(applied.at).year
    application.protocol_year = year
    application.protocol_number = repo.next_number(f"PROT{application.office_id}", year)
    application.protocol_at = applied.at
    repo.session.flush()


def _attested(repo: Repository, applied: Applied) -> None:
    """Reserve the place and commit its maximum cost (art. 12 co. 4-6, art. 13 co. 6)."""
    placements = _placements(repo)
    application = _application(placements, applied)
    issued_on = rome_date(applied.at)
    allocation = placements.allocation(issued_on.year, application.office_id, lock=True)
    if allocation is None:
        raise NotCovered(
            f"nessuna assegnazione di fondi all'UIEPE per il {issued_on.year} "
            "(art. 13 co. 1 D.M. 128/2025)"
        )
    waiting = placements.queue(application.office_id, limit=1)
    if waiting and _protocol_key(waiting[0][0]) < _protocol_key(application):
        raise OutOfProtocolOrder(
            f"l'istanza {waiting[0][1]} precede questa nel protocollo dell'UIEPE ed è ancora "
            "in attesa (art. 12 co. 5 D.M. 128/2025)"
        )
    code = str(applied.payload["convention"])
    convention = placements.convention(code)
    if convention is None or convention.office_id != application.office_id:
        raise UnknownReferenceData(f"nessuna convenzione '{code}' dell'UIEPE competente")
    facility = placements.facility_by_id(convention.facility_id, lock=True)
    place = int(applied.payload["place"])
    ended = convention.ended_on is not None and convention.ended_on <= issued_on
    if not convention.valid_from <= issued_on <= convention.valid_until or ended:
        raise PlaceUnavailable(f"la convenzione {code} non è in vigore il {issued_on:%d/%m/%Y}")
    if not facility.registered or facility.suspended:
        raise PlaceUnavailable(
            f"la struttura {facility.code} non è iscritta nell'elenco o è sospesa"
        )
    if not 1 <= place <= convention.places:
        raise PlaceUnavailable(
            f"il posto {place} non esiste: la convenzione {code} ha i posti da 1 a "
            f"{convention.places}"
        )
    cost = max_cost(convention.daily_rate)
    available = (
        allocation.amount - placements.usage(issued_on.year, application.office_id).committed
    )
    if cost > available:
        raise NotCovered(
            f"servono EUR {cost} (costo massimo del posto), restano EUR {available} "
            "dell'assegnazione dell'UIEPE (art. 13 co. 6 D.M. 128/2025)"
        )
    freed = placements.last_release_of(convention.id, place)
    placements.add_reservation(
        Reservation(
            case_id=applied.case_id,
            convention_id=convention.id,
            place=place,
            office_id=application.office_id,
            budget_year=issued_on.year,
            daily_rate=convention.daily_rate,
            committed=cost,
            status=ReservationStatus.ACTIVE,
            issued_on=issued_on,
            valid_until=VALIDITY.last_day(issued_on),
            freed_by_case_id=None if freed is None else freed.case_id,
            created_by_event_id=applied.event_id,
        )
    )
    if freed is not None:
        repo.add_outbox(
            applied.case_id,
            applied.event_id,
            NewOutbox(NOTICE_TOPIC, {"template": "riassegnazione", "reference": applied.reference}),
            applied.at,
        )


def _protocol_key(application: Application) -> tuple[datetime, int]:
    if application.protocol_at is None or application.protocol_number is None:
        raise InvalidInput(f"l'istanza della pratica n. {application.case_id} non è protocollata")
    return application.protocol_at, application.protocol_number


def _released(repo: Repository, applied: Applied) -> None:
    """The attestation loses effect: the place and its commitment are freed (art. 12 co. 9-10)."""
    placements = _placements(repo)
    reservation = placements.active_reservation(applied.case_id)
    if reservation is not None:  # a withdrawal before any attestation holds nothing
        placements.close_reservation(
            reservation.id, ReservationStatus.RELEASED, Decimal("0.00"), applied.event_id
        )


def _entered(repo: Repository, applied: Applied) -> None:
    """The funded stay starts today, its first paid day: commit exactly its eight months
    (art. 11 co. 4 D.M. 128/2025; entering on 10 January, funded until 9 September)."""
    reservation = _held(repo, applied)
    entered_on = rome_date(applied.at)
    reservation.entered_on = entered_on
    reservation.funded_until = FUNDED_STAY.last_day(entered_on)
    days = (reservation.funded_until - entered_on).days + 1
    reservation.committed = stay_cost(days, reservation.daily_rate)
    repo.session.flush()


def _ended(repo: Repository, applied: Applied) -> None:
    """The stay ends: the commitment becomes what the days the facility reported as present
    cost; a day nobody reported is not paid, nor filled in (art. 13 co. 5 D.M. 128/2025: only
    days of actual presence are paid). The days left unreported are listed on the cost
    statement (`attendance`)."""
    placements = _placements(repo)
    reservation = _held(repo, applied)
    assert reservation.entered_on is not None and reservation.funded_until is not None
    if applied.trigger == "funding_end":
        left_on = reservation.funded_until + timedelta(days=1)
    else:
        left_on = _left_on(applied, reservation.entered_on)
    register = placements.presences(reservation.id)
    if any(day >= left_on for day in register):
        raise InvalidInput(
            f"presenze annotate dal giorno dell'uscita ({left_on:%d/%m/%Y}) in poi: "
            "l'uscita non può precederle"
        )
    reservation.left_on = left_on
    repo.session.flush()
    spent = attendance(reservation, register, rome_date(applied.at)).payable(reservation.daily_rate)
    placements.close_reservation(reservation.id, ReservationStatus.ENDED, spent, applied.event_id)


@dataclass(frozen=True)
class Attendance:
    """A stay as the facility's register shows it (art. 13 co. 5 D.M. 128/2025): days reported
    present (paid), absent (not paid) and unreported (nobody reported them: not paid)."""

    present: int
    absent: tuple[date, ...]
    unreported: tuple[date, ...]

    def payable(self, daily_rate: Decimal) -> Decimal:
        """Only the days reported as present, times the rate (art. 13 co. 5)."""
        return stay_cost(self.present, daily_rate)


def paid_period(reservation: Reservation, today: date) -> tuple[date, date, date] | None:
    """(entry, last day that can be reported, last day that should have been) of a stay, or
    None before the entry. An ended stay: from the entry to the day before the exit, never past
    the last funded day (art. 11 co. 4, art. 13 co. 5 D.M. 128/2025). A current stay: up to
    today, never past the last funded day; today may still be reported, so only the days up to
    yesterday count as unreported."""
    entered, funded_until = reservation.entered_on, reservation.funded_until
    if entered is None or funded_until is None:
        return None
    if reservation.left_on is not None:
        last = min(reservation.left_on - timedelta(days=1), funded_until)
        return entered, last, last
    return entered, min(today, funded_until), min(today - timedelta(days=1), funded_until)


def attendance(reservation: Reservation, register: Mapping[date, bool], today: date) -> Attendance:
    """The stay's days (`paid_period`) split by what the facility reported in `register`."""
    period = paid_period(reservation, today)
    if period is None:
        return Attendance(0, (), ())
    entered, last, settled = period
    days = [entered + timedelta(days=n) for n in range((last - entered).days + 1)]
    return Attendance(
        present=sum(register.get(day) is True for day in days),
        absent=tuple(day for day in days if register.get(day) is False),
        unreported=tuple(day for day in days if day not in register and day <= settled),
    )


def _left_on(applied: Applied, entered_on: date) -> date:
    given = applied.payload.get("left_on")
    try:
        left_on = date.fromisoformat(str(given))
    except ValueError as error:
        raise InvalidInput(
            f"data di uscita non valida: {given or 'mancante'} (AAAA-MM-GG)"
        ) from error
    today = rome_date(applied.at)
    if not entered_on <= left_on <= today:
        raise InvalidInput(
            f"la data di uscita ({left_on:%d/%m/%Y}) deve essere tra l'ingresso "
            f"({entered_on:%d/%m/%Y}) e oggi ({today:%d/%m/%Y})"
        )
    return left_on


def _held(repo: Repository, applied: Applied) -> Reservation:
    reservation = _placements(repo).active_reservation(applied.case_id)
    if reservation is None:
        raise InvalidInput(
            f"la pratica {applied.reference} non ha alcun posto riservato o occupato"
        )
    return reservation


EFFECTS: dict[str, Effect] = {
    "open": _opened,
    "register": _registered,
    "attest": _attested,
    "reject": _released,
    "lapse": _released,
    "withdraw": _released,
    "requeue": _released,
    "enter": _entered,
    "leave": _ended,
    "funding_end": _ended,
}

"""What the notices of a kind need beyond the case and its event: for placements, the
competent UIEPE (which issues them: art. 12 co. 4, art. 13 co. 6 D.M. 128/2025), the parties
the case has (the court, the prison, the facility of the place, the UIEPE, the
Directorate-general), the application, the place, the stay and the court's decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import documents
from machines.calendar import rome_date
from services.placements.effects import attendance
from services.procedure import PARTIES
from storage.models import Case, CaseEvent
from storage.placements.repository import PlacementRepository
from storage.unit_of_work import UnitOfWork

TEMPLATES = Path(documents.__file__).parent / "templates" / "placements"

KindContext = Callable[[UnitOfWork, Case, CaseEvent, datetime], dict[str, Any]]

PARTY_ROLES = ("court", "prison", "facility", "office", "directorate")
"""The parties a placement has (`parti`): the notices' addressees are among them."""


def placement_context(
    uow: UnitOfWork, case: Case, event: CaseEvent, now: datetime
) -> dict[str, Any]:
    """`emittente` (the competent UIEPE, also as `uiepe`), `parti` (the court the application
    is pending before, the prison that forwarded it until the person entered the facility, the
    facility of the place if one was attested, the UIEPE, the Directorate-general), and
    `istanza`, `posto` (None before an attestation), `presenze` (None before the entry: days
    present, absent and not reported by the facility, and the amount payable), `liberato_da`,
    `decisione` (the court's decision the event reports: its date, court, file number and the
    start of the measure the court set), `motivo`."""
    repo: PlacementRepository = PlacementRepository.of(uow)
    application = repo.application(case.id)
    if application is None:
        raise ValueError(f"nessuna istanza registrata per la pratica {case.reference}")
    office = repo.office_by_id(application.office_id)
    prison = repo.prison_by_id(application.prison_id)
    # The place this event released (a requeue names the cancelled facility, even if the case
    # was attested elsewhere before the notice was rendered), else the last one held.
    reservation = repo.reservation_closed_by(event.id) or repo.last_reservation(case.id)
    posto = presenze = liberato_da = facility_name = None
    if reservation is not None:
        convention = repo.convention_by_id(reservation.convention_id)
        facility = repo.facility_by_id(convention.facility_id)
        facility_name = facility.name
        posto = {
            "struttura": facility.name,
            "ente_gestore": facility.operator,
            "indirizzo": facility.address,
            "sezione": facility.section,
            "convenzione": convention.code,
            "numero": reservation.place,
            "tariffa": reservation.daily_rate,
            "rilasciata_il": reservation.issued_on,
            "valida_fino_al": reservation.valid_until,
            "ingresso": reservation.entered_on,
            "fine_finanziamento": reservation.funded_until,
            "uscita": reservation.left_on,
            "impegno": reservation.committed,
            "anno_finanziario": reservation.budget_year,
        }
        if reservation.entered_on is not None:
            # Only days reported present are paid; days nobody reported are listed, not paid
            # (art. 13 co. 5 D.M. 128/2025).
            stay = attendance(reservation, repo.presences(reservation.id), rome_date(now))
            presenze = {
                "giorni": stay.present,
                "assenze": len(stay.absent),
                "giorni_assenza": list(stay.absent),
                "non_rilevati": len(stay.unreported),
                "giorni_non_rilevati": list(stay.unreported),
                "importo": stay.payable(reservation.daily_rate),
            }
        if reservation.freed_by_case_id is not None:
            liberato_da = uow.repo.case_by_id(reservation.freed_by_case_id).reference
    payload = event.payload
    uiepe = {"codice": office.code, "nome": office.name, "sede": office.place}
    return {
        "emittente": uiepe,
        "parti": {
            "court": application.court,
            # The prison until the person left it for the facility (an entry up to this
            # event): then it is no party of what follows, nor to have the identity annex.
            "prison": None if _entered(uow, case, event) else prison.name,
            "facility": facility_name,
            "office": office.name,
            "directorate": PARTIES["directorate"],
        },
        "uiepe": uiepe,
        "istanza": {
            "istituto": prison.name,
            "autorita": application.court,
            "presentata_il": application.filed_on,
            "protocollo": application.protocol,
            "protocollata_il": application.protocol_at,
        },
        "posto": posto,
        "presenze": presenze,
        "liberato_da": liberato_da,
        "decisione": {
            "data": payload.get("decided_on"),
            "autorita": payload.get("court"),
            "numero": payload.get("file_number"),
            # The start the court set (art. 12 co. 7), if its registry reported one.
            "decorrenza": payload.get("measure_start"),
        },
        "motivo": payload.get("reason"),
    }


def _entered(uow: UnitOfWork, case: Case, event: CaseEvent) -> bool:
    """Whether the person had entered the facility when `event` happened (a notice rendered
    later is addressed as of its event)."""
    return any(
        e.trigger == "enter" and e.sequence <= event.sequence for e in uow.repo.history(case.id)
    )

"""What the notices of a kind need beyond the case and its event: for placements, the
competent UIEPE (which signs them), the application, the place and the stay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import documents
from documents.render import data_it
from machines.calendar import rome_date
from services.placements.effects import attendance
from storage.models import Case, CaseEvent
from storage.placements.repository import PlacementRepository
from storage.unit_of_work import UnitOfWork

TEMPLATES = Path(documents.__file__).parent / "templates" / "placements"

KindContext = Callable[[UnitOfWork, Case, CaseEvent, datetime], dict[str, Any]]


def placement_context(
    uow: UnitOfWork, case: Case, event: CaseEvent, now: datetime
) -> dict[str, Any]:
    """`ufficio`/`luogo_data` of the competent UIEPE, and `istanza`, `posto` (None before an
    attestation), `presenze` (None before the entry: days present, absent and not reported by
    the facility, and the amount payable), `liberato_da`, `decisione`, `motivo`."""
    repo: PlacementRepository = PlacementRepository.of(uow)
    application = repo.application(case.id)
    if application is None:
        raise ValueError(f"{case.reference} has no application record")
    office = repo.office_by_id(application.office_id)
    prison = repo.prison_by_id(application.prison_id)
    # The place this event released (a requeue names the cancelled facility, even if the case
    # was attested elsewhere before the notice was rendered), else the last one held.
    reservation = repo.reservation_closed_by(event.id) or repo.last_reservation(case.id)
    posto = presenze = liberato_da = None
    if reservation is not None:
        convention = repo.convention_by_id(reservation.convention_id)
        facility = repo.facility_by_id(convention.facility_id)
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
    return {
        "ufficio": office.name,
        "luogo_data": f"{office.place}, {data_it(now)}",
        "uiepe": {"codice": office.code, "nome": office.name, "sede": office.place},
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
        },
        "motivo": payload.get("reason"),
    }

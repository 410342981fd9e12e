"""What the LPU notices need beyond the case and its event: the convention as drafted (entity,
counterparty, province, validity, activities, capacity); no person."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import documents
from machines.lpu.placement import breach_addressee, breach_article
from storage.lpu.repository import LpuRepository
from storage.models import Case, CaseEvent
from storage.unit_of_work import UnitOfWork

TEMPLATES = Path(documents.__file__).parent / "templates" / "lpu"


def placement_context(
    uow: UnitOfWork, case: Case, event: CaseEvent, now: datetime
) -> dict[str, Any]:
    """A placement's notices: the entity and its convention, the form, the hours, who takes a
    breach report and under which rule; the person only as the case's reference."""
    data = case.data
    convention = uow.repo.case_by_reference(str(data.get("convention", "")))
    lpu = LpuRepository.of(uow)
    owed = data.get("owed_hours")
    credited = lpu.credited(case.id)
    private = data.get("private", {})
    return {
        "lavoro": {
            "convenzione": data.get("convention"),
            "ente": None if convention is None else convention.data.get("entity"),
            "forma": data.get("form"),
            "reato": data.get("offence"),
            "attivita": list(data.get("activities", [])),
            "ore_dovute": owed,
            "ore_svolte": credited,
            "ore_residue": None if owed is None else max(Decimal(str(owed)) - credited, 0),
            "autorita": breach_addressee(data),
            "norma_violazione": breach_article(str(data.get("form", ""))),
            "violazione_il": event.payload.get("occurred_on"),
            "violazione": private.get("breach", {}).get("description"),
            "provvedimento_il": event.payload.get("ruled_on"),
        }
    }


def convention_context(
    uow: UnitOfWork, case: Case, event: CaseEvent, now: datetime
) -> dict[str, Any]:
    data = case.data
    return {
        "convenzione": {
            "ente": data.get("entity"),
            "controparte": data.get("counterparty"),
            "tribunale": data.get("tribunal"),
            "provincia": data.get("province"),
            "dal": data.get("valid_from"),
            "al": data.get("valid_until"),
            "attivita": list(data.get("activities", [])),
            "capienza": data.get("capacity"),
        }
    }

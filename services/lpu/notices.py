"""What the LPU notices need beyond the case and its event: the convention as drafted (entity,
counterparty, province, validity, activities, capacity); for a placement, the declaration (form
and the law that imposes it, offence, activities, days and time slots), the sentence, the hours
and the final report; no person.

Who issues them (`emittente`): the UEPE that follows the work, an office of the Administration
whose letterhead and certificate the notices bear. The entity is the author of the declaration
of availability, of the final report and of a breach report (seed 003, points 2-4), which the
UEPE transmits; it is the UEPE that verifies the work is done (seed 003: "l'UEPE ne verifica
l'effettivo svolgimento"; art. 141-ter disp. att. c.p.p. for probation). The data name no UEPE:
for the LPU part of a probation it is the probation's (its `uepe`); otherwise the UEPE of the
province where the work is done (the convention's province), named "UEPE di <provincia>", its
code derived from that name (`services.letterheads.office_code`, one rule for every procedure,
so that one UEPE keeps one protocol register). The parties (`parti`): the court that decides
(for a convention: the tribunal whose President signed it by delegation), the host entity, the
UEPE and the Directorate-general (for a convention signed with the Ministry).

A private field (a breach's description, the final report's note: `case.data["private"]`) may
appear in a notice, which is a document for the authority; never in an event's payload nor in a
log (the engine keeps it out of both)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import documents
from machines.lpu import forms
from machines.lpu.placement import FORMS, LpuPlacement, breach_addressee, breach_article
from services.letterheads import named_office
from services.procedure import PARTIES
from storage.lpu.repository import LpuRepository
from storage.models import Case, CaseEvent
from storage.unit_of_work import UnitOfWork

TEMPLATES = Path(documents.__file__).parent / "templates" / "lpu"
WEEKDAYS = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
CENT = Decimal("0.01")
PARTY_ROLES = ("court", "host_entity", "office", "directorate")
"""The parties an LPU case may have (`parti`): the notices' addressees are among them."""
UEPE = "Ufficio di esecuzione penale esterna"


def issuer(uepe: str | None, province: str | None) -> dict[str, str]:
    """The UEPE that issues an LPU notice: the one named (a probation's), else the one of the
    province where the work is done."""
    if not uepe and not province:  # no convention found: the office that runs the system
        return {"codice": "UEPE", "nome": UEPE, "sede": ""}
    name = uepe or f"UEPE di {province}"
    return named_office(name)


def hours_it(value: Decimal | int | str | None) -> str | None:
    """Hours as an Italian number: "6" for whole hours, else "2,50" (to the cent)."""
    if value is None:
        return None
    hours = Decimal(str(value)).quantize(CENT)
    if hours == hours.to_integral_value():
        return str(hours.to_integral_value())
    return f"{hours:.2f}".replace(".", ",")


def form_law(form: str | None) -> str | None:
    """The provision that imposes the form (`machines.lpu.placement.FORMS`)."""
    rules = FORMS.get(form or "")
    return None if rules is None else rules.law


def form_name(form: str | None, on: date | str | None) -> str | None:
    """The form's name in the version in force on `on`, if one is (form A gave way to S)."""
    if form is None or on is None:
        return None
    try:
        return forms.form_in_force(form, date.fromisoformat(str(on))).name
    except ValueError:
        return None


def _slots(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The days and time slots the person gave, Monday first, with the Italian weekday."""
    given = sorted(
        data.get("slots", []), key=lambda slot: (slot["weekday"], slot["start"], slot["end"])
    )
    return [
        {"giorno": WEEKDAYS[int(slot["weekday"])], "dalle": slot["start"], "alle": slot["end"]}
        for slot in given
    ]


def placement_context(
    uow: UnitOfWork, case: Case, event: CaseEvent, now: datetime
) -> dict[str, Any]:
    """A placement's notices: the entity and its convention, the form and its law, the
    declaration, the hours, who takes a breach report and under which rule, the final report;
    the person only as the case's reference."""
    data = case.data
    convention = uow.repo.case_by_reference(str(data.get("convention", "")))
    lpu = LpuRepository.of(uow)
    owed = data.get("owed_hours")
    credited = lpu.credited(case.id)
    left = None if owed is None else max(Decimal(str(owed)) - credited, Decimal(0))
    private = data.get("private", {})
    form = data.get("form")
    entity = None if convention is None else convention.data.get("entity")
    province = None if convention is None else convention.data.get("province")
    linked = data.get("probation")
    probation = None if not linked else uow.repo.case_by_reference(str(linked))
    office = issuer(None if probation is None else probation.data.get("uepe"), province)
    return {
        "emittente": office,
        "parti": {
            "court": data.get("court"),
            "host_entity": entity,
            "office": office["nome"],
            "directorate": PARTIES["directorate"],
        },
        "lavoro": {
            "convenzione": data.get("convention"),
            "ente": entity,
            "forma": form,
            "forma_nome": form_name(form, data.get("declared_on")),
            "legge": form_law(form),
            "reato": data.get("offence"),
            "attivita": list(data.get("activities", [])),
            "fasce": _slots(data),
            "dichiarata_il": data.get("declared_on"),
            "firmata_dal_rappresentante": data.get("signed_by_representative") is True,
            "colloquio": data.get("interview_held") is True,
            "giudice": data.get("court"),
            "giorni_dovuti": data.get("owed_days"),
            "disposto_il": data.get("decided_on"),
            "numero_procedimento": data.get("file_number"),
            "accolta_il": data.get("received_on"),
            "ore_dovute": owed,
            "ore_svolte": credited,
            "ore_residue": left,
            "ore": {
                "dovute": hours_it(owed),
                "svolte": hours_it(credited),
                "residue": hours_it(left),
            },
            "sessioni": len(lpu.register(case.id)),
            "autorita": breach_addressee(data),
            "norma_violazione": breach_article(str(data.get("form", ""))),
            "violazione_il": event.payload.get("occurred_on"),
            "violazione": private.get("breach", {}).get("description"),
            "provvedimento_il": event.payload.get("ruled_on"),
            "relazione_il": event.payload.get("reported_on"),
            "regolare": event.payload.get("regular"),
            "relazione_in_ritardo": event.from_state == LpuPlacement.REPORT_OVERDUE.value,
            "nota": private.get("report", {}).get("note"),
        },
    }


def convention_context(
    uow: UnitOfWork, case: Case, event: CaseEvent, now: datetime
) -> dict[str, Any]:
    """A convention's notices: the convention as drafted; issued by the UEPE of its province,
    to the entity and to whoever signed it for the Ministry (the tribunal's President by
    delegation, else the Directorate-general)."""
    data = case.data
    office = issuer(None, data.get("province"))
    delegated = data.get("counterparty") == "tribunal_president"
    return {
        "emittente": office,
        "parti": {
            "court": data.get("tribunal") if delegated else None,
            "host_entity": data.get("entity"),
            "office": office["nome"],
            "directorate": None if delegated else PARTIES["directorate"],
        },
        "convenzione": {
            "ente": data.get("entity"),
            "controparte": data.get("counterparty"),
            "tribunale": data.get("tribunal"),
            "provincia": data.get("province"),
            "dal": data.get("valid_from"),
            "al": data.get("valid_until"),
            "attivita": list(data.get("activities", [])),
            "capienza": data.get("capacity"),
        },
    }

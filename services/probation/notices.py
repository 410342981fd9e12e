"""What the notices of a probation need beyond the case and its event: the court and the UEPE,
the offence, the programme in the version in force when the event happened (its components in
Italian, the LPU part, the consent and the adherence it was sent with), the order (duration,
cadence), the period, the periodic and final reports, the revocation hearing and its cause
(art. 168-quater c.p.), the outcome, and the days served with their worth under art. 657-bis
c.p.p.; no person: the person is only the case's reference (the pseudonymous key is never
printed).

What an event said wins over what the case keeps: a notice rendered later (a second report, a
second revocation hearing) still tells its own event. The programme's details are private
(`case.data["private"]`, by trigger): they may appear in a notice, which is a document for the
authority, never in an event's payload nor in a log (the engine keeps them out of both), and
only the details of the version the notice tells (their digest on that version's event matches).
The withdrawal's reason is never read here.

The UEPE the request names issues every notice (`emittente`: it runs the inquiry, the programme
and the reports, art. 464-bis co. 4 c.p.p. and art. 141-ter disp. att. c.p.p.); the data know it
by name only, so its code is derived from that name (`services.letterheads.office_code`:
"UEPE di Torino" -> "UEPE-TORINO"). The parties (`parti`): the court, the UEPE, the host entity
of the LPU part as the programme in force names it, the Directorate-general."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import documents
from machines.calendar import rome_date
from machines.probation import law
from machines.probation.machine import (
    COMPONENTS,
    Probation,
    next_report_last_day,
    period_last_day,
)
from services.engine import private_digest
from services.letterheads import named_office
from services.probation.facts import days_served
from services.procedure import PARTIES
from storage.models import Case, CaseEvent
from storage.probation.models import ProgrammeVersion
from storage.probation.repository import ProbationRepository
from storage.unit_of_work import UnitOfWork

TEMPLATES = Path(documents.__file__).parent / "templates" / "probation"
CENT = Decimal("0.01")
AUTHORS = {"uepe": "UEPE", "judge": "giudice"}
PARTY_ROLES = ("court", "office", "host_entity", "directorate")
"""The parties a probation has (`parti`): the notices' addressees are among them."""


def issuer(uepe: str) -> dict[str, str]:
    """The UEPE named by the request, as the notices' issuer; it signs where its name says
    ("UEPE di Torino": Torino), else where the office's settings say."""
    return named_office(uepe)


def hours_it(value: Decimal | int | str | None) -> str | None:
    """Hours as an Italian number: "4" for whole hours, else "2,50" (to the cent)."""
    if value is None:
        return None
    hours = Decimal(str(value)).quantize(CENT)
    if hours == hours.to_integral_value():
        return str(hours.to_integral_value())
    return f"{hours:.2f}".replace(".", ",")


def span_it(months: int | None, days: int | None = 0) -> str | None:
    """A duration in months and days, in Italian: "12 mesi", "1 mese e 15 giorni"."""
    if months is None:
        return None
    parts = []
    if months:
        parts.append("1 mese" if months == 1 else f"{months} mesi")
    if days:
        parts.append("1 giorno" if days == 1 else f"{days} giorni")
    return " e ".join(parts) or "0 giorni"


def _day(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value))


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def penalty_it(offence: Mapping[str, Any]) -> str | None:
    """The penalty the request states, in Italian."""
    if offence.get("fine_only") is True:
        return "sola pena pecuniaria"
    months = offence.get("max_detention_months")
    return None if months is None else f"pena detentiva massima di {span_it(int(months))}"


def listed_550_it(offence: Mapping[str, Any], on: date | None) -> str | None:
    """The entry of art. 550 co. 2 c.p.p. the request names, as the list in force on `on`
    describes it (its key if that version does not hold it)."""
    key = offence.get("listed_550")
    if not key:
        return None
    try:
        entry = law.list_550_on(on or law.MAP_IN_FORCE).by_key().get(str(key))
    except law.NotInForce:
        entry = None
    if entry is None:
        return str(key)
    return f"art. 550 co. 2 lett. {entry.letter} c.p.p. ({entry.article}): {entry.description}"


def _programme(
    uow: UnitOfWork, versions: Sequence[ProgrammeVersion], event: CaseEvent, data: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The version of the programme in force when `event` happened (the last one written by it
    or before it), with its LPU entity and, if that version had them, its private details."""
    before = [version for version in versions if version.event_id <= event.id]
    if not before:
        return None
    version = before[-1]
    written = uow.repo.event(version.event_id)
    said = written.payload
    return {
        "versione": version.version,
        "autore": AUTHORS.get(version.by, version.by),
        "del": version.on.isoformat(),
        "componenti": [COMPONENTS.get(str(c), str(c)) for c in version.components],
        "giorni_lpu": version.lpu_days,
        "ore_lpu_giorno": hours_it(version.lpu_hours_per_day),
        "ente_lpu": said.get("lpu_entity"),
        "dettagli": _details(data, written.trigger, said.get("private")),
        "versioni": len(before),
    }


def _details(data: Mapping[str, Any], trigger: str, digest: Any) -> str | None:
    """The private details of the version whose event carries `digest`: the case keeps only the
    last ones given by each trigger, so an earlier version's are shown only if they match."""
    kept = data.get("private", {}).get(trigger, {})
    if not isinstance(digest, Mapping) or "details" not in kept:
        return None
    salt = str(kept.get("salt", ""))
    if private_digest(salt, {"details": kept["details"]}) != digest.get("digest"):
        return None
    return str(kept["details"])


def _last(history: Sequence[CaseEvent], event: CaseEvent, trigger: str) -> CaseEvent | None:
    """The last event `trigger` up to `event` (itself included)."""
    found = None
    for earlier in history:
        if earlier.sequence > event.sequence:
            break
        if earlier.trigger == trigger:
            found = earlier
    return found


def _late_report(history: Sequence[CaseEvent], event: CaseEvent) -> bool:
    """A periodic report filed after the lapse of its term (a `report_overdue` since the
    signature or the report before it)."""
    late = False
    for earlier in history:
        if earlier.sequence >= event.sequence:
            break
        if earlier.trigger in ("sign", "report"):
            late = False
        elif earlier.trigger == "report_overdue":
            late = True
    return late


def _lapsed_last_day(payload: Mapping[str, Any]) -> str | None:
    """The last day of a term whose timer fired (due at 00:00 in Italian time after it)."""
    due = payload.get("due_at")
    if not due:
        return None
    instant = due if isinstance(due, datetime) else datetime.fromisoformat(str(due))
    return (rome_date(instant) - timedelta(days=1)).isoformat()


def _revocation(values: Mapping[str, Any]) -> dict[str, Any]:
    """The revocation hearing: its cause (art. 168-quater c.p.) in Italian, its date, the notice
    and the days between them."""
    key = values.get("cause")
    hearing, notified = _day(values.get("revocation_hearing_on")), _day(values.get("notified_on"))
    cause = None if not key else law.revocation_cause(str(key), hearing)
    rules = law.rules_on(hearing) if hearing is not None else law.latest_rules()
    return {
        "causa": None if cause is None else cause.label,
        "norma_causa": None if cause is None else cause.article,
        "udienza_il": _iso(hearing),
        "avviso_il": _iso(notified),
        "giorni_preavviso": None
        if hearing is None or notified is None
        else rules.revocation_notice.days_before(notified, hearing),
        "preavviso_minimo": rules.revocation_notice.days,
        "norma_avviso": rules.revocation_notice.article,
    }


def _served(values: Mapping[str, Any], to_state: str) -> dict[str, Any]:
    """The days served once revoked or failed, and their worth (art. 657-bis c.p.p.)."""
    served = days_served(values, to_state)
    if served is None:
        return {"giorni": None, "dettaglio_657_bis": None, "detenzione_giorni": None,
                "pena_pecuniaria": None, "residuo_giorni": None}  # fmt: skip
    credit = law.probation_credit(served, _day(values.get("decided_on")))
    return {
        "giorni": served,
        "dettaglio_657_bis": credit.detail,
        "detenzione_giorni": credit.detention_days,
        "pena_pecuniaria": credit.fine,
        "residuo_giorni": credit.remainder_days,
    }


def probation_context(
    uow: UnitOfWork, case: Case, event: CaseEvent, now: datetime
) -> dict[str, Any]:
    """A probation's notices: `emittente` (the UEPE), `parti` (the court, the UEPE, the LPU
    part's host entity, the Directorate-general) and `prova`: the court, the UEPE, the offence,
    the programme, the order and the period, the reports, the revocation, the outcome; the
    person only as the case's reference."""
    data = case.data
    said = {key: value for key, value in event.payload.items() if key != "private"}
    values = {**data, **said}  # what the event said, over what the case keeps
    probation = ProbationRepository.of(uow)
    history = uow.repo.history(case.id)
    offence = data.get("offence") or {}
    requested = _day(data.get("requested_on"))
    signed = _day(data.get("record_signed_on"))
    period_end = None if signed is None else period_last_day(data, signed)
    next_report = None
    if signed is not None and data.get("cadence_months") is not None:
        next_report = next_report_last_day(values, signed)
    sending = _last(history, event, "send")
    sent = {} if sending is None else sending.payload
    hearing = _day(data.get("hearing_on"))
    rules = law.rules_on(requested) if requested is not None else law.latest_rules()
    programme = _programme(uow, probation.programmes(case.id), event, data)
    uepe = str(data.get("uepe") or "")
    return {
        "emittente": issuer(uepe),
        "parti": {
            "court": data.get("court"),
            "office": uepe or None,
            "host_entity": None if programme is None else programme["ente_lpu"],
            "directorate": PARTIES["directorate"],
        },
        "prova": {
            "uepe": data.get("uepe"),
            "giudice": data.get("court"),
            "numero_procedimento": values.get("file_number"),
            "reato": offence.get("article"),
            "pena": penalty_it(offence),
            "elenco_550": listed_550_it(offence, requested),
            "richiesta_il": data.get("requested_on"),
            "indagine_dal": data.get("started_on"),
            "connessa_a": list(data.get("connected_to") or []),
            "motivo_connessione": data.get("override_ground"),
            "programma": programme,
            "trasmesso_il": sent.get("sent_on", data.get("sent_on")),
            "consenso": sent.get("consent") is True,
            "adesione_ente": sent.get("entity_adherence") is True,
            "ordinanza_il": data.get("ordered_on"),
            "durata": span_it(data.get("duration_months"), data.get("duration_days")),
            "cadenza": span_it(data.get("cadence_months")),
            "verbale_il": _iso(signed),
            "fine_periodo": _iso(period_end),
            "relazione_il": said.get("reported_on"),
            "relazione_in_ritardo": event.trigger == "report" and _late_report(history, event),
            "in_udienza_revoca": event.from_state == Probation.REVOCATION_HEARING.value,
            "prossima_relazione_entro": None
            if next_report is None or (period_end is not None and next_report > period_end)
            else next_report.isoformat(),
            "scaduta_il": _lapsed_last_day(said) if event.trigger == "report_overdue" else None,
            "udienza_finale_il": _iso(hearing),
            "termine_relazione_finale": None
            if hearing is None
            else law.final_report_last_day(hearing).isoformat(),
            "valutata": values.get("positive") is not None,
            "positiva": values.get("positive") is True,
            "finale_in_ritardo": event.from_state == Probation.REPORT_OVERDUE.value,
            "motivo_lpu": values.get("lpu_shortfall_reason"),
            "giorni_lpu_svolti": probation.lpu_days(case.id),
            "giorni_lpu_minimi": rules.lpu_min_days.value,
            "norma_lpu": rules.lpu_min_days.article,
            "revoca": _revocation(values),
            "deciso_il": said.get("decided_on"),
            "esito_positivo": event.to_state == Probation.EXTINGUISHED.value,
            "scontati": _served(values, event.to_state),
        },
    }

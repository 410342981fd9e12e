"""What the register's notices need beyond the case and its event: the Directorate-general for
community justice keeps the register and issues its acts (`emittente`: D.M. 128/2025 art. 2
co. 1 d, arts. 3-5, 10), addressed to the operator at its facility (`parti`); the shared
renderer dates them the day the act took effect (the event's `effective_at`, not the day the
notice happens to be rendered).

Every notice names the facility (`struttura`: the register's entry). A facility case's notices
add what its application went through (`preavviso`, `parere_dap`) and a prescription's terms
(`prescrizione`); a cancellation case's notices add the procedure (`procedimento`). Both are read
from the case's trail up to the event, so a notice rendered late says what was true when the
act was taken. Nothing here names a person, nor reads the case's `private` data (art. 15): the
operator's submissions are counted and dated, their text is not copied."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import documents
from machines.calendar import rome_date
from machines.register import CAUSES, Cancellation, Facility
from machines.register.requirements import OPERATOR_TYPES, SERVICES
from services.procedure import PARTIES
from storage.models import Case, CaseEvent
from storage.register.repository import RegisterRepository
from storage.unit_of_work import UnitOfWork

TEMPLATES = Path(documents.__file__).parent / "templates" / "register"
DIRECTORATE = (
    "Ministero della Giustizia - Dipartimento per la giustizia minorile e di comunità - "
    "Direzione generale per la giustizia di comunità"
)
DIRECTORATE_PLACE = "Roma"
# The issuer of the register's acts, as its letterhead is known (D.M. 128/2025 art. 2 co. 1 d).
ISSUER = {
    "codice": "DGGC",
    "nome": "Direzione generale per la giustizia di comunità",
    "sede": DIRECTORATE_PLACE,
}
PARTY_ROLES = ("facility", "directorate")
"""The parties of a register's case (`parti`): the facility (its operator receives the acts
there) and the Directorate-general itself."""

# The services of art. 7 co. 2, by letter.
SERVICE_LABELS = dict(zip("abc", (rule.label for rule in SERVICES), strict=True))
OPINIONS = {"favourable": "favorevole", "unfavourable": "sfavorevole"}


def register_context(
    uow: UnitOfWork, case: Case, event: CaseEvent, now: datetime
) -> dict[str, Any]:
    """`emittente` (the Directorate-general), `parti` (the facility the case is about, the
    Directorate-general); `atto` (the event's trigger, as the machine names it: the shared
    context's `event.trigger` is its Italian label) and `data_atto`; `struttura`;
    `motivazione` (the act's reasons, if it gives any);
    `prescrizione`, `preavviso`, `parere_dap` (facility cases, else None); `procedimento`
    (cancellation cases, else None)."""
    register = RegisterRepository.of(uow)
    trail = [e for e in uow.repo.history(case.id) if e.sequence < event.sequence]
    payload = event.payload
    context: dict[str, Any] = {
        "emittente": dict(ISSUER),
        "atto": event.trigger,
        "data_atto": rome_date(event.effective_at),
        "motivazione": payload.get("reasons"),
        "prescrizione": None,
        "preavviso": None,
        "parere_dap": None,
        "procedimento": None,
    }
    if case.kind == "cancellation":
        procedure = register.procedure(case.id)
        if procedure is None:
            raise ValueError(f"{case.reference} has no procedure record")
        facility = uow.repo.case_by_id(procedure.facility_case_id)
        context["procedimento"] = _procedure(case, trail, event)
    else:
        facility = case
        context["preavviso"] = _notice_of_reasons([*trail, event])
        context["parere_dap"] = _opinion(trail)
        if event.trigger == "prescribe":
            context["prescrizione"] = _prescription(register, case, event)
    context["struttura"] = _facility(register, facility)
    context["parti"] = {
        "facility": context["struttura"]["nome"],
        "directorate": PARTIES["directorate"],
    }
    return context


def _facility(register: RegisterRepository, facility: Case) -> dict[str, Any]:
    entry = register.entry(facility.id)
    if entry is None:
        raise ValueError(f"{facility.reference} has no register entry")
    operator_type = OPERATOR_TYPES.get(entry.operator_type)
    return {
        "pratica": facility.reference,
        "codice": entry.code,
        "nome": entry.name,
        "ente_gestore": entry.operator,
        "tipologia_ente": None if operator_type is None else operator_type.label,
        "lettera_ente": entry.operator_type,
        "indirizzo": entry.address,
        "sezione": entry.section,
        "posti": entry.places,
        "manifestazione_il": entry.filed_on,
        "iscritta_il": entry.registered_on,
        "sospesa_dal": entry.suspended_since,
        "cancellata_il": entry.cancelled_on,
    }


def _day(event: CaseEvent) -> date:
    return rome_date(event.effective_at)


def _payload_date(event: CaseEvent, key: str) -> date | None:
    value = event.payload.get(key)
    return None if value is None else date.fromisoformat(str(value))


def _submissions(trail: Sequence[CaseEvent], trigger: str, in_term: str) -> list[dict[str, Any]]:
    """The operator's filings of `trigger`, dated, with their number of documents: `tempestivi`
    if they arrived in `in_term` (the state of the running term), else recorded and not
    considered. Never their text."""
    return [
        {
            "il": _day(e),
            "documenti": int(e.payload.get("documents", 0)),
            "tempestivi": e.from_state == in_term,
        }
        for e in trail
        if e.trigger == trigger
    ]


def _notice_of_reasons(trail: Sequence[CaseEvent]) -> dict[str, Any] | None:
    """The notice of reasons before a rejection (art. 10-bis L. 241/1990): when it was sent and
    received, the observations (in the term or late) and the day the term ran out unused."""
    sent = next((e for e in reversed(trail) if e.trigger == "notify_reasons"), None)
    if sent is None:
        return None
    after = [e for e in trail if e.sequence > sent.sequence]
    receipt = next((e for e in after if e.trigger == "record_receipt"), None)
    closed = next((e for e in after if e.trigger == "observations_closed"), None)
    return {
        "inviato_il": _day(sent),
        "motivi": sent.payload.get("reasons"),
        "ricevuto_il": None if receipt is None else _payload_date(receipt, "received_on"),
        "osservazioni": _submissions(after, "observe", Facility.OBSERVATIONS),
        "termine_scaduto_il": None if closed is None else _day(closed),
    }


def _opinion(trail: Sequence[CaseEvent]) -> dict[str, Any] | None:
    """The prison administration's opinion (art. 3 co. 4): its outcome and date, not its note."""
    given = next((e for e in reversed(trail) if e.trigger == "dap_opinion"), None)
    if given is None:
        return None
    opinion = str(given.payload.get("opinion"))
    return {"esito": OPINIONS.get(opinion, opinion), "reso_il": _payload_date(given, "given_on")}


def _prescription(register: RegisterRepository, case: Case, event: CaseEvent) -> dict[str, Any]:
    number = next(
        (p.number for p in register.prescriptions(case.id) if p.event_id == event.id), None
    )
    service = str(event.payload["service"])
    return {
        "numero": number,
        "servizio": service,
        "servizio_descrizione": SERVICE_LABELS.get(service, service),
        "testo": event.payload["text"],
        "termine": _payload_date(event, "due_on"),
    }


def _procedure(case: Case, trail: Sequence[CaseEvent], event: CaseEvent) -> dict[str, Any]:
    """The cancellation procedure as it stood when `event` was taken (art. 5): its causes, the
    facts (those of the contestation once contested), the invitation and the contestation with
    their receipts, the operator's filings, the suspension in force before the act."""
    opening = next((e for e in trail if e.trigger == "open"), None)
    opened = dict(case.data) if opening is None else opening.payload
    causes = [str(cause) for cause in opened.get("causes", [])]
    facts = opened.get("facts")
    invitation: dict[str, Any] | None = None
    contestation: dict[str, Any] | None = None
    suspended_since: date | None = None
    clarifications_closed = defence_closed = None
    for e in trail:
        if e.trigger == "invite":
            invitation = {"inviata_il": _day(e), "ricevuta_il": None}
        elif e.trigger == "contest":
            contestation = {
                "inviata_il": _day(e),
                "ricevuta_il": None,
                "fatti": e.payload.get("facts"),
                "norme_violate": e.payload.get("rules_breached"),
                "giorni_difesa": e.payload.get("defence_days"),
            }
            facts = e.payload.get("facts", facts)
        elif e.trigger == "record_receipt":
            received = _payload_date(e, "received_on")
            if e.from_state == Cancellation.INVITED and invitation is not None:
                invitation["ricevuta_il"] = received
            elif e.from_state == Cancellation.CONTESTED and contestation is not None:
                contestation["ricevuta_il"] = received
        elif e.trigger == "clarifications_closed":
            clarifications_closed = _day(e)
        elif e.trigger == "defence_closed":
            defence_closed = _day(e)
        elif e.trigger == "suspend":
            suspended_since = _day(e)
        elif e.trigger == "lift":
            suspended_since = None
    if event.trigger == "contest":
        facts = event.payload.get("facts", facts)
    current = contestation or {}
    received = (contestation or invitation or {}).get("ricevuta_il")
    return {
        "pratica": case.reference,
        "avviato_il": None if opening is None else _day(opening),
        "cause": [{"lettera": cause, "descrizione": CAUSES[cause]} for cause in causes],
        "fatti_iniziali": opened.get("facts"),
        "fatti": facts,
        "norme_violate": event.payload.get("rules_breached", current.get("norme_violate")),
        "giorni_difesa": event.payload.get("defence_days", current.get("giorni_difesa")),
        "ricevuto_il": received,
        "motivazione": event.payload.get("reasons"),
        "invito": invitation,
        "chiarimenti": _submissions(trail, "clarify", Cancellation.CLARIFYING),
        "termine_chiarimenti_scaduto_il": clarifications_closed,
        "contestazione": contestation,
        "difese": _submissions(trail, "defend", Cancellation.DEFENDING),
        "termine_difese_scaduto_il": defence_closed,
        "sospesa_dal": suspended_since,
    }

"""The notices of the register of facilities (D.M. 128/2025 arts. 3-10) and the two notices the
placements send when a facility is cancelled: each context is built by `register_context` from a
case's trail (the repositories faked, no database), merged into the shared context as
services/notices.py does, rendered to HTML and PDF, and read back for the facts a clerk signs."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pypdf import PdfReader

from documents.render import render_html, render_notice
from machines.register import CANCELLATION, FACILITY
from machines.spec import CaseMachine
from services.placements.notices import TEMPLATES as PLACEMENT_TEMPLATES
from services.placements.procedure import PROCEDURE as PLACEMENTS
from services.procedure import PARTIES
from services.register import notices
from services.register.notices import TEMPLATES, register_context
from services.register.procedure import PROCEDURE as REGISTER
from storage.models import Case, CaseEvent
from storage.register.models import Prescription, Procedure, RegisterEntry
from storage.unit_of_work import UnitOfWork
from tests.support.official import Addressee, with_act

FOLDERS = (TEMPLATES, PLACEMENT_TEMPLATES)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Rome
RENDERED_AT = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # long after every act: not its date
FACILITY_NAME = "Comunità San Martino"
OPERATOR = "Cooperativa sociale Il Ponte"
ADDRESS = "Via Nizza 150, 00198 Roma"
PERSON = "Mario Bianchi"  # a director's name in the review's private data: never printed
# The register's acts go to the facility, by its name in the register.
FACILITY_PARTY = Addressee("facility", FACILITY_NAME)
NOTICES = {**PLACEMENTS.notices, **REGISTER.notices}


def at(days: int) -> datetime:
    return START + timedelta(days=days)


class Trail:
    """The cases, events and register rows of one story, and the fakes that read them."""

    def __init__(self) -> None:
        self.cases: dict[int, Case] = {}
        self.events: list[CaseEvent] = []
        self.entries: dict[int, RegisterEntry] = {}
        self.procedures: dict[int, Procedure] = {}
        self.prescriptions: list[Prescription] = []

    def case(self, case_id: int, kind: str, reference: str, data: dict[str, Any]) -> Case:
        case = Case(id=case_id, kind=kind, reference=reference, state="", data=data)
        self.cases[case_id] = case
        return case

    def event(
        self,
        case: Case,
        trigger: str,
        from_state: str | None,
        to_state: str,
        days: int,
        payload: dict[str, Any] | None = None,
        legal_basis: str = "art. 5 D.M. 128/2025",
    ) -> CaseEvent:
        sequence = sum(1 for e in self.events if e.case_id == case.id) + 1
        event = CaseEvent(
            id=len(self.events) + 1,
            case_id=case.id,
            sequence=sequence,
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            payload=payload or {},
            legal_basis=legal_basis,
            occurred_at=at(days),
            effective_at=at(days),
        )
        self.events.append(event)
        case.state = to_state
        return event

    # the fakes ----------------------------------------------------------------------------------
    def history(self, case_id: int) -> Sequence[CaseEvent]:
        return sorted((e for e in self.events if e.case_id == case_id), key=lambda e: e.sequence)

    def case_by_id(self, case_id: int) -> Case:
        return self.cases[case_id]

    def entry(self, case_id: int) -> RegisterEntry | None:
        return self.entries.get(case_id)

    def procedure(self, case_id: int) -> Procedure | None:
        return self.procedures.get(case_id)

    def prescriptions_of(self, facility_case_id: int) -> list[Prescription]:
        return [p for p in self.prescriptions if p.facility_case_id == facility_case_id]


class FakeRegister:
    """RegisterRepository as register_context reads it."""

    trail: Trail

    @classmethod
    def of(cls, uow: Any) -> FakeRegister:
        register = cls()
        register.trail = uow.trail
        return register

    def entry(self, case_id: int) -> RegisterEntry | None:
        return self.trail.entry(case_id)

    def procedure(self, case_id: int) -> Procedure | None:
        return self.trail.procedure(case_id)

    def prescriptions(self, facility_case_id: int) -> list[Prescription]:
        return self.trail.prescriptions_of(facility_case_id)


@pytest.fixture(autouse=True)
def fake_register(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notices, "RegisterRepository", FakeRegister)


def context_of(trail: Trail, case: Case, event: CaseEvent, template: str) -> dict[str, Any]:
    """The shared context of services/notices.py, then the register's (its issuer and
    parties), then the act made of them as there (numbered when rendered, dated the day of the
    event)."""
    machine: CaseMachine = FACILITY if case.kind == "facility" else CANCELLATION
    uow = cast(UnitOfWork, SimpleNamespace(repo=trail, trail=trail))
    context: dict[str, Any] = {
        "emesso_il": RENDERED_AT,
        "reference": case.reference,
        "kind": machine.label(case.kind),
        "from_state": "—" if event.from_state is None else machine.label(event.from_state),
        "to_state": machine.label(event.to_state),
        "message": {"template": template, "reference": case.reference},
        "motivo": event.payload.get("reason"),
        "event": {
            "trigger": machine.label(event.trigger),
            "sequence": event.sequence,
            "occurred_at": event.occurred_at,
            "effective_at": event.effective_at,
            "legal_basis": event.legal_basis,
        },
    }
    context.update(register_context(uow, case, event, RENDERED_AT))
    return act(template, context)


def act(template: str, context: dict[str, Any]) -> dict[str, Any]:
    """`context` with the shared keys of the act services/notices.py adds for `template`."""
    return with_act(context, NOTICES[template], registered_at=RENDERED_AT)


def html_text(template: str, context: dict[str, Any]) -> str:
    """The HTML's text, inline tags dropped, block tags made spaces, whitespace normalised."""
    rendered = render_html(template, context, FOLDERS)
    assert "{{" not in rendered and "{%" not in rendered and "}}" not in rendered
    inline = re.sub(r"</?(strong|span|em)\b[^>]*>", "", rendered)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def pdf_text(template: str, context: dict[str, Any]) -> str:
    pdf = render_notice(template, context, FOLDERS).pdf
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def check(template: str, context: dict[str, Any], *facts: str) -> str:
    """Render to HTML and PDF; every fact is in the text, no person's name, no template code.
    A context without the act's keys gets them first."""
    if "protocollo" not in context:
        context = act(template, context)
    text = html_text(template, context)
    for fact in facts:
        assert fact in text, fact
    assert PERSON not in text
    printed = pdf_text(template, context)
    assert "{{" not in printed and PERSON not in printed
    assert context["reference"] in printed
    return text


# stories ----------------------------------------------------------------------------------------
OPENING: dict[str, Any] = {
    "code": "FAC-RM-01",
    "name": FACILITY_NAME,
    "operator": OPERATOR,
    "operator_type": "d",
    "address": ADDRESS,
    "section": "Lazio",
    "places": 12,
    "filed_on": "2026-02-20",
}


def facility(trail: Trail, case_id: int = 1, registered: bool = True) -> Case:
    """A third-sector operator's facility filed, reviewed (a director declared: private data)
    and heard by DAP; registered on day 0 if `registered`."""
    reference = f"STR-2026-{case_id:06d}"
    private = {"review": {"salt": "x", "people": [{"role": "director", "name": PERSON}]}}
    case = trail.case(case_id, "facility", reference, {**OPENING, "private": private})
    trail.entries[case_id] = RegisterEntry(
        case_id=case_id,
        code=OPENING["code"],
        name=FACILITY_NAME,
        operator=OPERATOR,
        operator_type="d",
        address=ADDRESS,
        section="Lazio",
        places=12,
        filed_on=date(2026, 2, 20),
    )
    trail.event(case, "open", None, "filed", -10, dict(OPENING))
    trail.event(case, "review", "filed", "under_review", -9, {"private": {"fields": ["people"]}})
    opinion = {"opinion": "favourable", "given_on": "2026-02-25", "note": "nota interna"}
    trail.event(case, "dap_opinion", "under_review", "under_review", -5, opinion)
    if registered:
        trail.event(case, "register", "under_review", "registered", 0, {}, "art. 3 co. 4 D.M.")
        trail.entries[case_id].registered_on = date(2026, 3, 2)
    return case


def procedure(trail: Trail, facility_case: Case, causes: list[str], case_id: int = 10) -> Case:
    data = {"facility": facility_case.reference, "causes": causes, "facts": "Fatti rilevati."}
    case = trail.case(case_id, "cancellation", f"CANC-2026-{case_id:06d}", dict(data))
    trail.procedures[case_id] = Procedure(
        case_id=case_id,
        facility_case_id=facility_case.id,
        causes=causes,
        in_progress=True,
        opened_at=at(30),
    )
    trail.event(case, "open", None, "opened", 30, data)
    return case


# facility notices --------------------------------------------------------------------------------
def test_iscrizione_registers_in_the_section_and_is_dated_the_day_of_the_act() -> None:
    trail = Trail()
    case = facility(trail)
    event = trail.history(case.id)[-1]
    context = context_of(trail, case, event, "iscrizione")
    assert context["data_atto"] == date(2026, 3, 2)  # effective_at, not the render's day
    assert context["emittente"] == {
        "codice": "DGGC",
        "nome": "Direzione generale per la giustizia di comunità",
        "sede": "Roma",
    }
    assert context["parti"] == {"facility": FACILITY_NAME, "directorate": PARTIES["directorate"]}
    assert context["struttura"]["sezione"] == "Lazio"
    text = check(
        "iscrizione",
        context,
        "Provvedimento di iscrizione nell’elenco delle strutture residenziali",
        f"Destinatari {FACILITY_PARTY.printed()} Oggetto:",
        "DISPONE",
        f"l’iscrizione della struttura residenziale «{FACILITY_NAME}»",
        "nella sezione Lazio dell’elenco delle strutture residenziali, con decorrenza dal "
        "2 marzo 2026 (art. 3 co. 4 D.M. 128/2025)",
        "parere favorevole il 25 febbraio 2026 (art. 3 co. 4)",
        "ente od organismo del terzo settore (art. 8 co. 1 lett. d)",
        "Posti 12",
        "(art. 4)",
        "art. 5 co. 1 lett. a",
        "Roma, 2 marzo 2026",
    )
    assert "nota interna" not in text  # the opinion's note stays on the case
    assert "30 settembre 2026" not in text


def test_preavviso_rigetto_gives_ten_days_from_receipt_under_art_10_bis() -> None:
    trail = Trail()
    case = facility(trail, registered=False)
    reasons = "Difetta l’idoneità igienico-sanitaria della struttura (art. 7 co. 1)."
    event = trail.event(
        case, "notify_reasons", "under_review", "reasons_notified", 3, {"reasons": reasons}
    )
    context = context_of(trail, case, event, "preavviso_rigetto")
    assert context["preavviso"]["inviato_il"] == date(2026, 3, 5)
    check(
        "preavviso_rigetto",
        context,
        "Comunicazione dei motivi ostativi",
        f"Destinatari {FACILITY_PARTY.printed()} Oggetto:",
        "art. 10-bis della legge 7 agosto 1990, n. 241",
        reasons,
        "dieci (10) giorni dal ricevimento della presente comunicazione",
        "osservazioni, eventualmente corredate da documenti",
        "Dell’eventuale mancato accoglimento delle osservazioni è data ragione nella "
        "motivazione del provvedimento finale",
        "Roma, 5 marzo 2026",
    )


def rejected(observations: str) -> tuple[Trail, Case, CaseEvent]:
    """Rejected after a notice of reasons: observations in the term (`in_term`), none (the term
    ran out), or none in the term and some late (`late`)."""
    trail = Trail()
    case = facility(trail, registered=False)
    trail.event(case, "notify_reasons", "under_review", "reasons_notified", 3, {"reasons": "X"})
    receipt = {"received_on": "2026-03-06"}
    trail.event(case, "record_receipt", "reasons_notified", "observations", 4, receipt)
    if observations == "in_term":
        trail.event(case, "observe", "observations", "to_decide", 8, {"text": "Osservazioni."})
    else:
        trail.event(case, "observations_closed", "observations", "to_decide", 11)
    if observations == "late":
        trail.event(case, "observe", "to_decide", "to_decide", 13, {"text": "Tardive."})
    reasons = {"reasons": "Le osservazioni non superano il difetto di idoneità."}
    event = trail.event(case, "reject", "to_decide", "rejected", 15, reasons, "art. 3 co. 4")
    return trail, case, event


def test_rigetto_answers_the_observations_and_names_the_remedies() -> None:
    trail, case, event = rejected("in_term")
    text = check(
        "rigetto",
        context_of(trail, case, event, "rigetto"),
        "Provvedimento di rigetto della manifestazione di interesse",
        "comunicazione dei motivi ostativi all’accoglimento del 5 marzo 2026, ricevuta da "
        "codesto ente il 6 marzo 2026",
        "esaminate le osservazioni presentate nel termine (pervenute il 10 marzo 2026)",
        "il rigetto della manifestazione di interesse",
        "Le osservazioni non superano il difetto di idoneità.",
        "Tribunale amministrativo regionale competente entro sessanta giorni",
        "Roma, 17 marzo 2026",
    )
    assert "Osservazioni." not in text  # the operator's text is not copied


def test_rigetto_after_the_term_ran_out_says_so_and_records_late_observations() -> None:
    trail, case, event = rejected("late")
    check(
        "rigetto",
        context_of(trail, case, event, "rigetto"),
        "il termine per le osservazioni è scaduto il 13 marzo 2026 senza che codesto ente ne "
        "abbia presentate",
        "le osservazioni pervenute oltre il termine (il 15 marzo 2026) sono state acquisite agli "
        "atti",
    )


def test_prescrizione_names_the_service_the_deadline_and_cause_d() -> None:
    trail = Trail()
    case = facility(trail)
    order = {"service": "c", "text": "Attivare il programma di tirocini.", "due_on": "2026-05-15"}
    event = trail.event(case, "prescribe", "registered", "registered", 20, order)
    trail.prescriptions.append(
        Prescription(
            facility_case_id=case.id,
            number=2,
            event_id=event.id,
            service="c",
            text=order["text"],
            due_on=date(2026, 5, 15),
        )
    )
    context = context_of(trail, case, event, "prescrizione")
    assert context["prescrizione"]["numero"] == 2
    check(
        "prescrizione",
        context,
        "Prescrizione n. 2",
        "Servizio art. 7 co. 2 lett. c) –",
        "programmi di reinserimento socio-lavorativo",
        "PRESCRIVE",
        "Attivare il programma di tirocini.",
        "entro il 15 maggio 2026",
        "causa di cancellazione dall’elenco (art. 5 co. 1 lett. d D.M. 128/2025)",
        "Roma, 22 marzo 2026",
    )


# cancellation notices -----------------------------------------------------------------------------
def test_invito_chiarimenti_lists_causes_facts_and_the_peremptory_30_days() -> None:
    trail = Trail()
    case = procedure(trail, facility(trail), ["a", "d"])
    event = trail.event(case, "invite", "opened", "invited", 31, {}, "art. 5 co. 2")
    context = context_of(trail, case, event, "invito_chiarimenti")
    assert [c["lettera"] for c in context["procedimento"]["cause"]] == ["a", "d"]
    assert context["struttura"]["pratica"] == "STR-2026-000001"
    check(
        "invito_chiarimenti",
        context,
        "invito a fornire chiarimenti",
        f"Destinatari {FACILITY_PARTY.printed()} Oggetto:",
        "pratica CANC-2026-000010",  # the subject's reference: the procedure's
        "richiamare il procedimento n. CANC-2026-000010",
        "lett. a) mancata comunicazione delle variazioni dei requisiti",
        "lett. d) inottemperanza alle prescrizioni sui servizi di cui all'art. 7",
        "Fatti rilevati:",
        "Fatti rilevati.",
        "entro il termine perentorio di trenta (30) giorni dal ricevimento della presente "
        "comunicazione (art. 5 co. 2 D.M. 128/2025)",
        "pervenuti dopo la sua scadenza sono acquisiti agli atti ma non sono valutati",
        "(art. 5 co. 5)",
        "Roma, 2 aprile 2026",
    )


def contested(trail: Trail, case: Case) -> None:
    """Invited, the receipt, clarifications in the term and late, the term closed."""
    trail.event(case, "invite", "opened", "invited", 31)
    trail.event(case, "record_receipt", "invited", "clarifying", 33, {"received_on": "2026-04-04"})
    clarified = {"text": "Chiarimenti dell’ente.", "documents": 3}
    trail.event(case, "clarify", "clarifying", "clarifying", 40, clarified)
    trail.event(case, "clarifications_closed", "clarifying", "examining", 64)
    trail.event(case, "clarify", "examining", "examining", 66, {"text": "Tardi.", "documents": 0})


def test_contestazione_gives_the_chosen_defence_days_from_receipt() -> None:
    trail = Trail()
    case = procedure(trail, facility(trail), ["b"])
    contested(trail, case)
    contestation: dict[str, Any] = {
        "facts": "Il responsabile del servizio di assistenza non è più in organico.",
        "rules_breached": "art. 7 co. 2 lett. b e art. 4 D.M. 128/2025",
        "defence_days": 25,
    }
    event = trail.event(case, "contest", "examining", "contested", 70, contestation)
    context = context_of(trail, case, event, "contestazione")
    assert context["procedimento"]["giorni_difesa"] == 25
    text = check(
        "contestazione",
        context,
        "CONTESTA FORMALMENTE",
        "comunicazione del 2 aprile 2026, ricevuta da codesto ente il 4 aprile 2026",
        "presentati nel termine (l’11 aprile 2026, con 3 documenti)",
        "quanto pervenuto oltre il termine perentorio (il 7 maggio 2026) è stato acquisito agli "
        "atti e non è stato valutato (art. 5 co. 2)",
        contestation["facts"],
        "Disposizioni che si ritengono violate: art. 7 co. 2 lett. b e art. 4 D.M. 128/2025",
        "alla causa di cancellazione di cui all’art. 5 co. 1 D.M. 128/2025: lett. b)",
        "il termine di 25 giorni dal ricevimento della presente contestazione",
        "non inferiore a quindici e non superiore a quarantacinque giorni",
        "art. 5 co. 3",
        "(art. 5 co. 4)",
        "Roma, 11 maggio 2026",
    )
    assert "Chiarimenti dell’ente." not in text and "Fatti rilevati." not in text


def cancelled_by_decision(suspended: bool) -> tuple[Trail, Case, CaseEvent]:
    trail = Trail()
    case = procedure(trail, facility(trail), ["a", "b"])
    if suspended:
        trail.event(case, "suspend", "opened", "opened", 30, {"reasons": "Gravità."})
    contested(trail, case)
    contestation = {"facts": "Fatti.", "rules_breached": "art. 4 D.M. 128/2025", "defence_days": 20}
    trail.event(case, "contest", "examining", "contested", 70, contestation)
    trail.event(case, "record_receipt", "contested", "defending", 71, {"received_on": "2026-05-12"})
    trail.event(case, "defend", "defending", "defending", 80, {"text": "Difese.", "documents": 1})
    trail.event(case, "defence_closed", "defending", "deciding", 92)
    decision = {"reasons": "Le difese non dimostrano il ripristino del requisito."}
    event = trail.event(case, "cancel", "deciding", "cancelled", 95, decision, "art. 5 co. 4")
    trail.entries[1].cancelled_on = date(2026, 6, 5)
    return trail, case, event


def test_cancellazione_by_reasoned_decision_absorbs_the_suspension_and_frees_places() -> None:
    trail, case, event = cancelled_by_decision(suspended=True)
    context = context_of(trail, case, event, "cancellazione")
    assert context["atto"] == "cancel"
    assert context["procedimento"]["sospesa_dal"] == date(2026, 4, 1)
    check(
        "cancellazione",
        context,
        "Provvedimento di cancellazione dall’elenco delle strutture residenziali",
        f"Destinatari {FACILITY_PARTY.printed()} Oggetto:",
        "vista la contestazione formale dell’11 maggio 2026, ricevuta da codesto ente il "
        "12 maggio 2026",
        "l’assegnazione del termine di 20 giorni per difese",
        "esaminate le difese e le produzioni documentali presentate nel termine (il 21 maggio "
        "2026)",
        "non ha fornito elementi idonei a superare la contestazione",
        "Le difese non dimostrano il ripristino del requisito.",
        "la cancellazione della struttura residenziale «Comunità San Martino» dalla sezione Lazio",
        "con effetto dal 5 giugno 2026 (art. 5 co. 4 D.M. 128/2025)",
        "con effetto dal 1° aprile 2026 (art. 5 co. 6), resta assorbita nella cancellazione",
        "i posti riservati e non occupati sono liberati",
        "conservando il numero di protocollo",
        "Tribunale amministrativo regionale",
        "Roma, 5 giugno 2026",
    )


def test_cancellazione_without_a_suspension_does_not_mention_one() -> None:
    trail, case, event = cancelled_by_decision(suspended=False)
    text = check("cancellazione", context_of(trail, case, event, "cancellazione"))
    assert "assorbita" not in text
    assert "i posti riservati e non occupati sono liberati" in text


def test_cancellazione_on_giving_up_is_on_the_record_as_it_stands() -> None:
    trail = Trail()
    case = procedure(trail, facility(trail), ["c"])
    trail.event(case, "suspend", "opened", "opened", 31, {"reasons": "Urgenza."})
    trail.event(case, "invite", "opened", "invited", 32)
    event = trail.event(case, "give_up", "invited", "cancelled", 34, {}, "art. 5 co. 5")
    context = context_of(trail, case, event, "cancellazione")
    text = check(
        "cancellazione",
        context,
        "ha dichiarato di non avere interesse al mantenimento dell’iscrizione nell’elenco "
        "(art. 5 co. 5, primo periodo)",
        "la cancellazione, allo stato degli atti, della struttura residenziale",
        "con effetto dal 5 aprile 2026 (art. 5 co. 5 D.M. 128/2025)",
        "con effetto dal 2 aprile 2026 (art. 5 co. 6), resta assorbita nella cancellazione",
        "i posti riservati e non occupati sono liberati",
        "lett. c), divulgazione di dati personali dei residenti",
    )
    assert "elementi idonei a superare la contestazione" not in text
    assert "art. 5 co. 4 D.M. 128/2025)" not in text


def test_archiviazione_ends_the_suspension() -> None:
    trail = Trail()
    case = procedure(trail, facility(trail), ["b"])
    trail.event(case, "suspend", "opened", "opened", 30, {"reasons": "Gravità."})
    contested(trail, case)
    decision = {"reasons": "I chiarimenti dimostrano il possesso del requisito."}
    event = trail.event(case, "archive", "examining", "archived", 68, decision, "art. 5 co. 3-4")
    check(
        "archiviazione",
        context_of(trail, case, event, "archiviazione"),
        "Provvedimento di archiviazione",
        "I chiarimenti dimostrano il possesso del requisito.",
        "l’archiviazione del procedimento di cancellazione n. CANC-2026-000010",
        "La struttura resta iscritta nella sezione Lazio dell’elenco",
        "con effetto dal 1° aprile 2026 (art. 5 co. 6), cessa con la conclusione del procedimento "
        "a decorrere dal 9 maggio 2026",
        "Roma, 9 maggio 2026",
    )


def test_sospensione_during_the_procedure_stops_new_placements() -> None:
    trail = Trail()
    case = procedure(trail, facility(trail), ["b", "c"])
    trail.event(case, "invite", "opened", "invited", 31)
    reasons = {"reasons": "Gravità dei fatti segnalati dal Nucleo di polizia penitenziaria."}
    event = trail.event(case, "suspend", "invited", "invited", 32, reasons, "art. 5 co. 6")
    check(
        "sospensione",
        context_of(trail, case, event, "sospensione"),
        "Provvedimento di sospensione dall’elenco",
        "art. 5 co. 6",
        reasons["reasons"],
        "la sospensione della struttura residenziale «Comunità San Martino» dalla sezione Lazio",
        "con effetto dal 3 aprile 2026 e per la durata del procedimento n. CANC-2026-000010",
        "non possono essere rilasciate attestazioni di disponibilità di posto presso la "
        "struttura né disposti nuovi collocamenti",
        "alle cause di cancellazione di cui all’art. 5 co. 1 D.M. 128/2025: lett. b)",
        "Roma, 3 aprile 2026",
    )


def test_revoca_sospensione_names_the_suspension_it_lifts() -> None:
    trail = Trail()
    case = procedure(trail, facility(trail), ["b"])
    trail.event(case, "suspend", "opened", "opened", 31, {"reasons": "Gravità."})
    reasons = {"reasons": "Il requisito è stato ripristinato."}
    event = trail.event(case, "lift", "opened", "opened", 45, reasons, "art. 5 co. 6")
    context = context_of(trail, case, event, "revoca_sospensione")
    assert context["procedimento"]["sospesa_dal"] == date(2026, 4, 2)
    check(
        "revoca_sospensione",
        context,
        "Provvedimento di revoca della sospensione",
        "disposta nel corso del procedimento con effetto dal 2 aprile 2026",
        reasons["reasons"],
        "la revoca della sospensione",
        "con effetto dal 16 aprile 2026 (art. 5 co. 6 D.M. 128/2025)",
        "non conclude il procedimento di cancellazione n. CANC-2026-000010",
        "Roma, 16 aprile 2026",
    )


def test_a_procedure_without_its_record_is_an_error() -> None:
    trail = Trail()
    case = procedure(trail, facility(trail), ["b"])
    del trail.procedures[case.id]
    with pytest.raises(ValueError, match="no procedure record"):
        context_of(trail, case, trail.history(case.id)[-1], "invito_chiarimenti")


# placements: the facility cancelled --------------------------------------------------------------
UIEPE_RM = "Ufficio interdistrettuale di esecuzione penale esterna di Roma"
COURT_RM = "Tribunale di sorveglianza di Roma"
PRISON_RM = "Casa circondariale di Roma Rebibbia"


def placement_context(**posto: Any) -> dict[str, Any]:
    """A placement's notice context (services/placements/notices.py)."""
    cancelled_at = datetime(2026, 6, 5, 8, 0, tzinfo=UTC)
    uiepe = {"codice": "UIEPE-RM", "nome": UIEPE_RM, "sede": "Roma"}
    return {
        "emesso_il": cancelled_at,
        "reference": "ATT-2026-000007",
        "kind": "attestazione di disponibilità di posto in struttura residenziale",
        "from_state": "all'autorità giudiziaria",
        "to_state": "in attesa di posto e copertura finanziaria",
        "message": {"template": "struttura_cancellata", "reference": "ATT-2026-000007"},
        "event": {
            "trigger": "ritorno in coda: struttura cancellata dall'elenco",
            "sequence": 6,
            "occurred_at": cancelled_at,
            "effective_at": cancelled_at,
            "legal_basis": "art. 5 co. 4-5 e art. 12 co. 5 D.M. 128/2025",
        },
        "emittente": uiepe,
        "parti": {
            "court": COURT_RM,
            "prison": PRISON_RM,
            "facility": FACILITY_NAME,
            "office": UIEPE_RM,
            "directorate": PARTIES["directorate"],
        },
        "uiepe": uiepe,
        "istanza": {
            "istituto": PRISON_RM,
            "autorita": COURT_RM,
            "presentata_il": date(2026, 4, 1),
            "protocollo": "44/2026",
            "protocollata_il": datetime(2026, 4, 3, 8, 30, tzinfo=UTC),
        },
        "posto": {
            "struttura": FACILITY_NAME,
            "ente_gestore": OPERATOR,
            "indirizzo": ADDRESS,
            "sezione": "Lazio",
            "convenzione": "CONV-RM-2026-01",
            "numero": 4,
            "tariffa": Decimal("48.00"),
            "rilasciata_il": date(2026, 5, 10),
            "valida_fino_al": date(2026, 7, 10),
            "ingresso": None,
            "fine_finanziamento": None,
            "uscita": None,
            "impegno": Decimal("11664.00"),
            "anno_finanziario": 2026,
            **posto,
        },
        "presenze": None,
        "liberato_da": None,
        "decisione": {"data": None, "autorita": None, "numero": None, "decorrenza": None},
        "motivo": None,
    }


def test_struttura_cancellata_sends_the_application_back_to_the_queue_with_its_protocol() -> None:
    check(
        "struttura_cancellata",
        placement_context(),
        f"Destinatari {Addressee('court', COURT_RM).printed()} "
        f"{Addressee('prison', PRISON_RM).printed()} Oggetto:",
        "Ufficio interdistrettuale di esecuzione penale esterna di Roma",
        "Roma, 5 giugno 2026",
        f"«{FACILITY_NAME}», gestita da {OPERATOR}",
        "posto n. 4",
        "rilasciata da questo Ufficio il 10 maggio 2026",
        "cancellata dall’elenco delle strutture residenziali con effetto dal 5 giugno 2026",
        "l’attestazione perde i suoi effetti",
        "conservando il numero di protocollo n. 44/2026 del 3 aprile 2026, ore 10:30",
        "secondo l’ordine di acquisizione al protocollo (art. 12 co. 5 D.M. 128/2025)",
        "art. 12 co. 11",
    )


def test_struttura_cancellata_collocamento_keeps_the_place_until_the_uiepe_moves_the_person() -> (
    None
):
    placed = placement_context(ingresso=date(2026, 3, 1), fine_finanziamento=date(2026, 10, 31))
    placed["message"] = {
        "template": "struttura_cancellata_collocamento",
        "reference": "ATT-2026-000007",
        "facility": "FAC-RM-01",
        "place": 4,
    }
    text = check(
        "struttura_cancellata_collocamento",
        placed,
        f"Destinatari {Addressee('office', UIEPE_RM).printed()} "
        f"{Addressee('court', COURT_RM).printed()} Oggetto:",
        "Si trasmette la presente, per conoscenza, a codesta Autorità giudiziaria",
        "è collocata dal 1° marzo 2026",
        "cancellata dall’elenco delle strutture residenziali",
        "Il domicilio presso la struttura è stato fissato dall’Autorità giudiziaria",
        "il posto resta assegnato alla persona interessata fino a quando questo Ufficio non ne "
        "disponga il trasferimento",
        "Fine del periodo finanziato 31 ottobre 2026",
    )
    assert "con effetto dal" not in text  # the message gives no date: none is invented
    granted = placement_context()
    granted["message"] = {**placed["message"], "on": "2026-06-05"}
    check(
        "struttura_cancellata_collocamento",
        granted,
        "è stata ammessa alla misura penale di comunità, con domicilio presso la struttura",
        "con effetto dal 5 giugno 2026",
        "Ingresso in struttura non ancora avvenuto",
    )


def test_every_notice_the_machines_name_has_its_template() -> None:
    named = {
        notice
        for machine in (FACILITY, CANCELLATION)
        for transition in machine.transitions
        for notice in transition.notices
    }
    assert named == {
        "preavviso_rigetto", "iscrizione", "rigetto", "prescrizione", "invito_chiarimenti",
        "contestazione", "archiviazione", "cancellazione", "sospensione", "revoca_sospensione",
    }  # fmt: skip
    for notice in named:
        assert (TEMPLATES / f"{notice}.html").is_file(), notice
    for notice in ("struttura_cancellata", "struttura_cancellata_collocamento"):
        assert (PLACEMENT_TEMPLATES / f"{notice}.html").is_file(), notice

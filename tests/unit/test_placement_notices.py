"""The notices of funded placements (D.M. 128/2025 arts. 11-14), rendered to PDF without a
database: each one must carry the facts a clerk relies on, written in Italian."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from jinja2 import UndefinedError
from pypdf import PdfReader

from documents.render import render_html, render_notice
from machines.placements import MACHINE
from services.placements.notices import TEMPLATES
from services.placements.procedure import PROCEDURE
from services.procedure import PARTIES
from tests.support.official import Addressee, with_act

ISSUED_AT = datetime(2026, 12, 31, 8, 15, tzinfo=UTC)
REFERENCE = "ATT-2026-000001"
FREED = "ATT-2026-000042"
FACILITY = "Casa di accoglienza San Martino"
OPERATOR = "Cooperativa sociale Il Ponte"
ADDRESS = "Via Nizza 150, 10126 Torino"
PRISON = "Casa circondariale Lorusso e Cutugno"
COURT = "Tribunale di sorveglianza di Torino"
CONVENTION = "CONV-TO-2026-03"


UIEPE = "Ufficio interdistrettuale di esecuzione penale esterna di Torino"
COURT_PARTY = Addressee("court", COURT)
PRISON_PARTY = Addressee("prison", PRISON)
FACILITY_PARTY = Addressee("facility", FACILITY)
OFFICE_PARTY = Addressee("office", UIEPE)


FOLDERS = (TEMPLATES,)


def act(template: str, context: dict[str, Any]) -> dict[str, Any]:
    """The context as services/notices.py completes it for `template` (a notice of the
    outbox): its letterhead, number, addressees, subject, place and date, signature."""
    if template not in PROCEDURE.notices:  # a report rendered at once (the monitoring)
        return context
    return with_act(context, PROCEDURE.notices[template], registered_at=ISSUED_AT)


def pdf_text(template: str, context: dict[str, Any]) -> str:
    """The PDF's text, whitespace normalised (extraction may break lines anywhere)."""
    pdf = render_notice(template, act(template, context), FOLDERS).pdf
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def case_context(trigger: str = "rilascio dell'attestazione", **changes: Any) -> dict[str, Any]:
    """A placement case's notice context, as services/notices.py and
    services/placements/notices.py build it (the shared keys of the act added by `act`)."""
    uiepe = {"codice": "UIEPE-TO", "nome": UIEPE, "sede": "Torino"}
    context: dict[str, Any] = {
        "emesso_il": ISSUED_AT,
        "reference": REFERENCE,
        "kind": "attestazione di disponibilità di posto in struttura residenziale",
        "from_state": "in attesa di posto e copertura finanziaria",
        "to_state": "attestazione rilasciata",
        "message": {"template": "attestazione", "reference": REFERENCE},
        "event": {
            "trigger": trigger,
            "sequence": 5,
            "occurred_at": ISSUED_AT,
            "effective_at": ISSUED_AT,
            "legal_basis": "art. 12 co. 4 e 6, art. 13 co. 6 D.M. 128/2025",
        },
        "emittente": uiepe,
        "parti": {
            "court": COURT,
            "prison": PRISON,
            "facility": FACILITY,
            "office": UIEPE,
            "directorate": PARTIES["directorate"],
        },
        "uiepe": uiepe,
        "istanza": {
            "istituto": PRISON,
            "autorita": COURT,
            "presentata_il": date(2026, 11, 20),
            "protocollo": "12/2026",
            "protocollata_il": datetime(2026, 12, 15, 9, 30, tzinfo=UTC),
        },
        "posto": {
            "struttura": FACILITY,
            "ente_gestore": OPERATOR,
            "indirizzo": ADDRESS,
            "sezione": "Piemonte e Valle d'Aosta",
            "convenzione": CONVENTION,
            "numero": 3,
            "tariffa": Decimal("52.30"),
            "rilasciata_il": date(2026, 12, 31),
            # Two months from issue: 31 December + 2 months = 28 February (art. 12 co. 6).
            "valida_fino_al": date(2027, 2, 28),
            "ingresso": None,
            "fine_finanziamento": None,
            "uscita": None,
            "impegno": Decimal("12813.50"),
            "anno_finanziario": 2026,
        },
        "presenze": None,
        "liberato_da": None,
        "decisione": {"data": None, "autorita": None, "numero": None, "decorrenza": None},
        "motivo": None,
    }
    context.update(changes)
    return context


def placed(**posto: Any) -> dict[str, Any]:
    """The place of a person who entered on 15 March 2027 (funded until 14 November 2027)."""
    context = case_context()
    context["posto"] = {
        **context["posto"],
        "ingresso": date(2027, 3, 15),
        "fine_finanziamento": date(2027, 11, 14),
        **posto,
    }
    return context


def test_attestazione_names_place_money_validity_and_the_rules() -> None:
    text = pdf_text("attestazione", case_context())
    for fact in (
        f"Destinatari {COURT_PARTY.printed()} {PRISON_PARTY.printed()} "
        f"{FACILITY_PARTY.printed()} Oggetto:",
        "Prot. n. UIEPE-TO/2026/0000001 del 31/12/2026",
        "Torino, 31 dicembre 2026",
        "Attestazione di disponibilità di posto in struttura residenziale",
        "ATTESTA",
        REFERENCE,
        FACILITY,
        OPERATOR,
        ADDRESS,
        "Piemonte e Valle",
        CONVENTION,
        "n. 3",
        "€ 52,30",
        "€ 12.813,50",
        "esercizio 2026",
        "31 dicembre 2026",
        "valida fino al 28 febbraio 2027",
        PRISON,
        COURT,
        "20 novembre 2026",
        "n. 12/2026 del 15 dicembre 2026, ore 10:30",
        "art. 12 co. 6",
        "art. 13 co. 6",
        "art. 11 co. 4",
        "art. 13 co. 5",
        "art. 12 co. 8",
        "art. 12 co. 10",
        "art. 12 co. 11",
        "otto mesi",
        "perde immediatamente i suoi effetti",
        "ordine di acquisizione al protocollo",
    ):
        assert fact in text, fact
    assert FREED not in text


def test_attestazione_of_a_freed_place_says_whose_it_was() -> None:
    text = pdf_text("attestazione", case_context(liberato_da=FREED))
    assert f"rilasciata nella pratica {FREED}" in text
    assert "art. 12 co. 9" in text


def test_attestazione_without_protocol_shows_a_dash() -> None:
    istanza = {**case_context()["istanza"], "protocollo": None, "protocollata_il": None}
    text = pdf_text("attestazione", case_context(istanza=istanza))
    assert "n. 12/2026" not in text
    assert "Protocollo dell’Ufficio —" in text


def test_trasmissione_asks_the_court_to_report_every_decision() -> None:
    text = pdf_text("trasmissione_attestazione", case_context(trigger="trasmissione"))
    for fact in (
        f"Destinatari {COURT_PARTY.printed()} {PRISON_PARTY.printed()} Oggetto:",
        COURT,
        "Cancelleria",
        PRISON,
        REFERENCE,
        FACILITY,
        CONVENTION,
        "Posto n. 3",
        "valida fino al 28 febbraio 2027",
        "rilasciata da questo Ufficio il 31 dicembre 2026",
        "anche in caso di rigetto dell’istanza",
        "art. 12 co. 4 e 8",
        "(art. 12 co. 8)",
        "immediatamente",
    ):
        assert fact in text, fact


# The template tells the causes apart by the machine's labels of the triggers.
CAUSES = {
    "reject": ("rigetto", "art. 12 co. 8 e 10 D.M. 128/2025"),
    "lapse": ("decadenza dell'attestazione", "art. 12 co. 9 D.M. 128/2025"),
    "withdraw": ("rinuncia", "art. 12 co. 1 e 9 D.M. 128/2025"),
}


def test_the_causes_are_the_machines_labels() -> None:
    for trigger, (label, _) in CAUSES.items():
        assert MACHINE.label(trigger) == label


def lost(trigger: str, **changes: Any) -> str:
    label, legal_basis = CAUSES[trigger]
    context = case_context(trigger=label, to_state=MACHINE.label(trigger), **changes)
    context["event"] = {**context["event"], "legal_basis": legal_basis}
    return pdf_text("perdita_efficacia", context)


def test_perdita_efficacia_by_rejection_cites_co_10_and_the_decision() -> None:
    decision = {"data": "2027-01-20", "autorita": COURT, "numero": "SIUS 2026/4567"}
    text = lost("reject", decisione=decision)
    assert "Rigetto dell’istanza" in text
    assert "n. SIUS 2026/4567 del 20 gennaio 2027" in text
    assert f"l’Autorità giudiziaria ({COURT}) ha rigettato" in text
    assert "perde immediatamente i suoi effetti (art. 12 co. 10" in text
    assert "co. 9, primo periodo" not in text
    assert "Rinuncia." not in text


def test_perdita_efficacia_by_rejection_falls_back_on_the_court_of_the_application() -> None:
    other = "Magistrato di sorveglianza di Cuneo"
    text = lost("reject", decisione={"data": "2027-01-20", "autorita": None, "numero": None})
    assert "decisione del 20 gennaio 2027, comunicata" in text
    assert f"l’Autorità giudiziaria ({COURT}) ha rigettato" in text
    text = lost("reject", decisione={"data": "2027-01-20", "autorita": other, "numero": None})
    assert f"l’Autorità giudiziaria ({other}) ha rigettato" in text


def test_perdita_efficacia_by_lapse_cites_co_9_and_the_validity_end() -> None:
    text = lost("lapse")
    assert "Decorso del termine di validità" in text
    assert "scaduto il 28 febbraio 2027 senza che" in text
    assert "art. 12 co. 9, primo periodo" in text
    assert "co. 10" not in text
    assert "Rigetto" not in text


def test_perdita_efficacia_by_withdrawal_names_the_withdrawal() -> None:
    text = lost("withdraw", motivo="diverso domicilio reperito")
    assert "Rinuncia." in text
    assert "ha rinunciato all’istanza" in text
    assert "diverso domicilio reperito" in text
    assert "co. 10" not in text
    assert "primo periodo" not in text


@pytest.mark.parametrize("trigger", list(CAUSES))
def test_perdita_efficacia_addresses_and_frees_the_place(trigger: str) -> None:
    decision = {"data": "2027-01-20", "autorita": COURT, "numero": None}
    text = lost(trigger, decisione=decision)
    for fact in (
        # the declared addressees, in order: the court, the prison, the facility
        f"Destinatari {COURT_PARTY.printed()} {PRISON_PARTY.printed()} "
        f"{FACILITY_PARTY.printed()} Oggetto:",
        f"pratica {REFERENCE}",
        "L’ente gestore non è più tenuto a riservare il posto",
        FACILITY,
        "il posto n. 3",
        "è liberato",
        "ordine di acquisizione delle istanze al protocollo",
        "art. 12 co. 5 e 9",
        "art. 12 co. 11",
        "valida fino al 28 febbraio 2027",
    ):
        assert fact in text, fact


def test_riassegnazione_moves_the_place_from_one_case_to_the_next() -> None:
    text = pdf_text("riassegnazione", case_context(liberato_da=FREED))
    for fact in (
        f"Destinatari {FACILITY_PARTY.printed()} {PRISON_PARTY.printed()} Oggetto:",
        f"il posto n. 3 della struttura residenziale {FACILITY}",
        f"già riservato nella pratica {FREED}",
        f"Ora riservato nella pratica {REFERENCE}",
        "art. 12 co. 9",
        "art. 12 co. 5",
        "valida fino al 28 febbraio 2027",
        "fino al 28 febbraio 2027 compreso",
    ):
        assert fact in text, fact


def test_avviso_fine_finanziamento_gives_the_last_funded_day() -> None:
    context = placed()
    context["message"] = {
        "template": "avviso_fine_finanziamento",
        "reference": REFERENCE,
        "term": "permanenza con oneri a carico dell'Amministrazione",
        "last_day": "2027-11-14",
        "days": 30,
        "legal_basis": "art. 11 co. 4 D.M. 128/2025",
    }
    text = pdf_text("avviso_fine_finanziamento", context)
    for fact in (
        "tra 30 giorni",
        "Ultimo giorno di permanenza con oneri a carico dell’Amministrazione: 14 novembre 2027",
        "Ingresso in struttura 15 marzo 2027",
        "otto mesi",
        "art. 11 co. 4",
        REFERENCE,
        FACILITY,
        f"Destinatari {FACILITY_PARTY.printed()} {OFFICE_PARTY.printed()} Oggetto:",
        "uscita dalla struttura",
        "domicilio autonomo",
    ):
        assert fact in text, fact


def ended() -> dict[str, Any]:
    """The stay ended with the exit on 1 October 2027: 15 March - 30 September 2027 is 200
    days; two of absence and two the facility never reported leave 196 of presence (art. 13
    co. 5: only those are paid)."""
    context = placed(uscita=date(2027, 10, 1))
    context["presenze"] = {
        "giorni": 196,
        "assenze": 2,
        "giorni_assenza": [date(2027, 5, 1), date(2027, 8, 15)],
        "non_rilevati": 2,
        "giorni_non_rilevati": [date(2027, 9, 29), date(2027, 9, 30)],
        "importo": Decimal("52.30") * 196,
    }
    return context


def test_prospetto_spese_shows_days_rate_and_amount() -> None:
    text = pdf_text("prospetto_spese", ended())
    for fact in (
        REFERENCE,
        FACILITY,
        COURT,
        "Ingresso in struttura 15 marzo 2027",
        "Uscita dalla struttura 1 ottobre 2027",
        "Fine del periodo finanziato 14 novembre 2027",
        "Giornate di effettiva presenza 196",
        "Giornate di assenza 2 (1 maggio 2027; 15 agosto 2027)",
        "Giorni non rilevati dalla struttura (non liquidati) 2 (29 settembre 2027; 30 settembre",
        "196 giornate × € 52,30 = € 10.250,80",
        "Importo delle spese di permanenza € 10.250,80",
        "art. 14",
        "parte VII del D.P.R. 30 maggio 2002, n. 115",
        "art. 13 co. 5",
    ):
        assert fact in text, fact


@dataclass(frozen=True)
class Figures:
    """Shaped like services.budget.Figures (not imported: it would drag in the database)."""

    scope: str
    allocated: Decimal
    committed: Decimal
    spent: Decimal
    projected: Decimal
    reserved: int
    occupied: int
    waiting: int

    @property
    def available(self) -> Decimal:
        return self.allocated - self.spent - self.committed


TORINO = Figures(
    "UIEPE-TO",
    Decimal("1234567.89"),
    Decimal("25627.00"),
    Decimal("10355.40"),
    Decimal("35982.40"),
    2,
    1,
    4,
)
ROMA = Figures(
    "UIEPE-RM",
    Decimal("5765432.11"),
    Decimal("0.00"),
    Decimal("0.00"),
    Decimal("0.00"),
    0,
    0,
    0,
)
NATIONAL = Figures(
    "NAZIONALE",
    Decimal("7000000.00"),
    Decimal("25627.00"),
    Decimal("10355.40"),
    Decimal("35982.40"),
    2,
    1,
    4,
)


def monitoring_context(**changes: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "ufficio": "Direzione generale per l'esecuzione penale esterna e di messa alla prova",
        "numero": "MON-2027-Q1-NAZIONALE",
        "luogo_data": "Roma, 1 aprile 2027",
        "emesso_il": datetime(2027, 4, 1, 7, 0, tzinfo=UTC),
        "period": "2027-Q1",
        "year": 2027,
        "quarter": 1,
        "appropriation": Decimal("7000000.00"),
        "stop": None,
        "national": NATIONAL,
        "figures": NATIONAL,
        "offices": [TORINO, ROMA],
    }
    context.update(changes)
    return context


def test_monitoraggio_has_a_row_per_uiepe_and_the_national_total() -> None:
    text = pdf_text("monitoraggio_trimestrale", monitoring_context())
    for fact in (
        "1° trimestre 2027",
        "2027-Q1",
        "art. 13 co. 7",
        "Ambito del prospetto nazionale",
        "Stanziamento annuale € 7.000.000,00",
        "Posti riservati",
        "Istanze in attesa",
        # UIEPE, assigned, committed, spent, projected, available, reserved, occupied, waiting
        "UIEPE-TO € 1.234.567,89 € 25.627,00 € 10.355,40 € 35.982,40 € 1.198.585,49 2 1 4",
        "UIEPE-RM € 5.765.432,11 € 0,00 € 0,00 € 0,00 € 5.765.432,11 0 0 0",
        "Totale nazionale € 7.000.000,00 € 25.627,00 € 10.355,40 € 35.982,40 € 6.964.017,60 2 1 4",
        "continuano ad accogliere le nuove domande",
    ):
        assert fact in text, fact
    assert "Sospensione" not in text


def test_monitoraggio_of_one_uiepe_names_its_scope() -> None:
    context = monitoring_context(figures=TORINO, offices=[TORINO], numero="MON-2027-Q1-UIEPE-TO")
    text = pdf_text("monitoraggio_trimestrale", context)
    assert "Ambito del prospetto UIEPE UIEPE-TO" in text
    assert "UIEPE-RM" not in text
    assert "Totale nazionale € 7.000.000,00" in text


def test_monitoraggio_reports_the_stop_on_new_applications() -> None:
    reason = "proiezione di spesa pari allo stanziamento"
    text = pdf_text("monitoraggio_trimestrale", monitoring_context(stop=reason))
    assert "Sospensione dell’accoglimento di nuove domande" in text
    assert "non procedere all’accoglimento delle ulteriori domande" in text
    assert reason in text
    assert "continuano ad accogliere" not in text


@pytest.mark.parametrize(
    ("template", "context", "missing"),
    [
        ("attestazione", act("attestazione", case_context()), "posto"),
        (
            "perdita_efficacia",
            act("perdita_efficacia", case_context(trigger="rigetto")),
            "decisione",
        ),
        ("riassegnazione", act("riassegnazione", case_context()), "liberato_da"),
        ("prospetto_spese", act("prospetto_spese", ended()), "istanza"),
        ("attestazione", act("attestazione", case_context()), "destinatari"),
        ("monitoraggio_trimestrale", monitoring_context(), "national"),
    ],
)
def test_a_missing_variable_is_an_error(
    template: str, context: dict[str, Any], missing: str
) -> None:
    render_html(template, context, FOLDERS)  # complete, it renders
    del context[missing]
    with pytest.raises(UndefinedError, match=missing):
        render_html(template, context, FOLDERS)


def test_every_placement_notice_escapes_what_it_is_given() -> None:
    context = case_context(trigger="rinuncia", motivo="<script>x</script>")
    html = render_html("perdita_efficacia", act("perdita_efficacia", context), FOLDERS)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_placement_notices_are_deterministic() -> None:
    first = render_notice("attestazione", act("attestazione", case_context()), FOLDERS)
    second = render_notice("attestazione", act("attestazione", case_context()), FOLDERS)
    assert first.sha256 == second.sha256

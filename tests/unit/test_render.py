"""The renderer: Italian filters, strict and escaped templates, deterministic PDFs."""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import UndefinedError
from pypdf import PdfReader

from documents.render import data_it, data_ora_it, euro, render_html, render_notice
from services.notices import SHARED_NOTICES
from tests.support.official import (
    DIGITAL_SIGNATURE,
    Addressee,
    Official,
    act_context,
    check_official,
    is_pdfa3b,
    unembedded_fonts,
)

EVENT_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REGISTERED_AT = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # numbered two days after the event
OFFICE = "Ufficio interdistrettuale di esecuzione penale esterna di Roma"
OFFICE_PEC = "prot.uiepe.roma@pec.giustizia.example"


def notice_context(**changes: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        **act_context(
            issuer=OFFICE,
            place="Roma",
            notice=SHARED_NOTICES["notifica_cambio_stato"],
            parties={"office": OFFICE},
            reference="DEM-2026-000001",
            day=date(2026, 3, 2),
            registered_at=REGISTERED_AT,
            number="UIEPE-RM/2026/0000017",
        ),
        "kind": "demo",
        "from_state": "under review",
        "to_state": "granted",
        "event": {
            "trigger": "grant",
            "sequence": 4,
            "occurred_at": EVENT_AT,
            "effective_at": EVENT_AT,
            "legal_basis": "art. 3 demo",
        },
    }
    context.update(changes)
    return context


def test_data_it_formats_dates_in_italian() -> None:
    assert data_it(date(2026, 3, 2)) == "2 marzo 2026"
    assert data_it(date(2026, 12, 31)) == "31 dicembre 2026"


def test_data_it_converts_datetimes_to_italian_time() -> None:
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 00:30 of 2 March in Rome
    assert data_it(late_evening) == "2 marzo 2026"
    assert data_ora_it(late_evening) == "2 marzo 2026, ore 00:30"


def test_data_ora_it_follows_summer_time() -> None:
    assert data_ora_it(EVENT_AT) == "2 marzo 2026, ore 10:00"
    assert data_ora_it(datetime(2026, 7, 1, 8, 5, tzinfo=UTC)) == "1 luglio 2026, ore 10:05"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        data_it(datetime(2026, 3, 2, 9, 0))


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "€ 0,00"),
        (5, "€ 5,00"),
        (Decimal("1234.56"), "€ 1.234,56"),
        ("1234567.891", "€ 1.234.567,89"),
        (Decimal("0.005"), "€ 0,01"),
        (Decimal("2.675"), "€ 2,68"),
        (Decimal("-1234.5"), "€ -1.234,50"),
        (Decimal("-0.004"), "€ 0,00"),
        (Decimal("999.995"), "€ 1.000,00"),
    ],
)
def test_euro_groups_and_rounds_half_up(amount: Decimal | int | str, expected: str) -> None:
    assert euro(amount) == expected


@pytest.mark.parametrize("amount", [1.5, True])
def test_euro_refuses_floats_and_booleans(amount: object) -> None:
    with pytest.raises(TypeError):
        euro(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["dodici", "NaN", "Infinity"])
def test_euro_refuses_what_is_not_an_amount(amount: str) -> None:
    with pytest.raises(ValueError):
        euro(amount)


def _parse_euro(text: str) -> Decimal:
    assert text.startswith("€ ")
    return Decimal(text.removeprefix("€ ").replace(".", "").replace(",", "."))


@given(st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, places=4))
def test_euro_round_trips_to_the_quantized_amount(amount: Decimal) -> None:
    text = euro(amount)
    assert _parse_euro(text) == amount.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    whole = text.removeprefix("€ ").removeprefix("-").split(",")[0]
    assert all(len(group) == 3 for group in whole.split(".")[1:])


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_euro_takes_integers_of_any_size(amount: int) -> None:
    assert _parse_euro(euro(amount)) == amount


@pytest.mark.parametrize("missing", ["intestazione", "protocollo", "destinatari", "firma"])
def test_a_missing_variable_is_an_error(missing: str) -> None:
    context = notice_context()
    del context[missing]
    with pytest.raises(UndefinedError, match=missing):
        render_html("notifica_cambio_stato", context)


def test_html_is_escaped() -> None:
    html = render_html("notifica_cambio_stato", notice_context(kind="<script>alert(1)</script>"))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_notice_renders_to_a_deterministic_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    first = render_notice("notifica_cambio_stato", notice_context())
    an_hour_later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: an_hour_later)
    second = render_notice("notifica_cambio_stato", notice_context())
    assert first.pdf == second.pdf
    assert first.sha256 == hashlib.sha256(first.pdf).hexdigest()
    reader = PdfReader(io.BytesIO(first.pdf))
    text = reader.pages[0].extract_text()
    assert "Comunicazione di variazione dello stato della pratica" in text
    assert "2 marzo 2026, ore 10:00" in text
    assert "Il funzionario incaricato" in text
    assert reader.metadata is not None
    # dated when it was numbered (the render's instant), not by the wall clock
    assert reader.metadata.creation_date == reader.metadata.modification_date == REGISTERED_AT


def test_the_base_prints_the_act_the_office_signs_and_sends() -> None:
    """Letterhead, protocol number, addressees (PEC or its lack), subject, the act's place and
    date (the event's day, not the numbering's), signature block; PDF/A with fonts embedded."""
    notice = SHARED_NOTICES["notifica_cambio_stato"]
    expected = Official(
        office=OFFICE,
        protocol="UIEPE-RM/2026/0000017",
        registered_on=date(2026, 3, 4),
        addressees=[Addressee("office", OFFICE)],
        subject=notice.subject,
        reference="DEM-2026-000001",
        place="Roma",
        day=date(2026, 3, 2),
    )
    text = check_official(render_notice("notifica_cambio_stato", notice_context()).pdf, expected)
    assert "4 marzo 2026" not in text  # the act is dated the day of its event

    pec = notice_context(
        **act_context(
            issuer=OFFICE,
            place="Roma",
            notice=notice,
            parties={"office": OFFICE},
            reference="DEM-2026-000001",
            day=date(2026, 3, 2),
            registered_at=REGISTERED_AT,
            number="UIEPE-RM/2026/0000017",
            pecs={OFFICE: OFFICE_PEC},
            digital=True,
        )
    )
    check_official(
        render_notice("notifica_cambio_stato", pec).pdf,
        replace(
            expected,
            addressees=[Addressee("office", OFFICE, OFFICE_PEC)],
            signature=DIGITAL_SIGNATURE,
        ),
    )


def test_a_notice_is_an_archival_pdf_with_its_fonts_embedded() -> None:
    """PDF/A-3b: identified in the XMP metadata (pdfaid part 3, conformance B), every font
    embedded, a file identifier derived from the notice (the same notice, the same bytes)."""
    notice = render_notice("notifica_cambio_stato", notice_context())
    reader = PdfReader(io.BytesIO(notice.pdf))
    assert is_pdfa3b(notice.pdf)
    assert unembedded_fonts(notice.pdf) == []
    other = render_notice("notifica_cambio_stato", notice_context(reference="ATT-2026-000002"))
    assert reader.trailer["/ID"] != PdfReader(io.BytesIO(other.pdf)).trailer["/ID"]

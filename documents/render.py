"""Rendering of notices: Italian Jinja2 templates to HTML, and HTML to PDF with WeasyPrint.

Pure: no database. The service builds the whole context (StrictUndefined: a missing variable is
an error, never an empty string).

PDFs are deterministic: the same template and context give the same bytes. WeasyPrint 70 writes
no file identifier unless asked and takes the PDF creation and modification dates only from the
`dcterms.created`/`dcterms.modified` meta tags (filled from the context, not the wall clock).
Fonts are subset by HarfBuzz (libharfbuzz-subset0, installed by `make`): fontTools, WeasyPrint's
fallback, would stamp each subset with the current second.

Notices are archival PDFs: PDF/A-3b (WeasyPrint's `pdf/a-3b` variant: XMP identification, an
sRGB output intent, every font embedded), the file identifier PDF/A requires taken from the
HTML's digest so that the bytes stay the same for the same notice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation, localcontext
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
PDF_VARIANT = "pdf/a-3b"  # archival: identified in the XMP metadata, fonts embedded
ROME = ZoneInfo("Europe/Rome")
CENT = Decimal("0.01")
MONTHS = (
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
)


def _rome(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give an aware instant")
    return instant.astimezone(ROME)


def data_it(value: date | str) -> str:
    """A date (or its ISO text, as notices carry it), or an aware datetime seen in Italian
    time, as "2 marzo 2026"."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    day = _rome(value).date() if isinstance(value, datetime) else value
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def data_breve(value: date | datetime) -> str:
    """A date, or an aware datetime seen in Italian time, as "02/03/2026" (registers)."""
    day = _rome(value).date() if isinstance(value, datetime) else value
    return f"{day:%d/%m/%Y}"


def data_ora_it(value: datetime) -> str:
    """An aware datetime in Italian time, as "2 marzo 2026, ore 10:00"."""
    local = _rome(value)
    return f"{data_it(local.date())}, ore {local:%H:%M}"


def w3c(value: datetime) -> str:
    """An aware datetime as a W3C date in UTC, for the PDF metadata tags."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: give an aware instant")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def euro(value: Decimal | int | str) -> str:
    """An amount as "€ 1.234,56" (rounded half up to the cent); floats are refused."""
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"euro() takes a Decimal, int or str, not {type(value).__name__}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    with localcontext() as context:
        context.prec = max(context.prec, amount.adjusted() + 4)
        cents = amount.quantize(CENT, rounding="ROUND_HALF_UP")
        grouped = f"{abs(cents):,.2f}".translate(str.maketrans(",.", ".,"))
    sign = "-" if cents < 0 else ""
    return f"€ {sign}{grouped}"


@lru_cache(maxsize=16)
def environment(folders: tuple[Path, ...] = ()) -> Environment:
    """Templates are looked up in `folders` (a procedure's own), then in the shared ones
    (base.html, the stylesheet, the notices every kind may issue)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    found = Environment(
        loader=FileSystemLoader([*folders, TEMPLATES]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    found.filters.update(
        data_it=data_it, data_breve=data_breve, data_ora_it=data_ora_it, w3c=w3c, euro=euro
    )
    return found


@dataclass(frozen=True)
class RenderedNotice:
    html: str
    pdf: bytes
    sha256: str


def render_html(template: str, context: Mapping[str, Any], folders: tuple[Path, ...] = ()) -> str:
    """Render `template` (a name without ".html") with `context`."""
    return environment(folders).get_template(f"{template}.html").render(context)


def html_to_pdf(html: str) -> bytes:
    """Lay `html` out as a PDF; relative links (the stylesheet) resolve in the templates folder."""
    from weasyprint import HTML  # half a second to import: only where a PDF is made

    identifier = hashlib.sha256(html.encode()).digest()[:16]
    pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        pdf_variant=PDF_VARIANT, pdf_identifier=identifier
    )
    assert isinstance(pdf, bytes)
    return pdf


def render_notice(
    template: str, context: Mapping[str, Any], folders: tuple[Path, ...] = ()
) -> RenderedNotice:
    """HTML and PDF of a notice; `sha256` is the hex digest of the PDF bytes."""
    html = render_html(template, context, folders)
    pdf = html_to_pdf(html)
    return RenderedNotice(html=html, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest())

"""The publication of the register of facilities (art. 3 D.M. 128/2025), on SQLite and
PostgreSQL with an injected clock: the facilities registered or suspended, by section, in four
files and a stored row; republished on every change; stale after six months (art. 3 co. 6)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from machines.calendar import lapse_instant
from services import engine
from services.clock import FixedClock
from services.context import Context
from services.errors import InvalidInput
from services.register import publication
from services.register.publication import PublicationRecord, SectionCount
from storage.register.repository import RegisterRepository
from tests.conftest import START

REGISTER = ("services.register.procedure",)
STAMP = "20260302-090000"  # START in UTC, as the file names carry it

# A public body's facility meeting every requirement of arts. 6-7 (no art. 8 co. 2 people).
FACILITY: dict[str, Any] = {
    "operator_type": "a",
    "structure_type": "community",
    "housing_suitable": True,
    "hygiene_suitable": True,
    "residence_registration": True,
    "accommodation": True,
    "personal_assistance": True,
    "reintegration": True,
    "filed_on": "2026-02-20",
}


@pytest.fixture
def rctx(db: Engine) -> Context:
    """The register alone, on a database migrated with every branch (tests/conftest.py)."""
    return Context.build(db, FixedClock(START), REGISTER)


def clock(ctx: Context) -> FixedClock:
    assert isinstance(ctx.clock, FixedClock)
    return ctx.clock


def filed(ctx: Context, code: str, section: str, places: int = 4) -> str:
    data = {
        **FACILITY,
        "code": code,
        "name": f"Comunità {code}",
        "operator": f"Comune gestore di {code}",
        "address": f"Via {code} 1, {section}",
        "section": section,
        "places": places,
    }
    return engine.open_case(ctx, "facility", "ente", data).reference


def registered(ctx: Context, code: str, section: str, places: int = 4) -> str:
    """A facility filed, reviewed, heard by DAP and registered (art. 3 co. 2-4)."""
    reference = filed(ctx, code, section, places)
    engine.fire(ctx, reference, "review", "dg", {"people": []})
    opinion = {"opinion": "favourable", "given_on": "2026-02-25"}
    engine.fire(ctx, reference, "dap_opinion", "dg", opinion)
    engine.fire(ctx, reference, "register", "dg")
    return reference


def procedure(ctx: Context, facility: str) -> str:
    """A cancellation procedure on `facility` (art. 5 co. 1 b)."""
    data = {"facility": facility, "causes": ["b"], "facts": "requisito venuto meno"}
    return engine.open_case(ctx, "cancellation", "dg", data).reference


def suspended(ctx: Context, facility: str) -> str:
    """`facility` suspended during a cancellation procedure (art. 5 co. 6); the procedure."""
    opened = procedure(ctx, facility)
    engine.fire(ctx, opened, "suspend", "dg", {"reasons": "verifica in corso"})
    return opened


def cancelled(ctx: Context, facility: str) -> None:
    """`facility` cancelled: its operator gives up the registration (art. 5 co. 5)."""
    engine.fire(ctx, procedure(ctx, facility), "give_up", "dg")


def state(ctx: Context, reference: str) -> str:
    return engine.describe(ctx, reference).case.state


def the_register(ctx: Context) -> None:
    """Lazio: A suspended on 3 March, B registered, D cancelled; Piemonte: C registered;
    Campania: E only filed."""
    a = registered(ctx, "FAC-A", "Lazio", places=3)
    registered(ctx, "FAC-B", "Lazio", places=5)
    registered(ctx, "FAC-C", "Piemonte", places=2)
    d = registered(ctx, "FAC-D", "Lazio")
    filed(ctx, "FAC-E", "Campania")
    clock(ctx).advance(timedelta(days=1))
    suspended(ctx, a)
    cancelled(ctx, d)
    clock(ctx).advance(timedelta(days=1))
    assert [state(ctx, r) for r in (a, d)] == ["suspended", "cancelled"]


def row(code: str, section: str, places: int, suspended_since: str = "") -> dict[str, str]:
    return {
        "section": section,
        "code": code,
        "name": f"Comunità {code}",
        "operator": f"Comune gestore di {code}",
        "address": f"Via {code} 1, {section}",
        "places": str(places),
        "registered_on": "2026-03-02",
        "standing": "suspended" if suspended_since else "registered",
        "suspended_since": suspended_since,
    }


EXPECTED = [
    row("FAC-A", "Lazio", 3, suspended_since="2026-03-03"),
    row("FAC-B", "Lazio", 5),
    row("FAC-C", "Piemonte", 2),
]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_register_is_published_by_section_with_registered_and_suspended_only(
    rctx: Context, tmp_path: Path
) -> None:
    the_register(rctx)
    published = publication.publish(rctx, "prima pubblicazione", tmp_path)

    assert published.entries == 3
    assert published.sections == (SectionCount("Lazio", 2, 1), SectionCount("Piemonte", 1, 0))
    stamp = "20260304-090000"
    assert [p.name for p in published.paths] == [
        f"elenco-{stamp}.{fmt}" for fmt in ("html", "pdf", "csv", "json")
    ]
    for fmt in ("html", "pdf", "csv", "json"):  # the latest is the same file
        assert (tmp_path / f"elenco-latest.{fmt}").read_bytes() == (
            tmp_path / f"elenco-{stamp}.{fmt}"
        ).read_bytes()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left

    # CSV: the header in English, one row per facility, by section then code.
    text = (tmp_path / f"elenco-{stamp}.csv").read_bytes().decode("utf-8")  # CRLF kept
    assert text.splitlines()[0] == (
        "section,code,name,operator,address,places,registered_on,standing,suspended_since"
    )
    assert list(csv.DictReader(io.StringIO(text, newline=""))) == EXPECTED

    # JSON: the same facilities, grouped by section.
    document = json.loads((tmp_path / f"elenco-{stamp}.json").read_text(encoding="utf-8"))
    assert document["published_at"] == "2026-03-04T09:00:00Z"
    assert [s["section"] for s in document["sections"]] == ["Lazio", "Piemonte"]
    facilities = [f for s in document["sections"] for f in s["facilities"]]
    assert [{k: "" if v is None else str(v) for k, v in f.items()} for f in facilities] == EXPECTED
    assert facilities[0]["places"] == 3 and facilities[1]["suspended_since"] is None

    # HTML and PDF, in Italian: the suspension with its date; nothing cancelled or only filed.
    html = (tmp_path / f"elenco-{stamp}.html").read_bytes().decode("utf-8")
    pdf = (tmp_path / f"elenco-{stamp}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    words = pdf_text(pdf)
    for shown in (html, words):
        assert "Elenco delle strutture residenziali per l’accoglienza e il reinserimento" in shown
        assert "Sezione Lazio (2)" in shown and "Sezione Piemonte (1)" in shown
        assert "sospesa dal 3 marzo 2026" in shown and "Comunità FAC-B" in shown
        assert "FAC-D" not in shown and "FAC-E" not in shown and "Campania" not in shown
    assert html.index("FAC-A") < html.index("FAC-B") < html.index("FAC-C")
    assert "documento.css" not in html  # self-contained: the stylesheet is inlined

    # The row keeps what was published; the digest is that of the JSON open data.
    with rctx.read() as uow:
        stored = RegisterRepository.of(uow).last_publication()
    assert stored is not None and stored.id == published.id
    assert (stored.reason, stored.entries, stored.published_at) == (
        "prima pubblicazione",
        3,
        datetime(2026, 3, 4, 9, 0, tzinfo=UTC),
    )
    json_bytes = (tmp_path / f"elenco-{stamp}.json").read_bytes()
    assert stored.digest == published.digest == hashlib.sha256(json_bytes).hexdigest()
    assert (stored.html, bytes(stored.pdf), stored.csv) == (html, pdf, text)

    # The same register at the same instant gives the same bytes (deterministic PDF).
    again = publication.publish(rctx, "ripubblicazione", tmp_path / "again")
    assert again.id != published.id and again.digest == published.digest
    assert (tmp_path / "again" / f"elenco-{stamp}.pdf").read_bytes() == pdf


def test_an_empty_register_is_published_as_such(rctx: Context, tmp_path: Path) -> None:
    filed(rctx, "FAC-E", "Campania")
    published = publication.publish(rctx, "prima pubblicazione", tmp_path)
    assert (published.entries, published.sections) == (0, ())
    assert (tmp_path / f"elenco-{STAMP}.csv").read_text(encoding="utf-8").splitlines() == [
        "section,code,name,operator,address,places,registered_on,standing,suspended_since"
    ]
    document = json.loads((tmp_path / f"elenco-{STAMP}.json").read_text(encoding="utf-8"))
    assert document == {"published_at": "2026-03-02T09:00:00Z", "sections": []}
    words = pdf_text((tmp_path / f"elenco-{STAMP}.pdf").read_bytes())
    assert "Nessuna struttura risulta iscritta nell’elenco." in words


def test_the_register_is_republished_on_every_change_and_only_then(
    rctx: Context, tmp_path: Path
) -> None:
    def publish() -> PublicationRecord | None:
        return publication.publish_if_changed(rctx, "variazione dell'elenco", tmp_path)

    first_facility = registered(rctx, "FAC-A", "Lazio")
    first = publish()  # never published: published
    assert first is not None and first.entries == 1
    assert publish() is None  # nothing changed

    clock(rctx).advance(timedelta(hours=1))
    filed(rctx, "FAC-B", "Lazio")  # a filing changes nothing that is published
    assert publish() is None

    clock(rctx).advance(timedelta(hours=1))
    registered(rctx, "FAC-C", "Veneto")
    second = publish()
    assert second is not None and second.id > first.id
    assert second.sections == (SectionCount("Lazio", 1, 0), SectionCount("Veneto", 1, 0))
    assert publish() is None

    clock(rctx).advance(timedelta(hours=1))
    opened = suspended(rctx, first_facility)
    third = publish()
    assert third is not None and third.sections[0] == SectionCount("Lazio", 1, 1)

    # Lifted: the register is again as it was in the second publication, which is not the
    # last one: republished.
    clock(rctx).advance(timedelta(hours=1))
    engine.fire(rctx, opened, "lift", "dg", {"reasons": "chiarimenti sufficienti"})
    fourth = publish()
    assert fourth is not None and fourth.sections == second.sections
    assert publish() is None

    # Files lost after their row was stored are written again from it, and the latest files
    # are the last publication's.
    stamp = fourth.published_at.strftime("%Y%m%d-%H%M%S")
    (tmp_path / f"elenco-{stamp}.pdf").unlink()
    assert publish() is None
    with rctx.read() as uow:
        last = RegisterRepository.of(uow).last_publication()
    assert last is not None and last.id == fourth.id
    assert (tmp_path / f"elenco-{stamp}.pdf").read_bytes() == bytes(last.pdf)
    second_json = (tmp_path / f"elenco-{second.published_at:%Y%m%d-%H%M%S}.json").read_bytes()
    (tmp_path / "elenco-latest.json").write_bytes(second_json)  # an older run wrote it last
    assert publish() is None
    assert (tmp_path / "elenco-latest.json").read_bytes().decode("utf-8") == last.json


def test_the_register_is_stale_six_months_after_its_last_publication(
    rctx: Context, tmp_path: Path
) -> None:
    now = clock(rctx).now()
    assert publication.staleness(rctx, now) == publication.Staleness(None, None, True)
    assert publication.incidents(rctx, now) == [
        "Elenco mai pubblicato (art. 3 co. 6 D.M. 128/2025)"
    ]

    registered(rctx, "FAC-A", "Lazio")
    publication.publish(rctx, "prima pubblicazione", tmp_path)  # 2 March 2026, 10:00 in Rome
    # Six months (art. 2963 c.c.): due by the end of 2 September, in Italian time.
    deadline = lapse_instant(date(2026, 9, 2))
    assert deadline == datetime(2026, 9, 2, 22, 0, tzinfo=UTC)
    clock(rctx).instant = deadline - timedelta(microseconds=1)
    under = publication.staleness(rctx, clock(rctx).now())
    assert (under.last_published_at, under.due_by, under.stale) == (START, date(2026, 9, 2), False)
    assert publication.incidents(rctx, clock(rctx).now()) == []

    clock(rctx).instant = deadline
    assert publication.staleness(rctx, clock(rctx).now()).stale
    assert publication.incidents(rctx, clock(rctx).now()) == [
        "Elenco non pubblicato da oltre sei mesi (ultima pubblicazione: 2 marzo 2026; "
        "art. 3 co. 6 D.M. 128/2025)"
    ]

    # The six-monthly publication, even with nothing changed, makes it fresh again.
    assert publication.publish_if_changed(rctx, "variazione", tmp_path) is None
    publication.publish(rctx, "pubblicazione semestrale", tmp_path)
    assert not publication.staleness(rctx, clock(rctx).now()).stale

    # Published on 31 August: due by 29 February (2028), the last day of the final month.
    clock(rctx).instant = datetime(2027, 8, 31, 10, 0, tzinfo=UTC)
    publication.publish(rctx, "pubblicazione", tmp_path)
    assert publication.staleness(rctx, clock(rctx).now()).due_by == date(2028, 2, 29)


def test_a_publication_names_its_reason(rctx: Context, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        publication.publish(rctx, "   ", tmp_path / "out")
    with pytest.raises(InvalidInput):
        publication.publish_if_changed(rctx, "x" * 201, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with rctx.read() as uow:
        assert RegisterRepository.of(uow).last_publication() is None


def test_the_files_go_where_the_environment_says(
    rctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISURE_REGISTER_DIR", str(tmp_path / "sito"))
    published = publication.publish(rctx, "prima pubblicazione")
    assert published.paths[0] == tmp_path / "sito" / f"elenco-{STAMP}.html"
    assert (tmp_path / "sito" / "elenco-latest.pdf").read_bytes().startswith(b"%PDF")


def test_a_run_that_another_overtakes_while_rendering_stores_nothing_twice(
    rctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render runs outside any transaction: another run may store the same register
    meanwhile (kept, and this one stores nothing), or a later one (this one reads again)."""
    render = publication._render
    overtaken: list[PublicationRecord] = []

    def overtaken_once(advance: timedelta) -> None:
        """While this run renders, another one publishes, `advance` later."""
        renders = iter([True])

        def overtaking(listed: Any, published_at: datetime) -> Any:
            if next(renders, False):
                clock(rctx).advance(advance)
                other = publication.publish(rctx, "altra esecuzione", tmp_path / "other")
                overtaken.append(other)
            return render(listed, published_at)

        monkeypatch.setattr(publication, "_render", overtaking)

    registered(rctx, "FAC-A", "Lazio")
    overtaken_once(timedelta(0))
    assert publication.publish_if_changed(rctx, "variazione", tmp_path) is None
    with rctx.read() as uow:
        last = RegisterRepository.of(uow).last_publication()
    assert last is not None and last.id == overtaken[-1].id
    assert not tmp_path.joinpath("elenco-latest.json").exists()

    # A later publication overtakes a run of `publish`: it reads the register again and
    # publishes after it, so that the latest files are never older than the last row.
    registered(rctx, "FAC-B", "Lazio")
    clock(rctx).advance(timedelta(minutes=1))
    started = clock(rctx).now()
    overtaken_once(timedelta(minutes=1))
    mine = publication.publish(rctx, "pubblicazione", tmp_path)
    assert overtaken[-1].published_at > started
    assert mine.published_at == overtaken[-1].published_at and mine.id > overtaken[-1].id
    assert mine.entries == overtaken[-1].entries == 2

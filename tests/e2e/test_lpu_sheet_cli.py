"""`misure lpu sheet` as a process, on SQLite and PostgreSQL: the attendance register of one
placement written as a real PDF (and as HTML) the entity can have signed, with every session,
the totals, the convention, the entity and the form; the same register at the same instant is
the same file; an unknown reference, a case of another kind or a missing folder is one Italian
line and exit 1; nothing private of the case is on it."""

from __future__ import annotations

import json
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader

from services import engine
from services.clock import FixedClock
from services.context import Context
from storage.database import make_engine
from tests.e2e.test_cli import Cli
from tests.integration.test_lpu_conventions import LPU
from tests.integration.test_lpu_placements import (
    ENTITY,
    JUDGE,
    MONDAY,
    RECEPTION,
    convention,
    declared,
    session,
)

NOW = "2026-03-04T18:00:00+01:00"
CONDUCT = "Arrivato in ritardo e allontanatosi senza avvisare."


def placed(url: str) -> tuple[str, str]:
    """A placement of form D (10 days, 20 hours) with two sessions in its register (2 and 2.5
    hours) and a breach the judge let pass; its convention's reference."""
    db = make_engine(url)
    try:
        ctx = Context.build(db, FixedClock(MONDAY), LPU)
        agreement = convention(ctx)
        placement = declared(ctx, agreement)
        engine.fire(ctx, placement, "receive", ENTITY, {**RECEPTION, "coordinator": "capo squadra"})
        clock = ctx.clock
        assert isinstance(clock, FixedClock)
        clock.instant = MONDAY + timedelta(days=2)
        engine.fire(ctx, placement, "attend", ENTITY, session("2026-03-02", "09:00", "11:00"))
        engine.fire(ctx, placement, "attend", ENTITY, session("2026-03-03", "14:00", "16:30"))
        engine.fire(
            ctx, placement, "breach", ENTITY, {"occurred_on": "2026-03-04", "description": CONDUCT}
        )
        engine.fire(ctx, placement, "continue", JUDGE, {"ruled_on": "2026-03-04"})
        return placement, agreement
    finally:
        db.dispose()


def lpu_cli(url: str) -> Cli:
    cli = Cli(url)
    cli.env["MISURE_PROCEDURES"] = json.dumps(list(LPU))
    return cli


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(BytesIO(pdf)).pages)


def test_the_register_is_written_as_a_pdf_to_sign(database_url: str, tmp_path: Path) -> None:
    placement, agreement = placed(database_url)
    cli = lpu_cli(database_url)
    target = tmp_path / "registro.pdf"
    done = cli.run("lpu", "sheet", placement, "--out", str(target), "--now", NOW)
    assert f"registro presenze {placement}: 2 sessioni" in done.stdout
    assert str(target) in done.stdout
    pdf = target.read_bytes()
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    assert placement in text and agreement in text and "Comune di Torino" in text
    assert "D – " in text and "art. 54 d.lgs. 274/2000" in text  # the form and its law
    assert "Giudice di pace di Torino" in text and "capo squadra" in text
    # each session: date, start, end, hours, credited hours, activity, both signatures
    assert "1 02/03/2026 09:00 11:00 2 2 manutenzione del verde sì sì" in text
    assert "2 03/03/2026 14:00 16:30 2,50 2,50 manutenzione del verde sì sì" in text
    # the totals: 20 owed, 4.5 attended and credited, 15.5 left
    assert "Totale (2 sessioni) 4,50 4,50" in text
    assert "Ore dovute 20" in text and "Ore residue 15,50" in text
    assert "Il coordinatore dell’ente" in text and "La persona interessata" in text
    assert "4 marzo 2026, ore 18:00" in text  # printed at --now, Italian time
    assert CONDUCT not in text and "ritardo" not in text  # the breach stays private


def test_the_html_and_the_json_answer(database_url: str, tmp_path: Path) -> None:
    placement, _ = placed(database_url)
    cli = lpu_cli(database_url)
    page = tmp_path / "registro.html"
    args = ("lpu", "sheet", placement, "--out", str(page), "--html", "--now", NOW)
    first = cli.json(*args)
    assert first["format"] == "html" and first["file"] == str(page)
    assert (first["sessions"], first["owed_hours"], first["hours_left"]) == (2, "20", "15.50")
    assert (first["attended_hours"], first["credited_hours"]) == ("4.50", "4.50")
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html  # self-contained
    assert "03/03/2026" in html and "16:30" in html and "2,50" in html
    assert CONDUCT not in html
    assert cli.json(*args)["sha256"] == first["sha256"]  # same register, same instant, same file


def test_what_is_not_a_placement_is_one_line_and_exit_1(database_url: str, tmp_path: Path) -> None:
    placement, agreement = placed(database_url)
    cli = lpu_cli(database_url)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "registro.pdf"
    unknown = cli.refused("lpu", "sheet", "LPU-2026-999999", "--out", str(target))
    assert "nessun inserimento nel lavoro di pubblica utilità" in unknown
    assert "LPU-2026-999999" in unknown
    other = cli.run("lpu", "sheet", agreement, "--out", str(target), "--json", ok=False)
    assert other.returncode == 1 and other.stdout == ""
    answer = json.loads(other.stderr)
    assert answer["error"] == "unknown_case"
    assert "non è un inserimento" in answer["message"] and "lpu_convention" in answer["message"]
    missing = cli.refused("lpu", "sheet", placement, "--out", str(folder / "no" / "r.pdf"))
    assert "non esiste" in missing
    assert list(folder.iterdir()) == []  # nothing written, not even half a file


def test_a_register_with_no_session_yet(database_url: str, tmp_path: Path) -> None:
    """Declared only: no hours fixed, no session; the register is still printed to fill in."""
    db = make_engine(database_url)
    try:
        ctx = Context.build(db, FixedClock(MONDAY), LPU)
        opening = {
            "convention": convention(ctx), "form": "H", "offence": "art. 186 C.d.S.",
            "activities": ["protezione civile"], "signed_by_representative": True,
            "declared_on": "2026-02-02", "court": "Tribunale di Torino",
        }  # fmt: skip
        placement = engine.open_case(ctx, "lpu_placement", ENTITY, opening).reference
    finally:
        db.dispose()
    page = tmp_path / "vuoto.html"
    cli = lpu_cli(database_url)
    done = cli.run("lpu", "sheet", placement, "--out", str(page), "--html", "--now", NOW)
    assert "0 sessioni" in done.stdout and "non ancora fissate" in done.stdout
    html = page.read_text(encoding="utf-8")
    assert "Nessuna sessione annotata." in html and "art. 186 co. 9-bis C.d.S." in html
    assert "<tr><th>Ore dovute</th><td>—</td></tr>" in html

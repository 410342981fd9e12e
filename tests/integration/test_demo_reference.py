"""The demo's notices are full acts (issue 15): after each procedure's demo on an empty database,
every office its cases issue notices under has a registered letterhead, and every party those
notices are addressed to has a registered PEC. Checked on every pending notice through the
kinds' own notice contexts (cheap), and on a few rendered ones (WeasyPrint: a handful only)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from services import engine, letterheads
from services.applied import NOTICE_TOPIC
from services.clock import FixedClock
from services.context import Context
from services.notices import SHARED_NOTICES, Office, render_pending_notices
from services.placements import simulation
from services.register import demo as register_demo
from storage.database import make_engine
from storage.models import Document, OutboxMessage, OutboxStatus
from tests.conftest import START

PLACEMENTS = "services.placements.procedure"
REGISTER = "services.register.procedure"
# A small demo (the real one files 800 applications over 90 days): attestations, decisions and
# entries are reached in seconds.
APPLICATIONS, DAYS = 40, 15
RENDERED = 6
MISSING = ("indirizzo PEC non registrato", "indirizzo non registrato")


def _context(url: str, *procedures: str) -> Iterator[Context]:
    ctx = Context.build(make_engine(url), FixedClock(START), procedures)
    try:
        assert not engine.has_cases(ctx)  # what `misure stack` asks before loading a demo
        yield ctx
    finally:
        ctx.db.dispose()


@pytest.fixture
def placements(sqlite_url: str) -> Iterator[Context]:
    yield from _context(sqlite_url, PLACEMENTS)


@pytest.fixture
def placements_and_register(sqlite_url: str) -> Iterator[Context]:
    yield from _context(sqlite_url, PLACEMENTS, REGISTER)


def _unreachable(ctx: Context) -> tuple[int, list[str]]:
    """How many pending notices there are, and what each would lack: its issuer's letterhead,
    an addressee's PEC (as services/notices.py resolves them)."""
    known = letterheads.addressees(ctx)
    heads = {head.office for head in letterheads.letterheads(ctx)}
    problems: list[str] = []
    with ctx.read() as uow:
        query = select(OutboxMessage).where(
            OutboxMessage.topic == NOTICE_TOPIC, OutboxMessage.status == OutboxStatus.PENDING
        )
        messages = uow.session.scalars(query.order_by(OutboxMessage.id)).all()
        for message in messages:
            case = uow.repo.case_by_id(message.case_id)
            event = uow.repo.event(message.event_id)
            template = str(message.payload["template"])
            kind_context = ctx.notice_context(case.kind)
            assert kind_context is not None, case.kind
            context = kind_context(uow, case, event, ctx.clock.now())
            code = str(context["emittente"]["codice"])
            if code not in heads:
                problems.append(f"{case.reference} {template}: no letterhead {code}")
            notice = ctx.notice_type(case.kind, template) or SHARED_NOTICES[template]
            parties = context["parti"]
            for role in notice.addressees:
                name = parties.get(role)
                if name and name not in known:
                    problems.append(f"{case.reference} {template}: no PEC for {role} {name!r}")
    return len(messages), problems


def _render(ctx: Context) -> list[Document]:
    report = render_pending_notices(ctx, Office("Ufficio di prova", "Roma"), limit=RENDERED)
    assert report.failed == 0, report.errors
    assert report.rendered == RENDERED
    with ctx.read() as uow:
        return list(uow.session.scalars(select(Document).order_by(Document.id)).all())


def _full_acts(documents: list[Document], domain: str) -> None:
    for document in documents:
        html = document.html
        for missing in MISSING:
            assert missing not in html, (document.template, missing)
        assert "Ministero della Giustizia" in html
        assert "Dipartimento per la giustizia minorile e di comunità" in html
        assert f"@{domain}" in html  # the issuer's PEC, in the letterhead


def test_the_placements_demo_registers_every_letterhead_and_pec(placements: Context) -> None:
    """Every UIEPE's letterhead and every party's PEC; what was registered before the demo is
    kept, and loading its reference data again adds nothing."""
    court = simulation.COURT.format("Torino")
    letterheads.set_addressee(placements, court, "cancelleria@pec.tribunale.example")
    simulation.demo(placements, applications=APPLICATIONS, days=DAYS)

    pending, problems = _unreachable(placements)
    assert pending > RENDERED
    assert problems == []
    documents = _render(placements)
    assert {d.template for d in documents} >= {"attestazione"}
    _full_acts(documents, "pec.giustizia.example")
    heads = letterheads.letterheads(placements)
    assert {h.office for h in heads} == {f"UIEPE-{code}" for code, *_ in simulation.OFFICES}
    torino = next(h for h in heads if h.office == "UIEPE-TO")
    assert torino.pec == "uiepe.torino@pec.giustizia.example"
    assert torino.place == "Torino"
    known = letterheads.addressees(placements)
    assert known[court] == "cancelleria@pec.tribunale.example"
    assert all(pec.endswith(".example") for pec in known.values())
    assert simulation.load_demo_reference(placements) == (0, 0)


def test_the_register_demo_registers_its_letterhead_and_every_facility_pec(
    placements_and_register: Context,
) -> None:
    """In `misure stack`'s order (the register's demo after the placements' one, which put its
    facilities on the register): the Directorate-general's letterhead, the PEC of every
    facility the register's notices address, and still every placement's."""
    ctx = placements_and_register
    simulation.demo(ctx, applications=APPLICATIONS, days=DAYS)
    register_demo.demo(ctx)

    pending, problems = _unreachable(ctx)
    assert pending > RENDERED
    assert problems == []
    documents = _render(ctx)
    assert {d.template for d in documents} >= {"iscrizione"}
    _full_acts(documents, "pec.giustizia.example")
    assert all("Direzione generale per la giustizia di comunità" in d.html for d in documents)
    # The two procedures' data agree on the Directorate-general they both address.
    files = (simulation.DEMO_REFERENCE, register_demo.DEMO_REFERENCE)
    pecs = {tomllib.loads(f.read_text("utf-8"))["directorate"]["pec"] for f in files}
    assert len(pecs) == 1
    assert register_demo.load_demo_reference(ctx) == (0, 0)

"""Host entities' conventions for unpaid community work through the engine, on SQLite and
PostgreSQL with an injected clock: at most five years, the renewal notice 60 days before the
last day, the expiry at 00:00 after it (art. 54 co. 6 d.lgs. 274/2000; art. 2 D.M. 26 marzo
2001)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from machines.calendar import ROME
from services import engine, notices, timers
from services.clock import FixedClock
from services.context import Context
from services.errors import GuardFailed
from storage.lpu.models import LpuConvention

LPU = ("services.lpu.procedure",)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPENING: dict[str, Any] = {
    "entity": "Comune di Torino",
    "entity_kind": "municipality",
    "counterparty": "tribunal_president",
    "tribunal": "Tribunale di Torino",
    "province": "Torino",
    "activities": ["manutenzione del verde pubblico", "biblioteche civiche"],
    "capacity": 3,
    "coordinators": ["responsabile del servizio verde"],
    "accident_insurance": True,
    "occupational_disease_insurance": True,
    "liability_insurance": True,
    "valid_from": "2026-03-01",
    "valid_until": "2031-02-28",
}


@pytest.fixture
def lctx(db: Engine) -> Context:
    return Context.build(db, FixedClock(START), LPU)  # no tables of its own yet


def test_a_convention_longer_than_five_years_is_refused_and_nothing_written(
    lctx: Context,
) -> None:
    with pytest.raises(GuardFailed) as refused:
        engine.open_case(lctx, "lpu_convention", "ente", {**OPENING, "valid_until": "2031-03-01"})
    assert refused.value.field == "valid_until" and "28/02/2031" in str(refused.value)
    assert engine.list_cases(lctx, kind="lpu_convention") == []


def test_the_renewal_notice_comes_60_days_before_and_the_convention_expires_after_its_day(
    lctx: Context,
) -> None:
    clock = lctx.clock
    assert isinstance(clock, FixedClock)
    reference = engine.open_case(lctx, "lpu_convention", "ente", OPENING).reference
    engine.fire(lctx, reference, "sign", "ministero")
    due = {t.name: t.due_at for t in engine.describe(lctx, reference).pending_timers}
    assert due == {
        "convention_validity": datetime(2031, 3, 1, tzinfo=ROME),
        "renewal_notice": datetime(2030, 12, 31, tzinfo=ROME),  # 60 days before 28 Feb 2031
    }
    clock.instant = datetime(2030, 12, 31, tzinfo=ROME)
    timers.sweep(lctx, clock.instant)  # the reminder: a notice, the convention stays in force
    assert engine.describe(lctx, reference).case.state == "in_force"
    rendered = notices.render_pending_notices(lctx, notices.Office("Ministero", "Roma"))
    assert [d.template for d in rendered.documents] == ["avviso_rinnovo_convenzione"]
    (document,) = notices.document_for(lctx, reference)
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(BytesIO(document.pdf)).pages
    )
    assert "28 febbraio 2031" in text and "Tribunale di Torino" in text
    clock.instant = datetime(2031, 2, 28, 23, 59, tzinfo=ROME)
    assert timers.sweep(lctx, clock.instant).fired == 0
    clock.instant = datetime(2031, 3, 1, tzinfo=ROME)
    assert timers.sweep(lctx, clock.instant).fired == 1
    assert engine.describe(lctx, reference).case.state == "expired"
    with lctx.db.connect() as connection:
        ended = connection.execute(select(LpuConvention.ended_on, LpuConvention.capacity)).one()
    assert tuple(ended) == (date(2031, 3, 1), 3)  # no one is placed under it from that day


def test_a_convention_is_signed_only_while_in_time_and_insured(lctx: Context) -> None:
    uninsured = engine.open_case(
        lctx, "lpu_convention", "ente", {**OPENING, "liability_insurance": False}
    ).reference
    with pytest.raises(GuardFailed) as refused:
        engine.fire(lctx, uninsured, "sign", "ministero")
    assert "responsabilità civile verso terzi" in str(refused.value)
    assert engine.describe(lctx, uninsured).case.state == "drafted"

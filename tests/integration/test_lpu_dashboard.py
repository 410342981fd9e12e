"""The LPU dashboard (art. 54 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001) on SQLite and
PostgreSQL with an injected clock: per host entity its conventions in force, the people at work
(the seats held) and the places left, the placements at work with the hours owed, credited and
left, those to receive; and the incidents: a convention ending within 60 days with no renewal
signed, a final report past its term, breaches awaiting the judge. Every case in its state in
law: a term already passed counts before any sweep."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from machines.calendar import ROME
from services import engine
from services.clock import FixedClock
from services.context import Context
from services.lpu import dashboard
from tests.integration.test_lpu_conventions import LPU
from tests.integration.test_lpu_conventions import OPENING as CONVENTION
from tests.integration.test_lpu_placements import (
    BREACH,
    ENTITY,
    MONDAY,
    RECEPTION,
    convention,
    declared,
    session,
)

LOOK = datetime(2026, 4, 3, 10, 0, tzinfo=ROME)  # the dashboard looks on Friday 3 April 2026
TURIN, BRIDGE, AURORA, RENEWED = (
    "Comune di Torino",
    "Associazione Il Ponte",
    "Fondazione Aurora",
    "Cooperativa Rinnovo",
)


@pytest.fixture
def lctx(db: Engine) -> Context:
    return Context.build(db, FixedClock(MONDAY), LPU)


def clock(ctx: Context) -> FixedClock:
    assert isinstance(ctx.clock, FixedClock)
    return ctx.clock


def agreement(ctx: Context, sign: bool = True, **given: Any) -> str:
    """A convention of `CONVENTION` with `given` changed, signed unless `sign` is false."""
    reference = engine.open_case(ctx, "lpu_convention", ENTITY, {**CONVENTION, **given}).reference
    if sign:
        engine.fire(ctx, reference, "sign", "ministero")
    return reference


def the_work(ctx: Context) -> dict[str, str]:
    """On Monday 2 March 2026:
    - TURIN (capacity 2, to 28 February 2031): P1 at work, 4.5 of 20 hours credited; P2 received
      and its breach reported; P3's sentence final, to receive;
    - BRIDGE (to 1 June 2026, 60 days after 3 April: the renewal notice's day) with a renewal
      drafted and not signed: P4 received, its 2 hours done the same day, the final report due by
      1 April and never sent (no sweep runs);
    - AURORA (to 2 June 2026: 61 days, not yet due): P5's breach reported before reception;
    - RENEWED (to 1 June 2026) and its renewal signed, from 2 June 2026."""
    cases = {
        "A": convention(ctx, capacity=2),
        "B": agreement(ctx, entity=BRIDGE, valid_until="2026-06-01"),
        "B2": agreement(
            ctx, sign=False, entity=BRIDGE, valid_from="2026-06-02", valid_until="2027-06-01"
        ),
        "C": agreement(ctx, entity=AURORA, valid_until="2026-06-02"),
        "D": agreement(ctx, entity=RENEWED, capacity=2, valid_until="2026-06-01"),
        "D2": agreement(
            ctx, entity=RENEWED, capacity=5, valid_from="2026-06-02", valid_until="2031-05-31"
        ),
    }
    cases["P1"] = declared(ctx, cases["A"])
    engine.fire(ctx, cases["P1"], "receive", ENTITY, RECEPTION)
    engine.fire(ctx, cases["P1"], "attend", ENTITY, session("2026-03-02", "09:00", "13:30"))
    cases["P2"] = declared(ctx, cases["A"])
    engine.fire(ctx, cases["P2"], "receive", ENTITY, RECEPTION)
    engine.fire(ctx, cases["P2"], "breach", ENTITY, BREACH)
    cases["P3"] = declared(ctx, cases["A"])
    cases["P4"] = declared(ctx, cases["B"], form="S", days=1, hours=2)
    engine.fire(ctx, cases["P4"], "receive", ENTITY, RECEPTION)
    engine.fire(ctx, cases["P4"], "attend", ENTITY, session("2026-03-02", "09:00", "11:00"))
    cases["P5"] = declared(ctx, cases["C"])
    engine.fire(ctx, cases["P5"], "breach", ENTITY, BREACH)
    clock(ctx).instant = LOOK
    return cases


def test_the_dashboard_shows_each_entity_its_people_places_hours_and_incidents(
    lctx: Context,
) -> None:
    cases = the_work(lctx)
    board = dashboard.lpu_dashboard(lctx)
    assert board.today == date(2026, 4, 3)
    entities = {e.entity: e for e in board.entities}
    assert list(entities) == [BRIDGE, TURIN, RENEWED, AURORA]  # by name

    turin = entities[TURIN]
    (a,) = turin.conventions
    assert (a.reference, a.valid_until, a.capacity, a.held, a.left) == (
        cases["A"],
        date(2031, 2, 28),
        2,
        2,
        0,
    )
    assert (turin.capacity, turin.at_work, turin.capacity_left) == (2, 2, 0)
    work = {p.reference: p for p in turin.placements}
    assert set(work) == {cases["P1"], cases["P2"]}
    p1, p2 = work[cases["P1"]], work[cases["P2"]]
    assert (p1.state, p1.owed, p1.credited, p1.left) == (
        "in_progress",
        20,
        Decimal("4.50"),
        Decimal("15.50"),
    )
    assert (p2.state, p2.owed, p2.credited, p2.left) == (
        "breach_reported",
        20,
        Decimal(0),
        Decimal(20),
    )
    assert (turin.hours_owed, turin.hours_credited, turin.hours_left) == (
        40,
        Decimal("4.50"),
        Decimal("35.50"),
    )
    (p3,) = turin.to_receive
    assert (p3.reference, p3.final_on, p3.owed) == (cases["P3"], date(2026, 2, 25), 20)

    bridge = entities[BRIDGE]  # P4 done: its seat is free again; the drafted renewal not listed
    assert [c.reference for c in bridge.conventions] == [cases["B"]]
    assert (bridge.capacity, bridge.at_work, bridge.capacity_left) == (3, 0, 3)
    assert bridge.placements == () and bridge.to_receive == ()

    aurora = entities[AURORA]  # a breach before reception holds no seat
    assert (aurora.capacity, aurora.at_work, aurora.capacity_left) == (3, 0, 3)
    (p5,) = aurora.placements
    assert (p5.reference, p5.state, p5.owed, p5.credited, p5.left) == (
        cases["P5"],
        "breach_before_reception",
        20,
        Decimal(0),
        Decimal(20),
    )

    renewed = entities[RENEWED]  # the renewal signed ahead is listed, not yet counted
    assert [(c.reference, c.started) for c in renewed.conventions] == [
        (cases["D"], True),
        (cases["D2"], False),
    ]
    assert (renewed.capacity, renewed.capacity_left) == (2, 2)

    (expiring,) = board.expiring  # AURORA: 61 days; RENEWED: renewed
    assert (expiring.reference, expiring.entity, expiring.days_left) == (cases["B"], BRIDGE, 60)
    assert expiring.renewal_drafted == cases["B2"]

    (report,) = board.overdue_reports
    assert (report.reference, report.entity, report.convention) == (cases["P4"], BRIDGE, cases["B"])
    assert (report.last_day, report.days_late) == (date(2026, 4, 1), 2)
    assert engine.describe(lctx, cases["P4"]).case.state == "completed"  # as stored: no sweep

    assert [(b.reference, b.state, b.entity) for b in board.breaches] == [
        (cases["P2"], "breach_reported", TURIN),
        (cases["P5"], "breach_before_reception", AURORA),
    ]
    assert board.breaches[0].occurred_on == date(2026, 3, 2) and board.breaches[0].days == 32

    assert len(board.incidents) == 4
    assert board.incidents[0] == (
        f"{cases['B']} ({BRIDGE}): convenzione in vigore fino al 1 giugno 2026, cessa tra 60 "
        f"giorni; rinnovo {cases['B2']} predisposto, non stipulato (art. 2 co. 1 D.M. 26 marzo "
        "2001)"
    )
    assert board.incidents[1] == (
        f"{cases['P4']} ({BRIDGE}): relazione conclusiva non pervenuta, termine scaduto il "
        "1 aprile 2026, 2 giorni di ritardo"
    )
    assert cases["P2"] in board.incidents[2] and "violazione del 2 marzo 2026" in board.incidents[2]
    assert cases["P5"] in board.incidents[3] and "decisione del giudice" in board.incidents[3]

    markdown = dashboard.dashboard_markdown(board, board.today)
    assert "# Lavoro di pubblica utilità: situazione al 3 aprile 2026" in markdown
    assert "## Anomalie (4)" in markdown and "## Enti ospitanti (4)" in markdown
    assert f"| {TURIN} | 1 | 2 | 2 | 0 | 2 | 1 | 40 | 4,5 | 35,5 |" in markdown
    assert "| **totale** | 5 | 10 | 2 | 8 | 3 | 1 | 60 | 4,5 | 55,5 |" in markdown
    turin_part = markdown.split(f"### {TURIN}")[1].split("### ")[0]
    assert (
        f"| {cases['A']} | Torino | dal 1 marzo 2026 al 28 febbraio 2031 | 2 | 2 | 0 |"
        in turin_part
    )
    assert (
        f"| {cases['P1']} | {cases['A']} | D | in corso, con il registro presenze | 20 | 4,5 | "
        "15,5 |" in turin_part
    )
    assert f"| {cases['P3']} | {cases['A']} | D | 25 febbraio 2026 | 20 |" in turin_part
    assert "(non ancora iniziata)" in markdown.split(f"### {RENEWED}")[1]
    assert (
        f"| {cases['B']} | {BRIDGE} | 1 giugno 2026 | 60 | {cases['B2']} (predisposto) |"
        in markdown
    )
    assert f"| {cases['P4']} | {BRIDGE} | {cases['B']} | 1 aprile 2026 | 2 |" in markdown
    assert "## Violazioni in attesa della decisione del giudice (2;" in markdown
    assert "Assente senza giustificazione" not in markdown  # the breach's description is private


def test_terms_already_passed_count_before_any_sweep(lctx: Context) -> None:
    """At 00:00 of 2 June 2026, with no sweep: BRIDGE's and RENEWED's first conventions expired
    in law (no longer in force, no longer expiring), RENEWED's renewal in force and counted."""
    cases = the_work(lctx)
    clock(lctx).instant = datetime(2026, 6, 2, tzinfo=ROME)
    board = dashboard.lpu_dashboard(lctx)
    entities = {e.entity: e for e in board.entities}
    assert BRIDGE not in entities  # nothing in force, nobody at work or to receive
    renewed = entities[RENEWED]
    assert [(c.reference, c.started) for c in renewed.conventions] == [(cases["D2"], True)]
    assert (renewed.capacity, renewed.capacity_left) == (5, 5)
    (expiring,) = board.expiring  # AURORA's last day is today
    assert (expiring.reference, expiring.days_left, expiring.renewal_drafted) == (
        cases["C"],
        1,
        None,
    )
    assert "cessa domani; nessun rinnovo" in board.incidents[0]
    (report,) = board.overdue_reports
    assert report.days_late == 62
    assert engine.describe(lctx, cases["B"]).case.state == "in_force"  # as stored


def test_a_report_received_and_a_judge_s_ruling_clear_the_incidents(lctx: Context) -> None:
    cases = the_work(lctx)
    engine.fire(lctx, cases["P4"], "report", "coordinatore", {"reported_on": "2026-04-03",
                                                              "regular": True})  # fmt: skip
    engine.fire(lctx, cases["P2"], "continue", "giudice", {"ruled_on": "2026-04-03"})
    engine.fire(lctx, cases["P5"], "revoke", "giudice", {"ruled_on": "2026-04-03"})
    engine.fire(lctx, cases["B2"], "sign", "ministero")
    board = dashboard.lpu_dashboard(lctx)
    assert board.incidents == ()
    assert not board.expiring and not board.overdue_reports and not board.breaches
    turin = next(e for e in board.entities if e.entity == TURIN)
    assert {p.state for p in turin.placements} == {"in_progress"}
    assert AURORA in {e.entity for e in board.entities}  # its convention is still in force
    markdown = dashboard.dashboard_markdown(board, board.today)
    assert "## Anomalie (0)" in markdown and "Nessuna anomalia." in markdown
    assert "Nessuna convenzione in scadenza senza rinnovo." in markdown
    assert "Nessuna relazione conclusiva in ritardo." in markdown
    assert "Nessuna violazione in attesa di decisione." in markdown


def test_an_empty_dashboard(lctx: Context) -> None:
    board = dashboard.lpu_dashboard(lctx)
    assert asdict(board)["entities"] == () and board.incidents == ()
    markdown = dashboard.dashboard_markdown(board, board.today)
    assert "Nessun ente con convenzioni in vigore o persone inserite." in markdown
    assert board.at == MONDAY

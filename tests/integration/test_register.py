"""The register and its cancellation procedure (D.M. 128/2025 arts. 3-10) with an injected clock,
on SQLite and PostgreSQL: terms counted from the operator's receipt and moved off a holiday,
what arrives late recorded and disregarded, the defence term's bounds, the operator giving up at
each stage, and what placements do at once when a facility is suspended or cancelled."""

from __future__ import annotations

import copy
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select, text

from machines.calendar import ROME
from services import audit, engine, timers
from services.clock import FixedClock
from services.context import Context
from services.errors import GuardFailed, InvalidInput, PlaceUnavailable
from services.placements import actors as placements
from services.placements import budget, reallocation, reference
from services.placements.procedure import MODULES
from services.register import actors
from services.schema import MIGRATIONS, migrating, upgrade
from storage.models import OutboxMessage
from storage.placements.models import Convention, Reservation, ReservationStatus
from tests.conftest import BRANCH_TABLES, BRANCHES, START
from tests.support import register
from tests.support.placements import COURT_TO, REFERENCE, clock_of, placements_context, queued
from tests.support.register import REGISTER as REGISTER_MODULE

DG = "direzione-generale"


@pytest.fixture
def pctx(db: Engine) -> Context:
    return placements_context(db)


def state(ctx: Context, reference: str) -> str:
    return engine.describe(ctx, reference).case.state


def procedure(ctx: Context, facility: str, causes: tuple[str, ...] = ("b",)) -> str:
    data = {"facility": facility, "causes": list(causes), "facts": "Requisito venuto meno."}
    return engine.open_case(ctx, "cancellation", DG, data).reference


def facility_of(ctx: Context, code: str) -> str:
    return next(
        row.reference
        for row in engine.list_cases(ctx, kind="facility")
        if engine.describe(ctx, row.reference).facts.get("code") == code
    )


def at_rome(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ROME).astimezone(UTC)


def test_the_clarification_term_ending_on_a_holiday_moves_to_the_next_working_day(
    pctx: Context,
) -> None:
    """Received on 8 November 2026: 30 days end on 8 December (a holiday), so on 9 December;
    the timer fires at 00:00 of 10 December (Rome), not before."""
    clock = clock_of(pctx)
    clock.instant = at_rome(date(2026, 11, 6))
    case = procedure(pctx, facility_of(pctx, "FAC-TO-1"))
    engine.fire(pctx, case, "invite", DG)
    clock.instant = at_rome(date(2026, 11, 9))
    engine.fire(pctx, case, "record_receipt", DG, {"received_on": "2026-11-08"})
    (term,) = engine.describe(pctx, case).pending_timers
    assert term.due_at == datetime(2026, 12, 10, tzinfo=ROME)
    assert timers.sweep(pctx, datetime(2026, 12, 9, 23, 59, tzinfo=ROME)).fired == 0
    assert state(pctx, case) == "clarifying"
    clock.instant = datetime(2026, 12, 10, tzinfo=ROME)
    assert timers.sweep(pctx, clock.instant).fired == 1
    assert state(pctx, case) == "examining"


def test_a_clarification_after_the_term_is_recorded_and_disregarded(pctx: Context) -> None:
    """No sweep has run: the term lapses first, at its instant; the clarification then meets
    the examination and is kept on the record, under the article that disregards it."""
    clock = clock_of(pctx)
    clock.instant = at_rome(date(2026, 3, 2))
    case = procedure(pctx, facility_of(pctx, "FAC-TO-1"))
    engine.fire(pctx, case, "invite", DG)
    engine.fire(pctx, case, "record_receipt", DG, {"received_on": "2026-03-02"})
    engine.fire(pctx, case, "clarify", "ente", {"text": "In tempo."})
    clock.instant = datetime(2026, 4, 2, 0, 0, 1, tzinfo=ROME)  # the term ended on 1 April
    late = engine.fire(pctx, case, "clarify", "ente", {"text": "Tardivi.", "documents": 2})
    assert late.caught_up == ("clarifications_closed",)
    assert (late.from_state, late.to_state) == ("examining", "examining")
    history = engine.describe(pctx, case).history
    assert [e.trigger for e in history[-3:]] == ["clarify", "clarifications_closed", "clarify"]
    assert "non valutati" in history[-1].legal_basis
    assert "non valutati" not in history[-3].legal_basis
    assert history[-2].effective_at == datetime(2026, 4, 2, tzinfo=ROME)


@pytest.mark.parametrize(("days", "allowed"), [(14, False), (15, True), (45, True), (46, False)])
def test_the_defence_term_is_between_15_and_45_days(
    pctx: Context, days: int, allowed: bool
) -> None:
    clock = clock_of(pctx)
    case = procedure(pctx, facility_of(pctx, "FAC-TO-1"))
    engine.fire(pctx, case, "invite", DG)
    engine.fire(pctx, case, "record_receipt", DG, {"received_on": "2026-03-02"})
    clock.instant = datetime(2026, 4, 2, 9, tzinfo=UTC)
    timers.sweep(pctx, clock.instant)
    contest = {"facts": "Fatti.", "rules_breached": "art. 7 co. 2", "defence_days": days}
    if not allowed:
        with pytest.raises(InvalidInput) as refused:
            engine.fire(pctx, case, "contest", DG, contest)
        assert refused.value.field == "defence_days"
        assert state(pctx, case) == "examining"
        return
    engine.fire(pctx, case, "contest", DG, contest)
    clock.instant = at_rome(date(2026, 4, 3))
    engine.fire(pctx, case, "record_receipt", DG, {"received_on": "2026-04-03"})
    (term,) = engine.describe(pctx, case).pending_timers
    last_day = date(2026, 4, 3) + timedelta(days=days)  # 18 April or 18 May: working days
    assert term.due_at == datetime.combine(last_day + timedelta(days=1), datetime.min.time(), ROME)


STAGES = (
    ("opened", ()),
    ("invited", ("invite",)),
    ("clarifying", ("invite", "receipt")),
    ("examining", ("invite", "receipt", "lapse")),
    ("contested", ("invite", "receipt", "lapse", "contest")),
    ("defending", ("invite", "receipt", "lapse", "contest", "receipt")),
    ("deciding", ("invite", "receipt", "lapse", "contest", "receipt", "lapse")),
)


@pytest.mark.parametrize(("stage", "steps"), STAGES, ids=[s for s, _ in STAGES])
def test_giving_up_at_each_stage_cancels_on_the_record(
    pctx: Context, stage: str, steps: tuple[str, ...]
) -> None:
    clock = clock_of(pctx)
    facility = facility_of(pctx, "FAC-TO-1")
    case = procedure(pctx, facility)
    for step in steps:
        if step == "receipt":
            received = clock.instant.astimezone(ROME).date().isoformat()
            engine.fire(pctx, case, "record_receipt", DG, {"received_on": received})
        elif step == "lapse":
            (term,) = engine.describe(pctx, case).pending_timers
            clock.instant = term.due_at
            timers.sweep(pctx, clock.instant)
        elif step == "contest":
            contest = {"facts": "Fatti.", "rules_breached": "art. 8", "defence_days": 20}
            engine.fire(pctx, case, "contest", DG, contest)
        else:
            engine.fire(pctx, case, step, DG)
    assert state(pctx, case) == stage
    given_up = engine.fire(pctx, case, "give_up", "ente")
    assert given_up.to_state == "cancelled"
    assert state(pctx, facility) == "cancelled"
    assert engine.describe(pctx, case).pending_timers == ()


def test_a_facility_is_suspended_and_cancelled_only_by_its_procedure(pctx: Context) -> None:
    facility = facility_of(pctx, "FAC-TO-1")
    with pytest.raises(GuardFailed) as refused:
        engine.fire(pctx, facility, "suspend", DG, {"procedure": "CANC-2026-000099"})
    assert "nessun procedimento di cancellazione" in str(refused.value)
    case = procedure(pctx, facility)
    with pytest.raises(GuardFailed):  # the procedure has not ordered it
        engine.fire(pctx, facility, "cancel", DG, {"procedure": case})
    with pytest.raises(InvalidInput) as twice:
        procedure(pctx, facility)
    assert twice.value.field == "facility" and case in str(twice.value)
    assert state(pctx, facility) == "registered"


def _two_facilities_at_turin(ctx: Context) -> None:
    """CONV-TO-1 with two places at FAC-TO-1, and CONV-TO-2 with one at FAC-TO-2 (cheaper)."""
    document = copy.deepcopy(REFERENCE)
    document["conventions"][0]["places"] = 2
    document["facilities"].append(
        {
            "code": "FAC-TO-2",
            "name": "Casa Aurora",
            "operator": "Comune di Torino",
            "address": "Via Po 1, Torino",
            "section": "Piemonte",
        }
    )
    document["conventions"].append(
        {
            "code": "CONV-TO-2", "office": "UIEPE-TO", "facility": "FAC-TO-2",
            "daily_rate": "45.00", "places": 1, "valid_from": "2026-01-01",
            "valid_until": "2027-12-31",
        }
    )  # fmt: skip
    reference.load(ctx, document)
    register.enrol_described(ctx)


def _committed(ctx: Context) -> Decimal:
    offices, _ = budget.figures(ctx, 2026)
    return next(f.committed for f in offices if f.scope == "UIEPE-TO")


def test_cancellation_releases_what_is_reserved_and_requeues_in_protocol_order(
    pctx: Context, db: Engine
) -> None:
    """FAC-TO-1 holds a person placed (P) and an attestation at court (A); C waits, FAC-TO-2
    is suspended. The operator gives up: A's place and money are released at once and A goes
    back to the queue ahead of C; P's place stays and the UIEPE is told to move P. When
    FAC-TO-2's suspension is lifted, A is served first."""
    clock = clock_of(pctx)
    _two_facilities_at_turin(pctx)
    suspension = register.suspend(pctx, facility_of(pctx, "FAC-TO-2"))
    person = queued(pctx)
    applicant = queued(pctx)
    assert len(reallocation.reallocate(pctx).attested) == 2
    today = clock.instant.astimezone(ROME).date()
    placements.record_decision(
        pctx, person, placements.Outcome.GRANTED, today, COURT_TO, "cancelleria"
    )
    placements.record_entry(pctx, person, True, "struttura")
    waiting = queued(pctx)
    assert reallocation.reallocate(pctx).attested == []  # FAC-TO-2 is suspended
    with pytest.raises(PlaceUnavailable):  # at once, on every path
        engine.fire(pctx, waiting, "attest", "clerk", {"convention": "CONV-TO-2", "place": 1})
    before = _committed(pctx)

    case = procedure(pctx, facility_of(pctx, "FAC-TO-1"))
    given_up = engine.fire(pctx, case, "give_up", "ente")

    assert "reallocate" in given_up.signals
    assert state(pctx, facility_of(pctx, "FAC-TO-1")) == "cancelled"
    assert state(pctx, applicant) == "queued" and state(pctx, person) == "placed"
    with db.connect() as connection:
        held = connection.execute(
            select(Reservation.case_id, Reservation.status).order_by(Reservation.id)
        ).all()
        ended = connection.execute(select(Convention.code, Convention.ended_on)).all()
        notices = connection.execute(
            select(OutboxMessage.payload).where(OutboxMessage.topic == "notice")
        ).scalars()
        templates = {(n["reference"], n["template"]) for n in notices}
    statuses = [status for _, status in held]
    assert statuses == [ReservationStatus.ACTIVE, ReservationStatus.RELEASED]
    assert dict(ended)["CONV-TO-1"] == today and dict(ended)["CONV-TO-2"] is None
    assert (applicant, "struttura_cancellata") in templates
    assert (person, "struttura_cancellata_collocamento") in templates
    assert _committed(pctx) < before  # A's maximum cost is back with the UIEPE

    assert reallocation.reallocate(pctx).attested == []  # nothing usable yet
    engine.fire(pctx, suspension, "lift", DG, {"reasons": "Verifica conclusa."})
    served = reallocation.reallocate(pctx).attested
    assert [(a.reference, a.convention) for a in served] == [(applicant, "CONV-TO-2")]
    assert state(pctx, waiting) == "queued"


def test_requeue_is_the_register_s_decision_not_a_clerk_s(pctx: Context) -> None:
    applicant = queued(pctx)
    reallocation.reallocate(pctx)
    with pytest.raises(GuardFailed) as refused:
        engine.fire(pctx, applicant, "requeue", "clerk", {"facility": "FAC-TO-1"})
    assert "iscritta nell'elenco" in str(refused.value)
    assert state(pctx, applicant) == "at_court"


def test_ref_load_no_longer_sets_a_facility_s_standing(pctx: Context) -> None:
    document = copy.deepcopy(REFERENCE)
    document["facilities"][0]["suspended"] = True
    with pytest.raises(InvalidInput) as refused:
        reference.load(pctx, document)
    assert refused.value.field == "facilities[0].suspended"
    assert "misure register" in str(refused.value)


def test_the_facilities_of_the_reference_data_become_facility_cases(
    db: Engine, tmp_path: Path
) -> None:
    """The register's migration, on a database where placements ran alone: each facility
    becomes a case in its standing (registered, suspended, not registered: cancelled), its trail
    chained as the write path chains it, its entry kept for the publication."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    locations = (str(MIGRATIONS / "versions"), *map(str, BRANCHES))
    config.set_main_option("version_locations", os.pathsep.join(locations))
    with migrating(db) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "register@base")
    alone = Context.build(db, FixedClock(START), MODULES)
    reference.load(alone, REFERENCE)  # no register: the facilities count as registered
    with db.begin() as connection:
        connection.execute(text("UPDATE facilities SET suspended = true WHERE code = 'FAC-RM-2'"))
        connection.execute(text("UPDATE facilities SET registered = false WHERE code = 'FAC-TO-1'"))
    upgrade(db, BRANCHES, BRANCH_TABLES)

    ctx = Context.build(db, FixedClock(START), (REGISTER_MODULE, *MODULES))
    cases = {
        engine.describe(ctx, row.reference).facts["code"]: row
        for row in engine.list_cases(ctx, kind="facility")
    }
    assert {code: row.state for code, row in cases.items()} == {
        "FAC-TO-1": "cancelled",
        "FAC-RM-1": "registered",
        "FAC-RM-2": "suspended",
    }
    assert all(row.reference.startswith("STR-") for row in cases.values())
    first = engine.describe(ctx, cases["FAC-RM-1"].reference).history[0]
    assert (first.actor, first.to_state) == ("migrazione", "registered")
    assert "art. 3 co. 4" in first.legal_basis
    assert audit.verify(ctx, tmp_path).intact
    with db.connect() as connection:
        cancelled_on = connection.execute(
            text("SELECT cancelled_on FROM facilities WHERE code = 'FAC-TO-1'")
        ).scalar_one()
    assert cancelled_on is not None
    # the register now owns them: a cancellation procedure runs on the migrated facility
    opened = engine.open_case(
        ctx,
        "cancellation",
        DG,
        {"facility": cases["FAC-RM-2"].reference, "causes": ["b"], "facts": "Verifica."},
    )
    engine.fire(ctx, opened.reference, "lift", DG, {"reasons": "Verifica conclusa."})
    assert engine.describe(ctx, cases["FAC-RM-2"].reference).case.state == "registered"


def test_a_visit_corrects_the_billed_days_it_contradicts(pctx: Context) -> None:
    """Art. 10 co. 4 b, art. 13 co. 5: the facility reported P present on 4 March; the
    penitentiary police unit found P absent that day: the day is not paid. A reference not
    placed at the facility refuses the visit, naming it; nothing is recorded."""
    clock = clock_of(pctx)
    person = queued(pctx)
    reallocation.reallocate(pctx)
    today = clock.instant.astimezone(ROME).date()
    placements.record_decision(
        pctx, person, placements.Outcome.GRANTED, today, COURT_TO, "cancelleria"
    )
    placements.record_entry(pctx, person, True, "struttura")
    clock.instant += timedelta(days=5)
    before = placements.record_presence(pctx, person, today, today + timedelta(days=4), set())
    facility = facility_of(pctx, "FAC-TO-1")
    visited_on = today + timedelta(days=2)
    with pytest.raises(InvalidInput) as refused:
        actors.record_visit(
            pctx, facility, visited_on, "NTP Torino", [(person, False), ("ATT-2026-000999", True)]
        )
    assert refused.value.field == "checks" and "ATT-2026-000999" in str(refused.value)
    actors.record_visit(pctx, facility, visited_on, "NTP Torino", [(person, False)])
    # the facility's return again, every day present: the day the visit checked stays absent
    after = placements.record_presence(pctx, person, today, today + timedelta(days=4), set())
    assert (before.present, before.absent, before.payable) == (5, 0, "250.00")
    assert (after.present, after.absent, after.payable) == (4, 1, "200.00")
    assert engine.describe(pctx, facility).facts["visits"][0]["checks"] == {person: False}


def test_cause_d_needs_a_prescription_ignored_after_its_deadline(pctx: Context) -> None:
    clock = clock_of(pctx)
    facility = facility_of(pctx, "FAC-TO-1")
    with pytest.raises(InvalidInput) as refused:
        procedure(pctx, facility, ("d",))
    assert refused.value.field == "causes" and "art. 5 co. 1 d" in str(refused.value)
    due = clock.instant.astimezone(ROME).date() + timedelta(days=10)
    actors.prescribe(pctx, facility, "c", "Attivare il programma di reinserimento.", due)
    clock.instant += timedelta(days=10)  # the deadline's own day: not yet ignored
    with pytest.raises(InvalidInput) as early:
        actors.prescription_outcome(pctx, facility, 1, "ignored", due)
    assert early.value.field == "found_on"
    clock.instant += timedelta(days=1)
    actors.prescription_outcome(pctx, facility, 1, "ignored", due + timedelta(days=1))
    with pytest.raises(InvalidInput):  # once
        actors.prescription_outcome(pctx, facility, 1, "complied", due + timedelta(days=1))
    opened = procedure(pctx, facility, ("b", "d"))
    assert engine.describe(pctx, opened).facts["causes"] == ["b", "d"]


def test_a_report_of_a_change_is_kept_on_the_facility(pctx: Context) -> None:
    facility = facility_of(pctx, "FAC-TO-1")
    actors.report_change(
        pctx, facility, "loss", "idoneità igienico-sanitaria", "Lavori in corso.", date(2026, 2, 27)
    )
    (report,) = engine.describe(pctx, facility).facts["reports"]
    assert (report["nature"], report["occurred_on"], report["reported_on"]) == (
        "loss",
        date(2026, 2, 27),
        date(2026, 3, 2),
    )

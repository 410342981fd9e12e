"""Probation with suspension of the trial through the engine, on SQLite and PostgreSQL with an
injected clock: a second probation of the same person refused, then let through by a recorded
override; the periodic report's term firing on its day and restarted by each report; the
period's end; the final report's term counted back from the hearing (moved off a holiday); a
revocation hearing notified nine days before refused, ten accepted; a positive report whose LPU
part has fewer than ten days refused without the recorded reason; the days served and their
worth under art. 657-bis c.p.p. once revoked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from machines.calendar import ROME
from services import engine, timers
from services.clock import FixedClock
from services.context import Context
from services.errors import GuardFailed

PROBATION = ("services.probation.procedure",)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Rome
UEPE, JUDGE = "UEPE di Torino", "Tribunale di Torino"
REQUEST: dict[str, Any] = {
    "person_key": "persona-0001",
    "uepe": "UEPE di Torino",
    "court": JUDGE,
    "offence": {"article": "art. 624 c.p.", "max_detention_months": 36},
    "requested_on": "2026-02-01",
}
PROGRAMME = {
    "components": ["reparation", "lpu"], "lpu_days": 12, "lpu_hours_per_day": "4",
    "drafted_on": "2026-03-02",
}  # fmt: skip


@pytest.fixture
def pctx(db: Engine) -> Context:
    return Context.build(db, FixedClock(START), PROBATION)


def at(ctx: Context, when: datetime) -> None:
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    clock.instant = when


def state(ctx: Context, reference: str) -> str:
    return engine.describe(ctx, reference).state


def sent(ctx: Context, person: str = "persona-0001", **inquiry: Any) -> str:
    reference = engine.open_case(
        ctx, "probation", UEPE, {**REQUEST, "person_key": person}
    ).reference
    engine.fire(ctx, reference, "inquire", UEPE, {"started_on": "2026-03-02", **inquiry})
    engine.fire(ctx, reference, "draft", UEPE, PROGRAMME)
    engine.fire(
        ctx, reference, "send", UEPE,
        {"sent_on": "2026-03-02", "consent": True, "entity_adherence": True},
    )  # fmt: skip
    return reference


def running(ctx: Context, months: int = 12, cadence: int = 3, person: str = "persona-0001") -> str:
    reference = sent(ctx, person)
    engine.fire(
        ctx, reference, "admit", JUDGE,
        {"ordered_on": "2026-03-02", "duration_months": months, "cadence_months": cadence},
    )  # fmt: skip
    engine.fire(ctx, reference, "sign", UEPE, {"record_signed_on": "2026-03-02"})
    return reference


def test_a_second_probation_is_refused_then_let_through_by_a_recorded_override(
    pctx: Context,
) -> None:
    first = running(pctx)
    second = engine.open_case(pctx, "probation", UEPE, REQUEST).reference
    with pytest.raises(GuardFailed) as refused:
        engine.fire(pctx, second, "inquire", UEPE, {"started_on": "2026-03-02"})
    assert "art. 168-bis co. 4 c.p." in str(refused.value) and first in str(refused.value)
    ground = "Furto in continuazione con quello della prova precedente (art. 81 cpv. c.p.)."
    override = {"started_on": "2026-03-02", "connected_to": [first], "override_ground": ground}
    assert engine.fire(pctx, second, "inquire", UEPE, override).to_state == "inquiry"
    recorded = engine.describe(pctx, second).history[-1]
    assert recorded.payload["connected_to"] == [first]
    assert recorded.payload["override_ground"] == ground
    # another person is not concerned
    other = engine.open_case(pctx, "probation", UEPE, {**REQUEST, "person_key": "persona-0002"})
    engine.fire(pctx, other.reference, "inquire", UEPE, {"started_on": "2026-03-02"})


def test_the_periodic_report_term_fires_on_its_day_and_restarts_with_each_report(
    pctx: Context,
) -> None:
    reference = running(pctx)  # signed on 2 March 2026, reports every 3 months
    due = {t.name: t.due_at for t in engine.describe(pctx, reference).pending_timers}
    assert due["periodic_report"] == datetime(2026, 6, 3, tzinfo=ROME)  # after 2 June
    assert due["periodic_report_reminder"] == datetime(2026, 5, 24, tzinfo=ROME)
    assert due["probation_period"] == datetime(2027, 3, 3, tzinfo=ROME)  # after 2 March 2027
    at(pctx, datetime(2026, 6, 2, 23, 59, tzinfo=ROME))
    timers.sweep(pctx, pctx.clock.now())
    assert [e.trigger for e in engine.describe(pctx, reference).history][-1] == "sign"
    at(pctx, datetime(2026, 6, 3, tzinfo=ROME))
    timers.sweep(pctx, pctx.clock.now())
    assert engine.describe(pctx, reference).history[-1].trigger == "report_overdue"
    assert state(pctx, reference) == "running"
    engine.fire(pctx, reference, "report", UEPE, {"reported_on": "2026-06-03"})
    due = {t.name: t.due_at for t in engine.describe(pctx, reference).pending_timers}
    assert due["periodic_report"] == datetime(2026, 9, 4, tzinfo=ROME)  # after 3 September
    assert due["probation_period"] == datetime(2027, 3, 3, tzinfo=ROME)  # untouched


def test_the_period_ends_and_the_final_report_is_due_ten_days_before_the_hearing(
    pctx: Context,
) -> None:
    reference = running(pctx, months=1, cadence=1)  # 2 March to 2 April 2026
    at(pctx, datetime(2026, 4, 3, tzinfo=ROME))
    timers.sweep(pctx, pctx.clock.now())
    assert state(pctx, reference) == "period_ended"
    engine.fire(
        pctx, reference, "set_hearing", JUDGE, {"hearing_on": "2026-05-05", "set_on": "2026-04-03"}
    )
    due = {t.name: t.due_at for t in engine.describe(pctx, reference).pending_timers}
    # 5 May - 10 days = 25 April, a holiday: the working day before, Friday 24 April
    assert due["final_report"] == datetime(2026, 4, 25, tzinfo=ROME)
    at(pctx, datetime(2026, 4, 25, tzinfo=ROME))
    timers.sweep(pctx, pctx.clock.now())
    assert state(pctx, reference) == "final_report_overdue"
    # positive, but no day of LPU reported: refused without the reason
    with pytest.raises(GuardFailed) as refused:
        engine.fire(
            pctx, reference, "file_final_report", UEPE,
            {"reported_on": "2026-04-25", "positive": True},
        )  # fmt: skip
    assert refused.value.field == "lpu_shortfall_reason"
    engine.fire(
        pctx, reference, "file_final_report", UEPE,
        {"reported_on": "2026-04-25", "positive": True,
         "lpu_shortfall_reason": "Ente chiuso per lavori; attività riparatorie svolte."},
    )  # fmt: skip
    assert engine.fire(pctx, reference, "extinguish", JUDGE, {"decided_on": "2026-04-25"})


@pytest.mark.parametrize(("notified", "accepted"), [("2026-03-12", False), ("2026-03-11", True)])
def test_a_revocation_hearing_needs_ten_days_notice(
    pctx: Context, notified: str, accepted: bool
) -> None:
    reference = running(pctx)
    hearing = {"cause": "breach", "revocation_hearing_on": "2026-03-21", "notified_on": notified}
    if not accepted:
        with pytest.raises(GuardFailed) as refused:
            engine.fire(pctx, reference, "set_revocation_hearing", JUDGE, hearing)
        assert refused.value.field == "notified_on" and "9 giorni" in str(refused.value)
        assert state(pctx, reference) == "running"
        return
    engine.fire(pctx, reference, "set_revocation_hearing", JUDGE, hearing)
    at(pctx, datetime(2026, 3, 21, 12, 0, tzinfo=ROME))
    engine.fire(pctx, reference, "revoke", JUDGE, {"decided_on": "2026-03-21"})
    facts = engine.describe(pctx, reference).facts
    assert facts["days_served"] == 20  # 2 to 21 March
    assert "6 giorni" in facts["art_657_bis"]  # 20 days: 6 whole groups of three


# --- the LPU part: a placement of form N that names the probation ----------------------------

BOTH = ("services.lpu.procedure", "services.probation.procedure")


@pytest.fixture
def bctx(db: Engine) -> Context:
    return Context.build(db, FixedClock(START), BOTH)


def lpu_part(ctx: Context, probation: str) -> str:
    """The probation's LPU part at a host entity, received and under way."""
    from tests.integration.test_lpu_conventions import OPENING as CONVENTION

    agreement = engine.open_case(ctx, "lpu_convention", "ente", CONVENTION).reference
    engine.fire(ctx, agreement, "sign", "ministero")
    declaration = {
        "convention": agreement, "form": "N", "offence": "art. 624 c.p.",
        "activities": ["biblioteca"], "signed_by_representative": True,
        "declared_on": "2026-03-02", "court": JUDGE, "probation": probation,
    }  # fmt: skip
    placement = engine.open_case(ctx, "lpu_placement", "ente", declaration).reference
    engine.fire(
        ctx, placement, "sentenced", JUDGE,
        {"owed_days": 12, "owed_hours": 48, "decided_on": "2026-03-02"},
    )  # fmt: skip
    engine.fire(
        ctx, placement, "final", JUDGE, {"final_on": "2026-03-02", "probation_record_signed": True}
    )
    engine.fire(
        ctx, placement, "receive", "ente",
        {"insurance_opened": True, "calendar_agreed": True, "received_on": "2026-03-02"},
    )  # fmt: skip
    return placement


def test_the_lpu_days_count_for_the_probation_and_a_revocation_ends_the_placement(
    bctx: Context,
) -> None:
    reference = running(bctx)
    placement = lpu_part(bctx, reference)
    sessions = [(2, "09:00", "10:00"), (3, "09:00", "10:00"), (4, "09:00", "10:00"),
                (4, "14:00", "15:00")]  # two sessions on the 4th: one day  # fmt: skip
    for day, start, end in sessions:
        at(bctx, datetime(2026, 3, day, 18, 0, tzinfo=ROME))
        engine.fire(
            bctx, placement, "attend", "ente",
            {"day": f"2026-03-0{day}", "start": start, "end": end, "activity": "biblioteca",
             "signed_by_person": True, "signed_by_coordinator": True},
        )  # fmt: skip
    assert engine.describe(bctx, reference).facts["lpu_days_done"] == 3
    notified = {
        "cause": "lpu_refused",
        "revocation_hearing_on": "2026-03-20",
        "notified_on": "2026-03-04",
    }
    engine.fire(bctx, reference, "set_revocation_hearing", JUDGE, notified)
    at(bctx, datetime(2026, 3, 20, 12, 0, tzinfo=ROME))
    engine.fire(bctx, reference, "revoke", JUDGE, {"decided_on": "2026-03-20"})
    ended = engine.describe(bctx, placement)
    assert ended.state == "revoked"
    assert ended.history[-1].trigger == "end_with_probation"
    assert ended.history[-1].actor == "sistema"


def test_the_judge_integrates_the_programme_keeping_the_earlier_version(pctx: Context) -> None:
    from storage.probation.repository import ProbationRepository

    reference = running(pctx)
    at(pctx, datetime(2026, 4, 1, 9, 0, tzinfo=ROME))
    integration = {
        **PROGRAMME,
        "lpu_days": 20,
        "ordered_on": "2026-04-01",
        "drafted_on": "2026-04-01",
    }
    engine.fire(pctx, reference, "integrate", JUDGE, integration)
    with pytest.raises(GuardFailed) as refused:
        engine.fire(pctx, reference, "integrate", JUDGE, {**integration, "lpu_days": 9})
    assert refused.value.field == "lpu_days"
    with pctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        assert case is not None
        versions = ProbationRepository.of(uow).programmes(case.id)
    assert [(v.version, v.by, v.lpu_days) for v in versions] == [(1, "uepe", 12), (2, "judge", 20)]
    facts = engine.describe(pctx, reference).facts
    assert (facts["programme_version"], facts["lpu_days_planned"]) == (2, 20)


def test_a_negative_outcome_shows_the_days_served_and_their_worth(pctx: Context) -> None:
    reference = running(pctx, months=1, cadence=1)  # 2 March to 2 April 2026
    at(pctx, datetime(2026, 4, 3, 9, 0, tzinfo=ROME))
    # no sweep has run: the hearing's order fires the period's end first, at its instant
    engine.fire(
        pctx, reference, "set_hearing", JUDGE, {"hearing_on": "2026-05-04", "set_on": "2026-04-03"}
    )
    engine.fire(pctx, reference, "file_final_report", UEPE,
                {"reported_on": "2026-04-03", "positive": False})  # fmt: skip
    at(pctx, datetime(2026, 5, 4, 12, 0, tzinfo=ROME))
    engine.fire(pctx, reference, "resume", JUDGE, {"decided_on": "2026-05-04"})
    facts = engine.describe(pctx, reference).facts
    assert facts["days_served"] == 32  # 2 March to 2 April, both counted: never past the period
    assert facts["art_657_bis"].startswith("32 giorni di prova = 10 giorni")

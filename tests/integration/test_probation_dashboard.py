"""The probation dashboard per UEPE, on SQLite and PostgreSQL with an injected clock: the
probations running and where the others stand, the reports due this month, the hearings in the
next 30 days, and the incidents (a periodic report past its term with no sweep run, a final
report past its term), every case judged in law."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from machines.calendar import ROME
from services import engine
from services.context import Context
from services.probation import dashboard
from tests.integration.test_probation import JUDGE, REQUEST, UEPE, at, pctx, running, sent

__all__ = ["pctx"]
MILAN = "UEPE di Milano"


def the_probations(ctx: Context) -> dict[str, str]:
    """In Turin: two running (one with a revocation hearing on 20 March), one before the judge,
    one in inquiry; in Milan: one of ten days, from 2 to 12 March."""
    cases = {
        "R1": running(ctx, person="persona-0001"),
        "R2": running(ctx, cadence=1, person="persona-0002"),
        "S": sent(ctx, person="persona-0003"),
    }
    other: dict[str, Any] = {**REQUEST, "person_key": "persona-0004"}
    cases["I"] = engine.open_case(ctx, "probation", UEPE, other).reference
    hearing = {
        "cause": "breach",
        "revocation_hearing_on": "2026-03-20",
        "notified_on": "2026-03-02",
    }
    engine.fire(ctx, cases["R2"], "set_revocation_hearing", JUDGE, hearing)
    milan: dict[str, Any] = {**REQUEST, "uepe": MILAN, "person_key": "persona-0009"}
    cases["M"] = engine.open_case(ctx, "probation", UEPE, milan).reference
    engine.fire(ctx, cases["M"], "inquire", UEPE, {"started_on": "2026-03-02"})
    engine.fire(
        ctx, cases["M"], "draft", UEPE,
        {"components": ["lpu"], "lpu_days": 10, "lpu_hours_per_day": "4",
         "drafted_on": "2026-03-02"},
    )  # fmt: skip
    engine.fire(
        ctx, cases["M"], "send", UEPE,
        {"sent_on": "2026-03-02", "consent": True, "entity_adherence": True},
    )  # fmt: skip
    engine.fire(
        ctx, cases["M"], "admit", JUDGE,
        {"ordered_on": "2026-03-02", "duration_months": 0, "duration_days": 10,
         "cadence_months": 1},
    )  # fmt: skip
    engine.fire(ctx, cases["M"], "sign", UEPE, {"record_signed_on": "2026-03-02"})
    return cases


def test_the_dashboard_per_office_with_reports_hearings_and_incidents(pctx: Context) -> None:
    cases = the_probations(pctx)
    at(pctx, datetime(2026, 3, 13, 9, 0, tzinfo=ROME))  # Milan's period (to 12 March) is over
    engine.fire(
        pctx, cases["M"], "set_hearing", JUDGE, {"hearing_on": "2026-04-10", "set_on": "2026-03-13"}
    )
    board = dashboard.probation_dashboard(pctx)
    offices = {o.uepe: o for o in board.offices}
    turin = offices[UEPE]
    assert (turin.running, turin.revocation_pending, turin.before_the_judge, turin.in_inquiry) == (
        2, 1, 1, 1,
    )  # fmt: skip
    assert offices[MILAN].running == 0
    # due in March: Milan's final report (10 April - 10 days = 31 March); R2's report is due on
    # 2 April, R1's in June
    due = [(d.reference, d.report, d.last_day.isoformat()) for d in board.reports_due]
    assert due == [(cases["M"], "relazione finale", "2026-03-31")]
    hearings = [(h.reference, h.hearing, h.on.isoformat()) for h in board.hearings]
    assert hearings == [
        (cases["R2"], "udienza di revoca", "2026-03-20"),
        (cases["M"], "udienza finale", "2026-04-10"),
    ]
    assert board.incidents == ()

    # 5 April: R2's monthly report (due 2 April) is late in law, no sweep has run; so is Milan's
    # final report (due 31 March)
    at(pctx, datetime(2026, 4, 5, 9, 0, tzinfo=ROME))
    board = dashboard.probation_dashboard(pctx)
    assert any(cases["R2"] in i and "relazione periodica" in i for i in board.incidents)
    assert any(cases["M"] in i and "relazione finale" in i for i in board.incidents)
    due = [(d.reference, d.report, d.last_day.isoformat()) for d in board.reports_due]
    assert (cases["R1"], "relazione periodica", "2026-06-02") not in due  # June, not April
    text = dashboard.dashboard_markdown(board)
    assert text.startswith("# Messe alla prova al 5 aprile 2026\n")
    assert f"| {UEPE} | 2 | 1 | 1 | 0 | 1 |" in text

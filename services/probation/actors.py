"""The judge's orders on a probation as the court registry sends them through the API
(`api/probation/routes.py`), with the platform's guarantees (`services/orders.py`): only the
probations before the registry's court; one application per Idempotency-Key; an order that
arrives once the probation has ended recorded in its history, never applied."""

from __future__ import annotations

from typing import Any

from machines.probation.machine import MACHINE, Probation
from services import engine, orders
from services.context import Context

S = Probation
ORDERS = orders.Orders(
    machine=MACHINE,
    ended=frozenset({S.EXTINGUISHED, S.RESUMED, S.REVOKED, S.WITHDRAWN, S.REFUSED}),
    late_basis=(
        "art. 464-quater ss. c.p.p.: provvedimento pervenuto a messa alla prova conclusa, "
        "revocata o non ammessa; registrato, non applicato"
    ),
)


def status_for_court(ctx: Context, reference: str, court: str) -> dict[str, Any] | None:
    """What the court's registry reads of a probation before it (None otherwise): its state in
    law, the order, the period, the programme's version and its LPU part, the hearing, the days
    served and their worth (art. 657-bis c.p.p.), the terms. The person only as a key."""
    with ctx.read() as uow:
        if not ORDERS.before(uow, reference, court):
            return None
    detail = engine.describe(ctx, reference)
    data, facts = detail.case.data, detail.facts
    return {
        "reference": reference,
        "state": detail.state,
        "state_label": MACHINE.label(detail.state),
        "court": court,
        "offence": facts.get("offence"),
        "ordered_on": data.get("ordered_on"),
        "duration_months": data.get("duration_months"),
        "duration_days": data.get("duration_days"),
        "cadence_months": data.get("cadence_months"),
        "record_signed_on": data.get("record_signed_on"),
        "period_last_day": facts.get("period_last_day"),
        "hearing_on": data.get("hearing_on"),
        "revocation_hearing_on": data.get("revocation_hearing_on"),
        "programme_version": facts.get("programme_version"),
        "lpu_days_planned": facts.get("lpu_days_planned"),
        "lpu_days_done": facts.get("lpu_days_done"),
        "days_served": facts.get("days_served"),
        "art_657_bis": facts.get("art_657_bis"),
        "deadlines": orders.deadlines(ctx, reference),
    }

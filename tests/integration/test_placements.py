"""Funded placements through the services, on SQLite and PostgreSQL, with an injected clock
(D.M. 128/2025 arts. 11-14)."""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, func, select

from machines.calendar import lapse_instant
from services import engine, notices, timers
from services.context import Context
from services.errors import (
    BudgetRefused,
    GuardFailed,
    InvalidInput,
    LateDecision,
    NotCovered,
    OutOfProtocolOrder,
    PlaceUnavailable,
    TransitionNotAllowed,
    UnknownReferenceData,
)
from services.placements import actors as placements
from services.placements import budget, dashboard, reallocation
from services.placements.actors import Outcome
from services.placements.effects import max_funded_days
from storage.models import OutboxMessage
from storage.placements.models import Presence, Reservation
from storage.placements.repository import PlacementRepository
from tests.support.placements import (
    ASSESSMENT,
    COURT_RM,
    COURT_TO,
    clock_of,
    placements_context,
    queued,
)


@pytest.fixture
def pctx(db: Engine) -> Context:
    return placements_context(db)


def state(ctx: Context, reference: str) -> str:
    return engine.describe(ctx, reference).case.state


def reservations(ctx: Context) -> list[Reservation]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(Reservation).order_by(Reservation.id)))


def active(ctx: Context) -> dict[str, tuple[str, int]]:
    """reference -> (convention id, place) of every active reservation."""
    with ctx.uow() as uow:
        return {
            uow.repo.case_by_id(r.case_id).reference: (str(r.convention_id), r.place)
            for r in uow.session.scalars(select(Reservation).where(Reservation.status == "active"))
        }


def test_an_application_goes_from_filing_to_the_court_in_one_reallocation(pctx: Context) -> None:
    reference = queued(pctx)
    assert state(pctx, reference) == "queued"
    report = reallocation.reallocate(pctx)
    assert [a.reference for a in report.attested] == [reference]
    assert state(pctx, reference) == "at_court"
    (held,) = reservations(pctx)
    assert (held.place, held.status, held.daily_rate) == (1, "active", Decimal("50.00"))
    assert held.issued_on == date(2026, 3, 2) and held.valid_until == date(2026, 5, 2)
    # The maximum cost of a funded stay is committed against the UIEPE's allocation: eight
    # months, the day of entry being the first paid day (art. 11 co. 4 D.M. 128/2025), are 245
    # days at most (1 March - 31 October).
    assert max_funded_days() == 245
    assert held.committed == Decimal("50.00") * 245
    history = [e.trigger for e in engine.describe(pctx, reference).history]
    assert history == ["open", "forward", "register", "admit", "attest", "transmit"]


def test_an_attestation_issued_on_31_december_lapses_at_midnight_after_february(
    pctx: Context,
) -> None:
    clock = clock_of(pctx)
    clock.instant = datetime(2026, 12, 31, 9, 0, tzinfo=UTC)
    reference = queued(pctx)
    reallocation.reallocate(pctx)
    (held,) = reservations(pctx)
    assert held.valid_until == date(2027, 2, 28)
    (timer,) = engine.describe(pctx, reference).pending_timers
    due = lapse_instant(date(2027, 2, 28))
    assert timer.due_at == due == datetime(2027, 2, 28, 23, 0, tzinfo=UTC)  # 00:00 in Rome

    timers.sweep(pctx, due - timedelta(seconds=1))
    assert state(pctx, reference) == "at_court"
    report = timers.sweep(pctx, due)
    assert report.fired == 1
    assert state(pctx, reference) == "lapsed"
    (released,) = reservations(pctx)
    assert (released.status, released.committed) == ("released", Decimal("0.00"))


def test_a_rejection_frees_the_place_for_the_next_in_protocol_order(pctx: Context) -> None:
    first, second, third = queued(pctx), queued(pctx), queued(pctx)
    reallocation.reallocate(pctx)  # one place at UIEPE-TO
    assert [state(pctx, r) for r in (first, second, third)] == ["at_court", "queued", "queued"]

    placements.record_decision(
        pctx, first, Outcome.REJECTED, date(2026, 3, 2), COURT_TO, "cancelleria", "SIUS 1/26"
    )
    assert state(pctx, first) == "rejected"
    report = reallocation.reallocate_signalled(pctx)
    assert [(a.reference, a.reassigned_from) for a in report.attested] == [(second, first)]
    assert [state(pctx, r) for r in (first, second, third)] == ["rejected", "at_court", "queued"]
    assert report.signals == 4  # 3 admissions and the rejection
    templates = _notice_templates(pctx)
    assert templates.count("riassegnazione") == 1
    assert templates.count("perdita_efficacia") == 1
    # Idempotent: a second run changes nothing.
    again = reallocation.reallocate_signalled(pctx)
    assert again.attested == [] and again.signals == 0
    assert reallocation.reallocate(pctx).attested == []


def test_a_decision_after_the_lapse_is_late_recorded_and_changes_nothing(pctx: Context) -> None:
    reference = queued(pctx)
    reallocation.reallocate(pctx)
    (timer,) = engine.describe(pctx, reference).pending_timers
    clock_of(pctx).instant = timer.due_at + timedelta(hours=9)
    timers.sweep(pctx, pctx.clock.now())
    assert state(pctx, reference) == "lapsed"
    before = reservations(pctx)

    with pytest.raises(LateDecision) as late:
        placements.record_decision(
            pctx, reference, Outcome.GRANTED, date(2026, 5, 2), COURT_TO, "cancelleria", None, "k1"
        )
    assert late.value.state == "lapsed" and late.value.since == "2026-05-03"
    assert late.value.status == 409
    detail = engine.describe(pctx, reference)
    assert detail.case.state == "lapsed"
    last = detail.history[-1]
    assert (last.trigger, last.from_state, last.to_state) == ("late_decision", "lapsed", "lapsed")
    assert last.payload["requested"] == "grant" and last.actor == "cancelleria"
    assert [(r.status, r.committed) for r in reservations(pctx)] == [
        (r.status, r.committed) for r in before
    ]
    # The same message again gets the same answer and is recorded once.
    with pytest.raises(LateDecision):
        placements.record_decision(
            pctx, reference, Outcome.GRANTED, date(2026, 5, 2), COURT_TO, "cancelleria", None, "k1"
        )
    assert len(engine.describe(pctx, reference).history) == len(detail.history)
    # The same decision under other keys: counted on the event, the trail does not grow.
    for key in ("k2", "k3"):
        with pytest.raises(LateDecision):
            placements.record_decision(
                pctx, reference, Outcome.GRANTED, date(2026, 5, 2), COURT_TO, "cancelleria",
                None, key,
            )  # fmt: skip
    again = engine.describe(pctx, reference).history
    assert len(again) == len(detail.history) and again[-1].repeats == 2
    # A different message is recorded on its own.
    with pytest.raises(LateDecision):
        placements.record_decision(
            pctx, reference, Outcome.REJECTED, date(2026, 5, 2), COURT_TO, "cancelleria", None,
            "k4",
        )  # fmt: skip
    last = engine.describe(pctx, reference).history[-1]
    assert (last.payload["requested"], last.repeats) == ("reject", 0)


def test_a_decision_before_any_attestation_is_refused_and_not_recorded(pctx: Context) -> None:
    reference = queued(pctx)
    length = len(engine.describe(pctx, reference).history)
    with pytest.raises(TransitionNotAllowed):
        placements.record_decision(
            pctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
        )
    assert len(engine.describe(pctx, reference).history) == length


@pytest.mark.parametrize(
    ("filed_on", "income", "cohabitants", "passes"),
    [
        (date(2025, 7, 11), "13659.64", 0, True),  # exactly the limit in force
        (date(2025, 7, 11), "13659.65", 0, False),  # one cent above
        (date(2025, 7, 10), "13000.00", 0, False),  # the older, lower limit (12,838.01)
        (date(2025, 7, 11), "13000.00", 0, True),
        (date(2025, 7, 10), "13870.92", 1, True),  # 12,838.01 + 1,032.91
        (date(2025, 7, 10), "13870.93", 1, False),
    ],
)
def test_income_limit_in_force_on_the_filing_date(
    pctx: Context, filed_on: date, income: str, cohabitants: int, passes: bool
) -> None:
    filed = placements.file_application(pctx, "CC-TO", COURT_TO, "istituto", filed_on)
    assessment = {**ASSESSMENT, "taxable_income": income, "cohabitants": cohabitants}
    placements.director_review(pctx, filed.reference, assessment, "direttore")
    detail = engine.describe(pctx, filed.reference)
    assert detail.case.state == ("forwarded" if passes else "refused")
    if not passes:
        assert "superiore al limite" in detail.case.data["reason"]
    # Art. 15: the income is in the case's data, not in the trail nor in the reason
    (judged,) = [e for e in detail.history if e.trigger in ("forward", "refuse")]
    assert income not in json.dumps([e.payload for e in detail.history])
    assert income not in detail.case.data.get("reason", "")
    kept = dict(detail.case.data["private"][judged.trigger])
    salt = kept.pop("salt")
    assert income in json.dumps(kept)
    assert judged.payload["private"]["digest"] == engine.private_digest(salt, kept)


def test_a_missing_requirement_refuses_the_application_naming_it(pctx: Context) -> None:
    filed = placements.file_application(pctx, "CC-TO", COURT_TO, "istituto")
    assessment = {**ASSESSMENT, "no_expulsion_order": False}
    assessment["equipe_report"] = {**ASSESSMENT["equipe_report"], "work_skills": False}
    result = placements.director_review(pctx, filed.reference, assessment, "direttore")
    assert result.to_state == "refused"
    reason = engine.describe(pctx, filed.reference).case.data["reason"]
    assert "assenza di provvedimenti di espulsione (art. 11 co. 1 d)" in reason
    assert "relazione dell'equipe: abilità lavorative (c)" in reason
    assert "art. 11 co. 1-2 D.M. 128/2025" in reason
    notices.render_pending_notices(pctx, notices.Office("-", "Roma"))
    (notice,) = notices.document_for(pctx, filed.reference)
    text = _pdf_text(notice.pdf)
    assert "Motivazione" in text and "abilità lavorative (c)" in text


@pytest.mark.parametrize("intake_order", list(itertools.permutations(range(3))))
def test_one_place_three_applicants_go_in_protocol_order(
    pctx: Context, intake_order: tuple[int, ...]
) -> None:
    """Protocol order is the UIEPE's registration order, not the filing order."""
    clock = clock_of(pctx)
    filed = [placements.file_application(pctx, "CC-TO", COURT_TO, "istituto") for _ in range(3)]
    for index in intake_order:
        reference = filed[index].reference
        placements.director_review(pctx, reference, ASSESSMENT, "direttore")
        clock.advance(timedelta(seconds=1))
        placements.intake(pctx, reference, "uiepe")
    for item in filed:  # admitted in filing order: does not change the queue
        placements.formal_check(pctx, item.reference, True, "uiepe")
    attested = []
    for _ in range(3):
        (got,) = reallocation.reallocate(pctx).attested
        attested.append(got.reference)
        placements.record_decision(
            pctx, got.reference, Outcome.REJECTED, date(2026, 3, 2), COURT_TO, "cancelleria"
        )
    assert attested == [filed[index].reference for index in intake_order]


def test_an_attestation_out_of_protocol_order_is_refused_whoever_fires_it(pctx: Context) -> None:
    first, second = queued(pctx), queued(pctx)
    with pytest.raises(OutOfProtocolOrder) as refused:
        engine.fire(pctx, second, "attest", "clerk", {"convention": "CONV-TO-1", "place": 1})
    assert str(refused.value) == (
        f"l'istanza {first} precede questa nel protocollo dell'UIEPE ed è ancora in attesa "
        "(art. 12 co. 5 D.M. 128/2025)"
    )
    assert state(pctx, second) == "queued" and reservations(pctx) == []
    engine.fire(pctx, first, "attest", "clerk", {"convention": "CONV-TO-1", "place": 1})
    assert state(pctx, first) == "attested"


def test_suspended_facilities_get_no_attestation(pctx: Context) -> None:
    # UIEPE-RM: CONV-RM-2 is cheaper and has more places, but its facility is suspended.
    refs = [queued(pctx, "CC-RM", COURT_RM) for _ in range(3)]
    report = reallocation.reallocate(pctx)
    assert [(a.convention, a.place) for a in report.attested] == [
        ("CONV-RM-1", 1),
        ("CONV-RM-1", 2),
    ]
    assert state(pctx, refs[2]) == "queued"
    assert report.stopped_by == {
        "UIEPE-RM": "nessun posto libero in convenzione (art. 12 co. 4 D.M. 128/2025)"
    }


def test_a_place_is_not_attested_without_coverage(pctx: Context) -> None:
    # Not enough for one maximum stay at UIEPE-TO (50 x 245 = 12,250).
    budget.split(pctx, 2026, Decimal("20000.00"))  # TO gets 12,000.00 of it
    reference = queued(pctx)
    report = reallocation.reallocate(pctx)
    assert report.attested == [] and state(pctx, reference) == "queued"
    assert report.stopped_by["UIEPE-TO"] == (
        "l'assegnazione non copre il costo di un posto: restano EUR 12000.00, il posto libero "
        "meno costoso ne impegna EUR 12250.00 (art. 13 co. 6 D.M. 128/2025)"
    )
    with pytest.raises(NotCovered) as refused:
        engine.fire(pctx, reference, "attest", "clerk", {"convention": "CONV-TO-1", "place": 1})
    assert str(refused.value) == (
        "servono EUR 12250.00 (costo massimo del posto), restano EUR 12000.00 "
        "dell'assegnazione dell'UIEPE (art. 13 co. 6 D.M. 128/2025)"
    )
    resplit = budget.split(pctx, 2026, Decimal("30000.00"))  # money available: 18,000.00
    assert [a.reference for a in resplit.attested] == [reference]
    assert state(pctx, reference) == "at_court"


def test_an_attestation_refused_says_what_is_missing(pctx: Context) -> None:
    """Each refusal names the place, the convention, the UIEPE or the year, with its article
    where the law sets the rule (art. 13 co. 1: the allocation of the year)."""
    reference = queued(pctx)

    def attest(convention: str, place: int) -> None:
        payload = {"convention": convention, "place": place}
        engine.fire(pctx, reference, "attest", "clerk", payload)

    with pytest.raises(PlaceUnavailable) as unavailable:
        attest("CONV-TO-1", 2)
    assert str(unavailable.value) == (
        "il posto 2 non esiste: la convenzione CONV-TO-1 ha i posti da 1 a 1"
    )
    with pytest.raises(UnknownReferenceData) as unknown:
        attest("CONV-RM-1", 1)  # UIEPE-RM's, not the competent UIEPE-TO's
    assert str(unknown.value) == "nessuna convenzione 'CONV-RM-1' dell'UIEPE competente"
    with pytest.raises(UnknownReferenceData) as unknown:
        reallocation.reallocate(pctx, ["UIEPE-XX"])
    assert str(unknown.value) == "UIEPE 'UIEPE-XX' non presente nei dati di riferimento"
    filed = placements.file_application(pctx, "CC-TO", COURT_TO, "istituto")
    placements.director_review(pctx, filed.reference, ASSESSMENT, "direttore")
    placements.intake(pctx, filed.reference, "uiepe")
    with pytest.raises(InvalidInput) as unreasoned:
        placements.formal_check(pctx, filed.reference, False, "uiepe")
    assert str(unreasoned.value) == (
        "per l'esito negativo della verifica formale serve il motivo (art. 12 co. 4 D.M. 128/2025)"
    )
    clock_of(pctx).instant = datetime(2028, 3, 1, 9, 0, tzinfo=UTC)  # nothing split for 2028
    with pytest.raises(NotCovered) as uncovered:
        attest("CONV-TO-1", 1)
    assert str(uncovered.value) == (
        "nessuna assegnazione di fondi all'UIEPE per il 2028 (art. 13 co. 1 D.M. 128/2025)"
    )
    report = reallocation.reallocate(pctx)
    assert report.attested == [] and report.waiting == {"UIEPE-TO": 1}
    assert report.stopped_by == {
        "UIEPE-TO": "nessuna assegnazione di fondi per il 2028 (art. 13 co. 1 D.M. 128/2025)"
    }


def test_a_resplit_never_gives_a_uiepe_less_than_it_holds(pctx: Context) -> None:
    queued(pctx)
    reallocation.reallocate(pctx)  # TO commits 12,250.00 (50 x 245)
    with pytest.raises(BudgetRefused) as refused:
        budget.split(pctx, 2026, Decimal("20000.00"))
    assert str(refused.value) == (
        "nuova ripartizione rifiutata: a un UIEPE non si assegna meno di quanto ha già "
        "impegnato (art. 13 co. 7 D.M. 128/2025): UIEPE-TO ha già impegnato EUR 12250.00, "
        "più della nuova quota di EUR 12000.00"
    )
    with pctx.uow() as uow:
        assert sum(a.amount for a in PlacementRepository.of(uow).allocations(2026)) == Decimal(
            "7000000.00"
        )


def test_the_stop_refuses_new_applications_at_intake_until_lifted(pctx: Context) -> None:
    budget.stop(pctx, 2026, "limite nazionale raggiunto")
    filed = placements.file_application(pctx, "CC-TO", COURT_TO, "istituto")
    placements.director_review(pctx, filed.reference, ASSESSMENT, "direttore")
    # The machine refuses the registration, whoever asks: nothing is written.
    for register in (
        lambda: placements.intake(pctx, filed.reference, "uiepe"),
        lambda: engine.fire(pctx, filed.reference, "register", "uiepe"),
    ):
        with pytest.raises(GuardFailed, match=r"limite nazionale raggiunto \(art. 13 co. 7"):
            register()
    detail = engine.describe(pctx, filed.reference)
    assert (detail.state, [e.trigger for e in detail.history]) == (
        "forwarded",
        ["open", "forward"],
    )
    budget.lift_stop(pctx, 2026)
    assert placements.intake(pctx, filed.reference, "uiepe").to_state == "registered"
    assert state(pctx, queued(pctx)) == "queued"


def test_a_stay_with_absences_is_paid_for_its_days_of_presence(pctx: Context) -> None:
    clock = clock_of(pctx)
    reference = queued(pctx)
    reallocation.reallocate(pctx)
    placements.record_decision(
        pctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
    )
    with pytest.raises(GuardFailed, match="impegno scritto"):
        placements.record_entry(pctx, reference, False, "struttura")
    clock.advance(timedelta(days=1))  # enters on 3 March
    placements.record_entry(pctx, reference, True, "struttura")
    (held,) = reservations(pctx)
    assert held.funded_until == date(2026, 11, 2)  # the day of entry is the first paid day
    assert held.committed == Decimal("50.00") * 245  # 3 March - 2 November
    clock.advance(timedelta(days=40))  # 12 April
    absences = {date(2026, 3, 10), date(2026, 3, 11), date(2026, 4, 1)}
    summary = placements.record_presence(
        pctx, reference, date(2026, 3, 3), date(2026, 4, 11), absences
    )
    assert (summary.recorded, summary.present, summary.absent) == (40, 37, 3)
    assert (summary.unreported, summary.payable) == ([], "1850.00")
    placements.record_exit(pctx, reference, date(2026, 4, 12), "struttura")
    (ended,) = reservations(pctx)
    assert ended.status == "ended" and ended.left_on == date(2026, 4, 12)
    assert ended.committed == Decimal("50.00") * 37
    usage = budget.figures(pctx, 2026)[1]
    assert (usage.spent, usage.committed) == (Decimal("1850.00"), Decimal("0.00"))
    placements.close(pctx, reference, "uiepe")
    assert state(pctx, reference) == "closed"


def test_a_stay_is_funded_for_eight_months_at_most(pctx: Context) -> None:
    """Eight months, the day of entry being the first paid one (art. 11 co. 4 D.M. 128/2025):
    entering on 2 March 2026 the last funded day is 1 November. Only the days the facility
    reported as present are paid (art. 13 co. 5): the months nobody reported are listed, not
    filled in."""
    clock = clock_of(pctx)
    reference = queued(pctx)
    reallocation.reallocate(pctx)
    placements.record_decision(
        pctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
    )
    placements.record_entry(pctx, reference, True, "struttura")  # 2 March
    (held,) = reservations(pctx)
    assert held.funded_until == date(2026, 11, 1)
    assert held.committed == Decimal("50.00") * 245  # 2 March - 1 November
    end = lapse_instant(date(2026, 11, 1))  # 00:00 of 2 November in Rome
    due = {t.name: t.due_at for t in engine.describe(pctx, reference).pending_timers}
    assert due["funded_stay"] == end
    clock.advance(timedelta(days=30))  # 1 April
    march = placements.record_month_presence(pctx, reference, 2026, 3, {date(2026, 3, 5)})
    assert (march.start, march.end, march.recorded) == (date(2026, 3, 2), date(2026, 3, 31), 30)
    assert (march.present, march.absent, march.unreported, march.payable) == (
        29,
        1,
        [],
        "1450.00",
    )
    warning = lapse_instant(date(2026, 10, 2))  # 30 days before the last funded day
    report = timers.sweep(pctx, warning)
    assert report.fired == 1 and state(pctx, reference) == "placed"  # the 30-day warning
    timers.sweep(pctx, end)
    assert state(pctx, reference) == "ended"
    (ended,) = reservations(pctx)
    assert ended.left_on == date(2026, 11, 2)
    assert ended.committed == Decimal("50.00") * 29  # March's days of presence, no more
    with pctx.uow() as uow:
        count = uow.session.scalar(select(func.count()).select_from(Presence))
    assert count == 30  # what the facility reported; nothing is filled in
    assert budget.figures(pctx, 2026)[1].spent == Decimal("1450.00")
    templates = _notice_templates(pctx)
    assert "avviso_fine_finanziamento" in templates


def test_a_monthly_return_covers_the_month_within_the_stay(pctx: Context) -> None:
    """`misure placement presence REF --month`: the month's days from the entry to today and
    never past the last funded day (art. 13 co. 5, art. 11 co. 4 D.M. 128/2025)."""
    clock = clock_of(pctx)
    reference = queued(pctx)
    reallocation.reallocate(pctx)
    placements.record_decision(
        pctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
    )
    clock.advance(timedelta(days=8))  # enters on 10 March: funded until 9 November
    placements.record_entry(pctx, reference, True, "struttura")
    clock.instant = datetime(2026, 4, 15, 9, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        placements.record_month_presence(pctx, reference, 2026, 2, set())
    assert str(refused.value) == (
        "il mese 02/2026 non ha giorni di permanenza tra l'ingresso (10/03/2026) e il 15/04/2026"
    )
    with pytest.raises(InvalidInput) as refused:
        placements.record_month_presence(pctx, reference, 2026, 3, {date(2026, 3, 9)})
    assert str(refused.value) == "assenze fuori dal periodo 10/03/2026 - 31/03/2026: 09/03/2026"
    # April so far, today included: 1-15 April; March was never returned.
    april = placements.record_month_presence(pctx, reference, 2026, 4, {date(2026, 4, 2)})
    assert (april.start, april.end, april.recorded) == (date(2026, 4, 1), date(2026, 4, 15), 15)
    march_days = [date(2026, 3, 10) + timedelta(days=n) for n in range(22)]
    assert (april.present, april.absent, april.unreported) == (14, 1, march_days)
    assert april.payable == "700.00"
    march = placements.record_month_presence(pctx, reference, 2026, 3, set())
    assert (march.start, march.end, march.recorded) == (date(2026, 3, 10), date(2026, 3, 31), 22)
    assert (march.present, march.unreported, march.payable) == (36, [], "1800.00")
    # Returning a month again corrects it.
    again = placements.record_month_presence(pctx, reference, 2026, 3, {date(2026, 3, 10)})
    assert (again.present, again.absent, again.payable) == (35, 2, "1750.00")
    with pytest.raises(InvalidInput, match=r"^2026-13 non è un mese valido \(AAAA-MM\)$"):
        placements.record_month_presence(pctx, reference, 2026, 13, set())


def test_days_nobody_reported_before_the_exit_are_not_paid(pctx: Context) -> None:
    """The facility reports 10-19 March; the person leaves on 25 March: 20-24 March are
    unreported, not paid (art. 13 co. 5 D.M. 128/2025), and no presence is accepted after."""
    clock = clock_of(pctx)
    reference = queued(pctx)
    reallocation.reallocate(pctx)
    placements.record_decision(
        pctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
    )
    clock.advance(timedelta(days=8))  # enters on 10 March
    placements.record_entry(pctx, reference, True, "struttura")
    clock.advance(timedelta(days=15))  # 25 March
    summary = placements.record_presence(
        pctx, reference, date(2026, 3, 10), date(2026, 3, 19), {date(2026, 3, 12)}
    )
    unreported = [date(2026, 3, 20) + timedelta(days=n) for n in range(5)]
    assert (summary.present, summary.absent, summary.unreported) == (9, 1, unreported)
    with pytest.raises(InvalidInput) as refused:
        placements.record_presence(pctx, reference, date(2026, 3, 9), date(2026, 3, 19), set())
    assert str(refused.value) == (
        "il periodo 09/03/2026 - 19/03/2026 deve cadere tra l'ingresso (10/03/2026) e il 25/03/2026"
    )
    with pytest.raises(InvalidInput) as refused:
        placements.record_presence(pctx, reference, date(2026, 3, 19), date(2026, 3, 10), set())
    assert str(refused.value) == "la fine del periodo (10/03/2026) precede l'inizio (19/03/2026)"
    with pytest.raises(InvalidInput) as refused:
        placements.record_exit(pctx, reference, date(2026, 3, 26), "struttura")
    assert str(refused.value) == (
        "la data di uscita (26/03/2026) deve essere tra l'ingresso (10/03/2026) e oggi (25/03/2026)"
    )
    placements.record_exit(pctx, reference, date(2026, 3, 25), "struttura")
    (ended,) = reservations(pctx)
    assert ended.committed == Decimal("50.00") * 9
    with pctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Presence)) == 10
    with pytest.raises(TransitionNotAllowed) as refused:
        placements.record_month_presence(pctx, reference, 2026, 3, set())
    assert str(refused.value) == (
        "le presenze si annotano solo mentre la persona è accolta in struttura; "
        f"{reference} è nello stato 'ended'"
    )


def test_the_dashboard_counts_the_days_of_current_stays_nobody_reported(pctx: Context) -> None:
    """Up to yesterday, never past the last funded day: not paid until reported present (art.
    13 co. 5 D.M. 128/2025)."""
    clock = clock_of(pctx)
    reference = queued(pctx)
    reallocation.reallocate(pctx)
    placements.record_decision(
        pctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
    )
    clock.advance(timedelta(days=8))  # enters on 10 March
    placements.record_entry(pctx, reference, True, "struttura")
    clock.advance(timedelta(days=10))  # 20 March: 10-14 reported, 15-19 not, today still open
    placements.record_presence(pctx, reference, date(2026, 3, 10), date(2026, 3, 14), set())
    boards = {board.office: board for board in dashboard.dashboards(pctx)}
    assert (boards["UIEPE-TO"].occupied, boards["UIEPE-TO"].unreported) == (1, 5)
    assert boards["UIEPE-RM"].unreported == 0
    markdown = dashboard.dashboard_markdown(boards["UIEPE-TO"], date(2026, 3, 20))
    assert "non rilevati dalla struttura fino a ieri" in markdown and ": 5" in markdown


def test_quarterly_monitoring_stops_new_applications_near_the_national_limit(
    pctx: Context,
) -> None:
    budget.split(pctx, 2026, Decimal("24000.00"))  # TO 14,400 and RM 9,600
    first = budget.monitor(pctx, 2026, 1)
    assert first.stop is None
    assert first.national.allocated == Decimal("24000.00")
    queued(pctx)
    queued(pctx, "CC-RM", COURT_RM)
    # TO commits 12,250; RM cannot: 60 x 245 = 14,700 > 9,600.
    assert [a.office for a in reallocation.reallocate(pctx).attested] == ["UIEPE-TO"]
    # Nationally 11,750 is left, less than a stay at the cheapest rate in force (50 x 245).
    second = budget.monitor(pctx, 2026, 2)
    assert second.national.projected == Decimal("12250.00")
    assert second.national.waiting == 1
    assert second.stop is not None and "insufficiente" in second.stop
    assert len(budget.monitoring_reports(pctx, 2026, 2)) == 3  # two UIEPEs and the nation
    filed = placements.file_application(pctx, "CC-TO", COURT_TO, "istituto")
    placements.director_review(pctx, filed.reference, ASSESSMENT, "direttore")
    with pytest.raises(GuardFailed, match="insufficiente"):
        placements.intake(pctx, filed.reference, "uiepe")
    # Monitoring the same quarter again keeps its reports.
    budget.monitor(pctx, 2026, 2)
    assert len(budget.monitoring_reports(pctx, 2026, 2)) == 3


def test_withdrawal_frees_a_held_place_and_a_pending_one_holds_nothing(pctx: Context) -> None:
    first, second = queued(pctx), queued(pctx)
    reallocation.reallocate(pctx)
    placements.withdraw(pctx, second, "istituto")  # still queued: nothing to free
    placements.withdraw(pctx, first, "istituto")
    assert [r.status for r in reservations(pctx)] == ["released"]
    third = queued(pctx)
    assert [a.reference for a in reallocation.reallocate(pctx).attested] == [third]


def _notice_templates(ctx: Context) -> list[str]:
    with ctx.uow() as uow:
        query = select(OutboxMessage).where(OutboxMessage.topic == "notice")
        return [str(m.payload.get("template")) for m in uow.session.scalars(query)]


def _pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )


def test_the_notices_of_a_placement_name_facility_dates_and_articles(pctx: Context) -> None:
    clock = clock_of(pctx)
    clock.instant = datetime(2026, 12, 31, 9, 0, tzinfo=UTC)
    first, second = queued(pctx), queued(pctx)
    reallocation.reallocate(pctx)
    (timer,) = engine.describe(pctx, first).pending_timers
    clock.instant = timer.due_at
    timers.sweep(pctx, timer.due_at)  # the first lapses: its place goes to the second
    reallocation.reallocate_signalled(pctx)
    report = notices.render_pending_notices(pctx, notices.Office("(non usato)", "Roma"))
    assert report.failed == 0
    texts = {
        (ref, d.template): _pdf_text(d.pdf)
        for ref in (first, second)
        for d in notices.document_for(pctx, ref)
    }
    attestation = texts[(first, "attestazione")]
    for fact in (
        "UFFICIO INTERDISTRETTUALE DI ESECUZIONE PENALE ESTERNA DI TORINO",  # the header
        "Comunità Il Ponte",
        "Via Nizza 10, Torino",
        "31 dicembre 2026",
        "28 febbraio 2027",
        "art. 12",
        "Tribunale di sorveglianza di Torino",
    ):
        assert fact in attestation, fact
    assert "28 febbraio 2027" in texts[(first, "trasmissione_attestazione")]
    lapse = texts[(first, "perdita_efficacia")]
    assert "co. 9" in lapse and "28 febbraio 2027" in lapse
    reassignment = texts[(second, "riassegnazione")]
    assert first in reassignment and second in reassignment
    assert "1 maggio 2027" in texts[(second, "attestazione")]  # reissued 1 March 2027
    assert "(non usato)" not in attestation  # the competent UIEPE signs, not the default


def test_the_cost_statement_shows_days_of_presence_times_the_rate(pctx: Context) -> None:
    clock = clock_of(pctx)
    reference = queued(pctx)
    reallocation.reallocate(pctx)
    placements.record_decision(
        pctx, reference, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria"
    )
    placements.record_entry(pctx, reference, True, "struttura")
    clock.advance(timedelta(days=20))
    placements.record_presence(
        pctx, reference, date(2026, 3, 2), date(2026, 3, 21), {date(2026, 3, 7)}
    )
    clock.advance(timedelta(days=2))  # 24 March: 22 and 23 March were never reported
    placements.record_exit(pctx, reference, date(2026, 3, 24), "struttura")
    placements.close(pctx, reference, "uiepe")
    notices.render_pending_notices(pctx, notices.Office("-", "Roma"))
    (statement,) = [
        d for d in notices.document_for(pctx, reference) if d.template == "prospetto_spese"
    ]
    text = " ".join(_pdf_text(statement.pdf).split())
    assert "art. 14" in text
    assert "Giornate di effettiva presenza 19" in text
    assert "19 giornate × € 50,00 = € 950,00" in text  # unreported days are not paid
    assert "Giornate di assenza 1 (7 marzo 2026)" in text
    assert (
        "Giorni non rilevati dalla struttura (non liquidati) 2 (22 marzo 2026; 23 marzo 2026)"
        in text
    )

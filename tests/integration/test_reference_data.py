"""`ref load` against the live data, on SQLite and PostgreSQL (issue 11, item 6): a change that
would break a place held, a stay in progress or a split appropriation is refused naming the
record and field, and nothing of the document is written; a change that keeps them true is
taken. The money strings it reads, as properties."""

from __future__ import annotations

import copy
import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from services.context import Context
from services.errors import InvalidInput
from services.placements import actors as placements
from services.placements import reallocation, reference
from services.placements.actors import Outcome
from services.placements.reference import MONEY_MAX, money
from storage.database import make_engine
from storage.placements.models import Allocation, BudgetYear, Convention, Facility, Office, Prison
from tests.support.placements import COURT_RM, COURT_TO, REFERENCE, placements_context, queued


@pytest.fixture
def pctx(db: Engine) -> Context:
    return placements_context(db)


def stored(ctx: Context) -> dict[str, list[tuple[Any, ...]]]:
    """The reference data and the allocations, row by row."""
    with ctx.uow() as uow:
        return {
            model.__tablename__: sorted(
                tuple(row) for row in uow.session.execute(select(model.__table__)).all()
            )
            for model in (Office, Prison, Facility, Convention, BudgetYear, Allocation)
        }


def changed(**conventions: dict[str, Any]) -> dict[str, Any]:
    """The fictional reference data with some conventions' fields changed, by code."""
    document = copy.deepcopy(REFERENCE)
    for row in document["conventions"]:
        row |= conventions.get(row["code"].replace("-", "_"), {})
    return document


def refused(ctx: Context, document: dict[str, Any]) -> InvalidInput:
    before = stored(ctx)
    with pytest.raises(InvalidInput) as caught:
        reference.load(ctx, document)
    assert stored(ctx) == before
    return caught.value


def test_a_stay_in_progress_keeps_its_convention(pctx: Context) -> None:
    case = queued(pctx)
    (attested,) = reallocation.reallocate(pctx).attested
    assert (attested.convention, attested.place) == ("CONV-TO-1", 1)
    placements.record_decision(
        pctx, case, Outcome.GRANTED, date(2026, 3, 2), COURT_TO, "cancelleria", "SIUS 1/26"
    )
    assert placements.record_entry(pctx, case, True, "struttura").to_state == "placed"
    for change, field, reason in [
        ({"daily_rate": "50.01"}, "daily_rate", "alla tariffa di EUR 50.00: 1"),
        ({"office": "UIEPE-RM"}, "office", "convenzione di UIEPE-TO"),
        ({"facility": "FAC-RM-1"}, "facility", "presso FAC-TO-1"),
        ({"valid_from": "2026-03-03"}, "valid_from", "attestato il 02/03/2026"),
        ({"valid_until": "2026-03-01"}, "valid_until", "attestato il 02/03/2026"),
    ]:
        error = refused(pctx, changed(CONV_TO_1=change))
        assert error.field == f"conventions[0].{field}"
        assert str(error).startswith(f"dati di riferimento, conventions[0] CONV-TO-1, {field}: ")
        assert reason in str(error)
    # The same terms written otherwise, more places, a longer period: the stay is untouched.
    reference.load(pctx, changed(CONV_TO_1={"daily_rate": "50", "places": 4}))
    assert stored(pctx)["conventions"][0][5] == 4


def test_a_released_place_still_binds_the_parties_not_the_rate(pctx: Context) -> None:
    case = queued(pctx, "CC-RM", COURT_RM)
    (attested,) = reallocation.reallocate(pctx).attested
    assert (attested.convention, attested.place) == ("CONV-RM-1", 1)
    placements.record_decision(
        pctx, case, Outcome.REJECTED, date(2026, 3, 2), COURT_RM, "cancelleria", "SIUS 2/26"
    )
    # The rejected case's history still names CONV-RM-1 at FAC-RM-1, of UIEPE-RM.
    assert refused(pctx, changed(CONV_RM_1={"facility": "FAC-TO-1"})).field == (
        "conventions[1].facility"
    )
    assert refused(pctx, changed(CONV_RM_1={"office": "UIEPE-TO"})).field == (
        "conventions[1].office"
    )
    reference.load(pctx, changed(CONV_RM_1={"daily_rate": "65.00", "places": 1}))


def test_an_appropriation_stays_above_what_is_split(pctx: Context) -> None:
    queued(pctx)
    reallocation.reallocate(pctx)  # EUR 12,250 committed at UIEPE-TO in 2026
    document = copy.deepcopy(REFERENCE)
    document["budget_years"] = [{"year": 2026}, {"year": 2027, "appropriation": "6999999.99"}]
    error = refused(pctx, document)
    assert error.field == "budget_years[1].appropriation"
    assert "EUR 7000000.00, di cui EUR 0.00 impegnati" in str(error)
    document["budget_years"] = [{"year": 2026, "appropriation": "100.00"}]
    assert "di cui EUR 12250.00 impegnati" in str(refused(pctx, document))
    document["budget_years"] = [{"year": 2026, "appropriation": "9000000.00"}, {"year": 2028}]
    assert reference.load(pctx, document)["budget_years"] == 2


def test_a_refusal_late_in_the_document_leaves_its_earlier_records_unwritten(
    pctx: Context,
) -> None:
    queued(pctx)
    reallocation.reallocate(pctx)
    document = changed(CONV_TO_1={"places": 2, "daily_rate": "45.00"})
    document["offices"][0]["detainees"] = 1
    document["facilities"].append({**document["facilities"][0], "code": "FAC-NEW"})
    document["conventions"].append({**document["conventions"][1], "code": "CONV-NEW"})
    assert refused(pctx, document).field == "conventions[0].daily_rate"


@pytest.mark.postgres
def test_a_load_waits_for_an_attestation_in_progress(postgres_url: str) -> None:
    """An attestation locks its UIEPE's allocation before it reads the convention (effects):
    a load that changes a convention of that UIEPE waits for it, and then sees what it took."""
    db = make_engine(postgres_url)
    ctx = placements_context(db)
    finished = threading.Event()
    failures: list[Exception] = []

    def load() -> None:
        try:
            reference.load(ctx, changed(CONV_TO_1={"places": 2}))
        except Exception as error:
            failures.append(error)
        finally:
            finished.set()

    with db.connect() as attestation:
        office = select(Office.id).where(Office.code == "UIEPE-TO").scalar_subquery()
        attestation.execute(
            select(Allocation.year).where(Allocation.office_id == office).with_for_update()
        ).all()
        loader = threading.Thread(target=load)
        loader.start()
        assert not finished.wait(1.0)  # held behind the attestation's lock
        attestation.rollback()
    loader.join(30)
    assert finished.is_set() and failures == []
    db.dispose()


# The money strings ----------------------------------------------------------------------------
cents = st.decimals(min_value=Decimal(0), max_value=MONEY_MAX, places=2)


@given(cents)
def test_an_amount_to_the_cent_reads_as_itself(amount: Decimal) -> None:
    assert money(format(amount, "f")) == amount
    assert money(amount) == amount


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.booleans())
def test_a_json_number_is_never_money(value: object) -> None:
    with pytest.raises(ValueError, match="si scrive come stringa"):
        money(value)


@given(st.text(max_size=20))
def test_a_string_is_money_only_as_digits_with_at_most_two_decimals(text: str) -> None:
    digits, point, decimals = text.partition(".")
    shaped = (
        digits.isascii()
        and digits.isdigit()
        and (not point or (decimals.isascii() and decimals.isdigit() and len(decimals) <= 2))
    )
    if shaped and Decimal(text) <= MONEY_MAX:
        assert money(text) == Decimal(text)
    else:
        with pytest.raises(ValueError):
            money(text)


@given(cents.map(lambda amount: format(amount, "f")), st.sampled_from(["e0", "0", "-", "+", " "]))
def test_an_exponent_a_sign_a_third_decimal_or_a_space_is_refused(text: str, extra: str) -> None:
    whole = text if "." in text else f"{text}.00"
    spoiled = {"e0": whole + "e0", "0": whole + "0", "-": "-" + whole, "+": "+" + whole}
    with pytest.raises(ValueError):
        money(spoiled.get(extra, f" {whole}"))

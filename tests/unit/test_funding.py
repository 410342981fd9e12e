"""Money rules of funded placements: the income limit, the split to the cent, paid days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machines.placements.funding import (
    euros,
    income_refusal,
    income_threshold,
    split_pro_rata,
    stay_cost,
)

APPROPRIATION = Decimal("7000000.00")


@pytest.mark.parametrize(
    ("filed_on", "cohabitants", "limit"),
    [
        (date(2025, 7, 10), 0, "12838.01"),
        (date(2025, 7, 11), 0, "13659.64"),
        (date(2026, 3, 2), 2, "15725.46"),  # + 2 x 1,032.91 (art. 92)
        (date(2024, 1, 15), 1, "13870.92"),
    ],
)
def test_the_limit_in_force_depends_on_the_filing_date(
    filed_on: date, cohabitants: int, limit: str
) -> None:
    assert income_threshold(filed_on, cohabitants).amount == Decimal(limit)


def test_income_exactly_at_the_limit_passes_and_one_cent_above_is_refused() -> None:
    assert income_refusal(Decimal("13659.64"), date(2025, 7, 11), 0) is None
    reason = income_refusal(Decimal("13659.65"), date(2025, 7, 11), 0)
    assert reason is not None and "13659.64" in reason and "art. 76" in reason
    # The same income filed a day earlier meets the older, lower limit.
    assert income_refusal(Decimal("13659.64"), date(2025, 7, 10), 0) is not None
    assert income_refusal(Decimal("13659.65"), date(2025, 7, 11), 1) is None


def test_money_is_never_a_float() -> None:
    with pytest.raises(TypeError):
        euros(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        euros("1.005")


def test_the_default_appropriation_split_by_detainees() -> None:
    parts = split_pro_rata(APPROPRIATION, {"Lazio": 6_123, "Lombardia": 8_456, "Sicilia": 6_789})
    assert sum(parts.values()) == APPROPRIATION
    # Exact shares 2,005,849.8689..., 2,770,123.5492..., 2,224,026.5818...: the two cents left
    # after rounding down go to the largest remainders (Lombardia .92, Lazio .89).
    assert parts == {
        "Lazio": Decimal("2005849.87"),
        "Lombardia": Decimal("2770123.55"),
        "Sicilia": Decimal("2224026.58"),
    }


@given(
    total=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    weights=st.dictionaries(
        st.text(min_size=1, max_size=5), st.integers(min_value=0, max_value=100_000), min_size=1
    ).filter(lambda w: sum(w.values()) > 0),
)
def test_a_split_adds_up_to_the_cent_and_is_proportional(
    total: Decimal, weights: dict[str, int]
) -> None:
    parts = split_pro_rata(total, weights)
    assert sum(parts.values()) == total
    whole = sum(weights.values())
    for key, weight in weights.items():
        exact = total * weight / whole
        assert abs(parts[key] - exact) < Decimal("0.01")
        assert parts[key] == parts[key].quantize(Decimal("0.01"))
        if weight == 0:
            assert parts[key] == 0


def test_a_stay_costs_its_days_of_presence_times_the_rate() -> None:
    assert stay_cost(8, Decimal("55.50")) == Decimal("444.00")
    with pytest.raises(ValueError):
        stay_cost(-1, Decimal("55.50"))

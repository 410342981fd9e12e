"""Legal terms (DOMAIN.md section 6): named cases from the law, and properties over all dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machines.calendar import (
    ROME,
    CalendarMismatch,
    TermRule,
    Unit,
    add_months,
    holidays_of,
    is_holiday,
    lapse_instant,
    next_working_day,
    rome_date,
)

DAYS_30 = TermRule(30, Unit.DAYS, extend_on_holiday=True, article="art. 172 c.p.p.")
TWO_MONTHS = TermRule(2, Unit.MONTHS, extend_on_holiday=False, article="art. 12 co. 6")
dates = st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31))


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2026, 12, 31), date(2027, 2, 28)),  # 31 December + 2 months: last day of February
        (date(2027, 12, 31), date(2028, 2, 29)),  # leap year
        (date(2026, 12, 30), date(2027, 2, 28)),
        (date(2026, 1, 15), date(2026, 3, 15)),
        (date(2026, 10, 31), date(2026, 12, 31)),
        (date(2026, 11, 30), date(2027, 1, 30)),
    ],
)
def test_month_terms_end_on_the_same_day_or_the_month_end(start: date, expected: date) -> None:
    assert TWO_MONTHS.last_day(start) == expected


def test_a_validity_period_is_not_extended_even_on_a_holiday() -> None:
    # 25 October 2026 + 2 months = 25 December 2026, Christmas: the reservation still ends then.
    assert TWO_MONTHS.last_day(date(2026, 10, 25)) == date(2026, 12, 25)


@pytest.mark.parametrize(
    ("start", "nominal", "expected", "why"),
    [
        (date(2026, 3, 7), date(2026, 4, 6), date(2026, 4, 7), "Easter Monday 2026"),
        (date(2026, 9, 4), date(2026, 10, 4), date(2026, 10, 5), "4 October 2026 (a Sunday)"),
        (date(2027, 9, 4), date(2027, 10, 4), date(2027, 10, 5), "4 October 2027 (a Monday)"),
        (date(2026, 11, 25), date(2026, 12, 25), date(2026, 12, 28), "25-26 Dec, then Sunday"),
        (date(2027, 11, 26), date(2027, 12, 26), date(2027, 12, 27), "26 December 2027"),
        (date(2026, 5, 7), date(2026, 6, 6), date(2026, 6, 6), "a Saturday does not move"),
        (date(2025, 9, 4), date(2025, 10, 4), date(2025, 10, 4), "4 Oct 2025: not yet a holiday"),
        (date(2026, 4, 1), date(2026, 5, 1), date(2026, 5, 2), "1 May, then Saturday stands"),
    ],
)
def test_day_terms_move_past_holidays(start: date, nominal: date, expected: date, why: str) -> None:
    assert start + timedelta(days=30) == nominal, why
    assert DAYS_30.last_day(start) == expected, why


def test_the_holidays_package_agrees_with_the_legal_list() -> None:
    assert date(2026, 10, 4) in holidays_of(2026)
    assert date(2025, 10, 4) not in holidays_of(2025)
    assert date(2026, 4, 6) in holidays_of(2026)  # Easter Monday
    assert date(2026, 11, 1) in holidays_of(2026)
    # The package lists National Unity Day (first Sunday of November): not a legal holiday.
    assert date(2025, 11, 2) not in holidays_of(2025)
    assert date(2026, 4, 5) not in holidays_of(2026)  # Easter Sunday: a Sunday, not listed
    assert len(holidays_of(2026)) == 12
    assert len(holidays_of(2025)) == 11


def test_years_before_the_covered_calendar_are_refused() -> None:
    with pytest.raises(CalendarMismatch):
        holidays_of(1999)


@pytest.mark.parametrize(
    ("last_day", "due_utc"),
    [
        (date(2026, 3, 27), datetime(2026, 3, 27, 23, 0, tzinfo=UTC)),  # CET
        (date(2026, 3, 28), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),  # midnight before the change
        (date(2026, 3, 29), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),  # CEST from 29 March
        (date(2026, 10, 24), datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),  # still CEST
        (date(2026, 10, 25), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),  # CET again
    ],
)
def test_due_instants_across_daylight_saving_changes(last_day: date, due_utc: datetime) -> None:
    assert lapse_instant(last_day) == due_utc


def test_rome_date_of_a_late_evening_utc_instant_is_the_next_day() -> None:
    assert rome_date(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == date(2026, 7, 2)
    with pytest.raises(ValueError):
        rome_date(datetime(2026, 7, 1, 22, 30))


def test_a_term_needs_a_positive_amount() -> None:
    with pytest.raises(ValueError):
        TermRule(0, Unit.DAYS, True, "art. 172 c.p.p.")


@given(start=dates, amount=st.integers(min_value=1, max_value=400))
def test_day_terms_count_from_the_day_after_the_start(start: date, amount: int) -> None:
    plain = TermRule(amount, Unit.DAYS, extend_on_holiday=False, article="x")
    assert (plain.last_day(start) - start).days == amount


@given(start=dates, amount=st.integers(min_value=1, max_value=400))
def test_extension_lands_on_the_first_working_day(start: date, amount: int) -> None:
    nominal = start + timedelta(days=amount)
    extended = TermRule(amount, Unit.DAYS, extend_on_holiday=True, article="x").last_day(start)
    assert extended >= nominal
    assert not is_holiday(extended)
    skipped = [nominal + timedelta(days=i) for i in range((extended - nominal).days)]
    assert all(is_holiday(day) for day in skipped)
    assert (extended - nominal).days <= 3  # at most 25-26 December followed by a Sunday


@given(start=dates, months=st.integers(min_value=1, max_value=60))
def test_month_terms_keep_the_day_or_clamp_to_the_month_end(start: date, months: int) -> None:
    end = add_months(start, months)
    assert (end.year - start.year) * 12 + end.month - start.month == months
    if end.day != start.day:
        assert end.day < start.day
        assert (end + timedelta(days=1)).month != end.month  # clamped to the last day


@given(start=dates, months=st.integers(min_value=1, max_value=24))
def test_month_terms_are_monotone_in_the_start(start: date, months: int) -> None:
    later = start + timedelta(days=1)
    assert add_months(later, months) >= add_months(start, months)


@given(day=dates)
def test_due_instant_is_midnight_in_rome_after_the_last_day(day: date) -> None:
    due = lapse_instant(day)
    assert due.tzinfo == UTC
    local = due.astimezone(ROME)
    assert local.date() == day + timedelta(days=1)
    assert local.time() == time(0, 0)
    assert due - datetime.combine(day, time(0, 0), tzinfo=UTC) in (
        timedelta(hours=22),
        timedelta(hours=23),
    )


@given(day=dates)
def test_saturday_is_never_a_holiday_by_itself(day: date) -> None:
    if day.weekday() == 5:
        assert is_holiday(day) == (day in holidays_of(day.year))
    if day.weekday() == 6:
        assert is_holiday(day)
    assert not is_holiday(next_working_day(day))

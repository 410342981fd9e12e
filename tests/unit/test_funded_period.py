"""The funded stay of at most eight months, the day of entry being its first paid day (art. 11
co. 4 D.M. 128/2025), and what of it is paid: only the days the facility reported as present
(art. 13 co. 5). Named dates from the brief and properties over every entry from 2001 to 2099."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machines.calendar import ROME, TermRule, Unit, add_months, lapse_instant
from machines.placements import FUNDED_STAY, VALIDITY
from services.placements.effects import attendance
from storage.placements.models import Reservation

entries = st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31))
# Eight consecutive months last 242 days at the least (November - June, no 29 February) and
# 245 at the most (March - October, May - December); a period clamped to a shorter final month
# (31 March - 30 November: 245; 30 June 2027 - 29 February 2028: 245) stays within them.
SHORTEST, LONGEST = 242, 245


def _day_after_the_period(entry: date) -> date:
    """Independently of `add_months`: the same-numbered day eight months after the entry or,
    when that month has no such day, the first day of the month after it."""
    index = entry.month - 1 + 8
    try:
        return date(entry.year + index // 12, index % 12 + 1, entry.day)
    except ValueError:
        index += 1
        return date(entry.year + index // 12, index % 12 + 1, 1)


@pytest.mark.parametrize(
    ("entry", "last_funded_day"),
    [
        (date(2026, 1, 10), date(2026, 9, 9)),  # the brief's example
        (date(2026, 1, 31), date(2026, 9, 30)),  # no 31 September: its last day
        (date(2026, 3, 1), date(2026, 10, 31)),
        (date(2026, 6, 30), date(2027, 2, 28)),  # no 30 February
        (date(2027, 6, 30), date(2028, 2, 29)),  # leap year: no 30 February, 29 is the last
        (date(2027, 6, 29), date(2028, 2, 28)),  # 29 February 2028 exists: the day before
        (date(2026, 3, 2), date(2026, 11, 1)),
        (date(2026, 12, 31), date(2027, 8, 30)),  # 31 August exists: the day before
        (date(2026, 4, 30), date(2026, 12, 29)),
        (date(2026, 11, 1), date(2027, 6, 30)),
    ],
)
def test_the_day_of_entry_is_the_first_funded_day(entry: date, last_funded_day: date) -> None:
    assert FUNDED_STAY.last_day(entry) == last_funded_day


def test_the_funded_stay_timer_is_due_at_midnight_in_rome_after_the_last_day() -> None:
    # Entering on 10 January 2026: funded until 9 September; due 00:00 of 10 September in Rome
    # (summer time: 22:00 UTC of the 9th).
    due = FUNDED_STAY.due_at(date(2026, 1, 10))
    assert due == datetime(2026, 9, 9, 22, 0, tzinfo=UTC)
    assert due.astimezone(ROME) == datetime(2026, 9, 10, 0, 0, tzinfo=ROME)
    assert due == lapse_instant(date(2026, 9, 9))


def test_the_rule_declares_how_it_counts() -> None:
    assert FUNDED_STAY.counts_start_day
    assert (
        FUNDED_STAY.describe()
        == "8 mesi, computando il giorno iniziale (art. 11 co. 4 D.M. 128/2025)"
    )
    # Every other term keeps the ordinary count (art. 2963 c.c., art. 172 c.p.p.).
    assert not VALIDITY.counts_start_day
    assert VALIDITY.last_day(date(2026, 1, 10)) == date(2026, 3, 10)
    assert VALIDITY.describe() == "2 mesi (art. 12 co. 6 D.M. 128/2025)"


def test_a_day_period_that_counts_its_start_day() -> None:
    one = TermRule(1, Unit.DAYS, extend_on_holiday=False, article="x", counts_start_day=True)
    assert one.last_day(date(2026, 3, 2)) == date(2026, 3, 2)
    ten = TermRule(10, Unit.DAYS, extend_on_holiday=True, article="x", counts_start_day=True)
    # 16-25 December 2026: the 25th is Christmas, then 26 December and Sunday 27: Monday 28.
    assert ten.last_day(date(2026, 12, 16)) == date(2026, 12, 28)
    assert "computando il giorno iniziale, prorogato" in ten.describe()


def test_the_period_reaches_its_shortest_and_longest_lengths() -> None:
    assert (FUNDED_STAY.last_day(date(2026, 11, 1)) - date(2026, 11, 1)).days + 1 == SHORTEST
    assert (FUNDED_STAY.last_day(date(2026, 3, 1)) - date(2026, 3, 1)).days + 1 == LONGEST


@given(entry=entries)
def test_the_funded_period_from_any_entry(entry: date) -> None:
    last = FUNDED_STAY.last_day(entry)
    assert last >= entry
    assert last + timedelta(days=1) == _day_after_the_period(entry)
    assert SHORTEST <= (last - entry).days + 1 <= LONGEST
    # One day shorter than the ordinary month term, unless that term was clamped to the end of
    # a shorter month (then both end on that month's last day).
    ordinary = add_months(entry, 8)
    assert last == (ordinary if ordinary.day != entry.day else ordinary - timedelta(days=1))


@given(start=entries, amount=st.integers(min_value=1, max_value=400))
def test_a_day_period_counting_its_start_ends_a_day_before_the_ordinary_term(
    start: date, amount: int
) -> None:
    plain = TermRule(amount, Unit.DAYS, extend_on_holiday=False, article="x")
    counted = TermRule(
        amount, Unit.DAYS, extend_on_holiday=False, article="x", counts_start_day=True
    )
    assert counted.last_day(start) == plain.last_day(start) - timedelta(days=1)
    assert (counted.last_day(start) - start).days + 1 == amount


# What is paid of a stay (art. 13 co. 5): pure, over the facility's register. ------------------

RATE = Decimal("47.35")
REPORTS = st.sampled_from(["present", "absent", "unreported"])


@given(
    entry=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    length=st.integers(min_value=0, max_value=260),
    ended=st.booleans(),
    data=st.data(),
)
def test_only_days_reported_present_are_payable(
    entry: date, length: int, ended: bool, data: st.DataObject
) -> None:
    funded_until = FUNDED_STAY.last_day(entry)
    last = min(entry + timedelta(days=length - 1), funded_until)
    days = [entry + timedelta(days=n) for n in range((last - entry).days + 1)]
    labels = data.draw(st.lists(REPORTS, min_size=len(days), max_size=len(days)))
    register = {
        day: label == "present"
        for day, label in zip(days, labels, strict=True)
        if label != "unreported"
    }
    if ended:  # left the day after `last` (or the funded period ran out)
        stay = Reservation(
            entered_on=entry, funded_until=funded_until, left_on=last + timedelta(days=1)
        )
        today = last + timedelta(days=data.draw(st.integers(min_value=1, max_value=400)))
    else:  # still there: today is the day after `last`, not yet reported
        stay = Reservation(entered_on=entry, funded_until=funded_until, left_on=None)
        today = last + timedelta(days=1)
    account = attendance(stay, register, today)
    present = [d for d, label in zip(days, labels, strict=True) if label == "present"]
    absent = [d for d, label in zip(days, labels, strict=True) if label == "absent"]
    unreported = [d for d, label in zip(days, labels, strict=True) if label == "unreported"]
    assert account.present == len(present)
    assert list(account.absent) == absent
    assert list(account.unreported) == unreported
    assert account.payable(RATE) == RATE * len(present)
    assert account.payable(RATE) <= RATE * ((funded_until - entry).days + 1)
    assert account.present + len(account.absent) + len(account.unreported) == len(days)


def test_today_is_not_yet_unreported_and_nothing_past_the_funded_period_counts() -> None:
    entry = date(2026, 1, 10)
    stay = Reservation(entered_on=entry, funded_until=FUNDED_STAY.last_day(entry), left_on=None)
    assert attendance(stay, {}, entry).unreported == ()  # the day of entry itself: still open
    register = {entry: True, date(2026, 1, 12): False}
    account = attendance(stay, register, date(2026, 1, 14))
    assert (account.present, account.absent) == (1, (date(2026, 1, 12),))
    assert account.unreported == (date(2026, 1, 11), date(2026, 1, 13))
    # Long after the period: the days from the entry to 9 September, never past it.
    late = attendance(stay, {}, date(2027, 1, 1))
    assert late.unreported[-1] == date(2026, 9, 9) and len(late.unreported) == 243

"""The legal forms of LPU as dated data (DOMAIN.md section 4) and the conversion of a penalty
into days and hours (art. 135 c.p.): named legal cases, then properties over any register."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from math import ceil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machines.lpu.conversion import (
    ARREST_DAYS_MAX,
    FINE_MAX,
    RATES,
    convert,
    fine_amount,
    rate_on,
)
from machines.lpu.forms import (
    CODES,
    FORMS,
    Form,
    UnknownForm,
    form_in_force,
    forms_in_force,
    hours_refusal,
    weekly_capacity,
    weeks_needed,
)

TODAY = date(2026, 3, 2)  # a Monday
MONDAY, TUESDAY, SUNDAY = TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=6)


def refusal(code: str, day_hours: str, week_hours: str, authorised: bool = False) -> str | None:
    form = form_in_force(code, TODAY)
    return hours_refusal(form, TODAY, Decimal(day_hours), Decimal(week_hours), authorised)


# The registry ---------------------------------------------------------------------------------
def test_every_form_of_the_domain_table_and_the_substitute_lpu_is_recorded() -> None:
    assert CODES == ("A", "B", "C", "D", "E", "F", "G", "H", "I", "L", "M", "N", "S")
    for versions in FORMS.values():
        for form in versions:
            assert form.source and form.since_basis and form.imposed_by
            assert form.convention_with and form.breach_reported_to and form.on_completion
            assert form.duration.rule and form.duration.article


@pytest.mark.parametrize(
    ("code", "source"),
    [
        ("A", "art. 105 L. 689/1981"),
        ("B", "D.L. 122/1993"),
        ("C", "D.L. 8/2007"),
        ("D", "art. 54 d.lgs. 274/2000"),
        ("E", "art. 165 c.p."),
        ("F", "art. 73 co. 5-bis D.P.R. 309/1990"),
        ("G", "art. 224-bis C.d.S."),
        ("H", "art. 186 co. 9-bis C.d.S."),
        ("I", "art. 187 co. 8-bis C.d.S."),
        ("L", "art. 73 co. 5-ter D.P.R. 309/1990"),
        ("M", "art. 21 co. 4-ter L. 354/1975"),
        ("N", "art. 168-bis co. 3 c.p."),
        ("S", "art. 56-bis L. 689/1981"),
    ],
)
def test_each_form_names_its_source_article(code: str, source: str) -> None:
    assert source in form_in_force(code, date(2022, 12, 29) if code == "A" else TODAY).source


def test_an_unknown_code_is_refused_naming_the_known_codes() -> None:
    with pytest.raises(UnknownForm, match="le forme note sono A, B, C, D, E, F, G, H, I, L, M"):
        form_in_force("K", TODAY)
    assert form_in_force(" d ", TODAY).code == "D"  # a code as an operator types it


def test_the_2022_reform_replaces_the_conversion_of_unpaid_fines_with_substitute_lpu() -> None:
    last_day_before = date(2022, 12, 29)
    assert form_in_force("A", last_day_before).hours.working_days_per_week == 1
    with pytest.raises(UnknownForm, match=r"forma LPU A non in vigore il 30/12/2022.*forma S"):
        form_in_force("A", date(2022, 12, 30))
    with pytest.raises(UnknownForm, match="non in vigore il 29/12/2022"):
        form_in_force("S", last_day_before)
    assert form_in_force("S", date(2022, 12, 30)).hours.week_max is not None
    codes_before = {form.code for form in forms_in_force(last_day_before)}
    codes_after = {form.code for form in forms_in_force(date(2022, 12, 30))}
    assert codes_before - codes_after == {"A"} and codes_after - codes_before == {"S"}


@pytest.mark.parametrize(
    ("code", "before_since"),
    [("D", date(2002, 1, 1)), ("N", date(2014, 5, 16)), ("H", date(2010, 7, 28))],
)
def test_a_day_before_a_form_holds_is_refused(code: str, before_since: date) -> None:
    with pytest.raises(UnknownForm, match="non in vigore"):
        form_in_force(code, before_since)
    assert form_in_force(code, before_since + timedelta(days=1)).code == code


def test_an_entry_on_a_day_the_version_does_not_hold_is_refused() -> None:
    form_a = form_in_force("A", date(2022, 12, 29))
    reason = hours_refusal(form_a, date(2023, 1, 2), Decimal(2), Decimal(2), False)
    assert reason is not None and "non in vigore il 02/01/2023" in reason


@pytest.mark.parametrize(
    ("code", "min_days", "min_months", "max_months", "repeat_min"),
    [
        ("D", 10, None, 6, None),  # art. 54 co. 2 d.lgs. 274/2000
        ("G", None, 1, 6, 3),  # art. 224-bis co. 2 C.d.S.
        ("N", 10, None, None, None),  # art. 168-bis co. 3 c.p.
    ],
)
def test_durations_as_the_law_bounds_them(
    code: str, min_days: int | None, min_months: int | None, max_months: int | None,
    repeat_min: int | None,
) -> None:  # fmt: skip
    duration = form_in_force(code, TODAY).duration
    assert (duration.min_days, duration.min_months, duration.max_months) == (
        min_days,
        min_months,
        max_months,
    )
    assert duration.repeat_offender_min_months == repeat_min


def test_how_many_times_a_substitution_may_be_granted() -> None:
    assert form_in_force("F", TODAY).max_times == 2  # art. 73 co. 5-bis D.P.R. 309/1990
    assert form_in_force("H", TODAY).max_times == 1  # art. 186 co. 9-bis C.d.S.
    drunk = form_in_force("H", TODAY)
    assert any("opporsi" in note for note in drunk.notes)
    assert any("incidente" in note for note in drunk.notes)
    assert "pubblica sicurezza" in drunk.breach_reported_to
    assert "UEPE" in (form_in_force("F", TODAY).checked_by or "")


# Hours ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "day", "week", "authorised", "refused_with"),
    [
        # D: 6 hours a week unless asked and authorised (art. 54 co. 3), never over 8 a day
        # (co. 4), never over 40 a week (seed 003)
        ("D", "6", "6", False, None),
        ("D", "1", "7", False, "oltre 6 ore settimanali senza autorizzazione del giudice "
         "(art. 54 co. 3 d.lgs. 274/2000)"),
        ("D", "7", "7", True, None),
        ("D", "8", "40", True, None),
        ("D", "8.5", "8.5", True, "oltre 8 ore giornaliere (art. 54 co. 4 d.lgs. 274/2000)"),
        ("D", "1", "40.5", True, "oltre 40 ore settimanali anche con autorizzazione del giudice"),
        # H and I borrow art. 54's limits (seed 003 lists them for drunk driving)
        ("H", "2", "7", False, "oltre 6 ore settimanali senza autorizzazione del giudice"),
        ("H", "8", "40", True, None),
        ("I", "9", "9", True, "oltre 8 ore giornaliere"),
        # G: at most 8 hours a day (art. 224-bis co. 5 C.d.S.); 6 a week unless asked (co. 4)
        ("G", "8", "8", True, None),
        ("G", "8.25", "8.25", True, "oltre 8 ore giornaliere (art. 224-bis co. 5 C.d.S.)"),
        ("G", "3", "7", False, "oltre 6 ore settimanali senza autorizzazione del giudice"),
        ("G", "8", "56", True, None),
        # B and C: at most 12 hours a week, whatever is asked
        ("B", "12", "12", False, None),
        ("B", "1", "13", True, "oltre 12 ore settimanali (art. 1 D.L. 122/1993"),
        ("C", "1", "12.5", False, "oltre 12 ore settimanali"),
        # S: at most 15 hours a week and 8 a day (art. 56-bis L. 689/1981)
        ("S", "8", "15", False, None),
        ("S", "1", "15.5", True, "oltre 15 ore settimanali (art. 56-bis L. 689/1981)"),
        ("S", "9", "9", False, "oltre 8 ore giornaliere (art. 56-bis L. 689/1981)"),
        # N: at most 8 hours a day (art. 168-bis co. 3 c.p.)
        ("N", "8", "48", False, None),
        ("N", "10", "10", False, "oltre 8 ore giornaliere (art. 168-bis co. 3 c.p.)"),
        # E and M: no hour limit in the law, but a day has 24 hours
        ("E", "12", "60", False, None),
        ("M", "25", "25", False, "un giorno ha 24 ore"),
    ],
)  # fmt: skip
def test_hour_limits_of_each_form(
    code: str, day: str, week: str, authorised: bool, refused_with: str | None
) -> None:
    reason = refusal(code, day, week, authorised)
    if refused_with is None:
        assert reason is None
    else:
        assert reason is not None and refused_with in reason


def test_form_a_one_working_day_a_week_unless_the_person_asks() -> None:
    form = form_in_force("A", date(2022, 3, 7))
    monday, tuesday = date(2022, 3, 7), date(2022, 3, 8)
    assert hours_refusal(form, monday, Decimal(10), Decimal(10), False) is None  # no hour cap
    second = hours_refusal(form, tuesday, Decimal(2), Decimal(12), False)
    assert second is not None
    assert "una sola giornata lavorativa a settimana salvo richiesta del condannato" in second
    assert "(art. 105 L. 689/1981)" in second
    assert hours_refusal(form, tuesday, Decimal(2), Decimal(12), True) is None  # on request
    # more hours on the same day are the same working day
    assert hours_refusal(form, monday, Decimal(12), Decimal(12), False) is None


def test_the_refusal_names_the_iso_week_from_its_monday() -> None:
    reason = refusal("D", "1", "7")
    assert reason is not None and "settimana dal 02/03/2026" in reason
    form = form_in_force("D", TODAY)
    late = hours_refusal(form, SUNDAY, Decimal(1), Decimal(7), False)
    assert late is not None and "settimana dal 02/03/2026" in late


def test_hours_are_never_floats_and_never_inconsistent() -> None:
    form = form_in_force("D", TODAY)
    with pytest.raises(TypeError):
        hours_refusal(form, TODAY, 1.5, Decimal(2), False)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        hours_refusal(form, TODAY, Decimal(-1), Decimal(2), False)
    with pytest.raises(ValueError, match="non possono superare"):
        hours_refusal(form, TODAY, Decimal(3), Decimal(2), False)


@pytest.mark.parametrize(
    ("code", "hours", "ordinary", "authorised"),
    [
        ("H", 30, 5, 1),  # 6 a week; 40 a week on request
        ("D", 240, 40, 6),
        ("G", 60, 10, 2),  # 6 a week; 8 a day on every day of the week
        ("S", 30, 2, 2),  # 15 a week either way
        ("N", 80, 2, 2),  # 8 a day, 56 a week
        ("B", 30, 3, 3),  # 12 a week
        ("E", 30, None, None),  # no limit to compute from
    ],
)
def test_the_fewest_weeks_the_hours_need(
    code: str, hours: int, ordinary: int | None, authorised: int | None
) -> None:
    form = form_in_force(code, TODAY)
    assert weeks_needed(form, Decimal(hours), False) == ordinary
    assert weeks_needed(form, Decimal(hours), True) == authorised


# Conversion -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arrest", "fine", "days", "hours"),
    [
        (10, "1000.01", 15, 30),  # 1000.01 / 250 = 4.00004: a fraction is a whole day
        (0, "250", 1, 2),
        (0, "250.01", 2, 4),
        (0, "0.01", 1, 2),
        (30, "0", 30, 60),
        (180, "1500.00", 186, 372),
    ],
)
def test_art_135_cp_250_euros_or_fraction_is_one_day_of_two_hours(
    arrest: int, fine: str, days: int, hours: int
) -> None:
    done = convert(arrest, Decimal(fine))
    assert (done.days, done.hours) == (days, hours)
    assert done.rate.euros_per_day == 250 and done.rate.article == "art. 135 c.p."


def test_the_rate_is_dated_data() -> None:
    assert rate_on(date(2009, 8, 8)).euros_per_day == 250  # L. 94/2009 art. 3 co. 62
    assert rate_on(date(2009, 8, 7)).euros_per_day == 38
    assert convert(0, Decimal("100"), date(2009, 8, 7)).days == 3  # 38 + 38 + 24
    assert convert(0, Decimal("100"), date(2009, 8, 8)).days == 1
    with pytest.raises(ValueError, match="nessun ragguaglio"):
        convert(1, Decimal(0), date(2001, 12, 31))


def test_floats_negatives_and_absurd_amounts_are_refused() -> None:
    with pytest.raises(TypeError, match="mai float"):
        convert(0, 1000.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        convert(1.0, Decimal(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negativa"):
        convert(0, Decimal("-1"))
    with pytest.raises(ValueError, match="negativi"):
        convert(-1)
    with pytest.raises(ValueError):
        convert(ARREST_DAYS_MAX + 1)
    with pytest.raises(ValueError):
        convert(0, FINE_MAX + 1)
    with pytest.raises(ValueError, match="centesimo"):
        convert(0, Decimal("1.005"))
    with pytest.raises(ValueError):
        convert(0, Decimal("NaN"))


@pytest.mark.parametrize("text", ["-5", "1e3", "1000,50", "1.005", " 10", "NaN", "", "+3"])
def test_a_fine_on_the_command_line_is_digits_with_at_most_two_decimals(text: str) -> None:
    with pytest.raises(ValueError, match="non valido"):
        fine_amount(text)


fines = st.decimals(min_value=0, max_value=FINE_MAX, places=2, allow_nan=False)
arrests = st.integers(min_value=0, max_value=ARREST_DAYS_MAX)


@given(arrests, fines)
def test_days_are_arrest_plus_the_fine_rounded_up_and_hours_twice_the_days(
    arrest: int, fine: Decimal
) -> None:
    done = convert(arrest, fine)
    assert done.days == arrest + ceil(fine / 250)
    assert done.fine_days == ceil(fine / 250)
    assert done.hours == 2 * done.days
    assert all(type(value) is int for value in (done.days, done.hours, done.fine_days))
    assert isinstance(done.fine, Decimal)


@given(arrests, arrests, fines, fines)
def test_more_penalty_never_means_fewer_hours(a: int, b: int, f: Decimal, g: Decimal) -> None:
    low, high = convert(min(a, b), min(f, g)), convert(max(a, b), max(f, g))
    assert low.days <= high.days and low.hours <= high.hours


@given(fines)
def test_the_fine_reads_back_from_its_text(fine: Decimal) -> None:
    assert fine_amount(format(fine, "f")) == fine


@given(st.dates(min_value=RATES[0].since, max_value=date(2100, 1, 1)), fines)
def test_a_later_rate_never_gives_more_days(on: date, fine: Decimal) -> None:
    assert convert(0, fine, on).days >= convert(0, fine).days


# Any register the limits accept stays within them ---------------------------------------------
VERSIONS: list[Form] = [form for versions in FORMS.values() for form in versions]


def _first_monday_in_force(form: Form) -> date:
    start = form.until - timedelta(days=70) if form.until is not None else form.since
    start += timedelta(days=(7 - start.weekday()) % 7)
    return max(start, form.since + timedelta(days=(7 - form.since.weekday()) % 7))


entries = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=27),
        st.decimals(min_value=Decimal("0.25"), max_value=Decimal(12), places=2),
    ),
    max_size=60,
)


@given(st.sampled_from(VERSIONS), st.booleans(), entries)
def test_a_register_built_from_accepted_entries_never_exceeds_the_limits(
    form: Form, authorised: bool, planned: list[tuple[int, Decimal]]
) -> None:
    start = _first_monday_in_force(form)
    per_day: dict[date, Decimal] = {}
    per_week: dict[date, Decimal] = {}
    for offset, hours in planned:
        day = start + timedelta(days=offset)
        monday = day - timedelta(days=day.weekday())
        day_total = per_day.get(day, Decimal(0)) + hours
        week_total = per_week.get(monday, Decimal(0)) + hours
        reason = hours_refusal(form, day, day_total, week_total, authorised)
        if reason is None:
            per_day[day], per_week[monday] = day_total, week_total
        else:  # a refusal names the article of the limit, or the length of a day
            assert "(" in reason or "un giorno ha 24 ore" in reason
    limits = form.hours
    for total in per_day.values():
        assert total <= 24
        if limits.day_max is not None:
            assert total <= limits.day_max.hours
    week_cap = weekly_capacity(form, authorised)
    for monday, total in per_week.items():
        if week_cap is not None:
            assert total <= week_cap
        if limits.week_max is not None:
            assert total <= limits.week_max.hours
        if limits.week_default is not None and not authorised:
            assert total <= limits.week_default.hours
        if limits.working_days_per_week is not None and not authorised:
            worked = [d for d in per_day if d - timedelta(days=d.weekday()) == monday]
            assert len(worked) <= limits.working_days_per_week


@given(st.sampled_from(VERSIONS), st.booleans(), st.integers(0, 6), st.decimals(0, 60, places=2))
def test_an_entry_is_refused_only_when_it_breaks_a_limit(
    form: Form, authorised: bool, offset: int, hours: Decimal
) -> None:
    """A week's first entry: refused exactly when it passes a day or week limit."""
    day = _first_monday_in_force(form) + timedelta(days=offset)
    reason = hours_refusal(form, day, hours, hours, authorised)
    limits = form.hours
    caps = [Decimal(24)]
    if limits.day_max is not None:
        caps.append(limits.day_max.hours)
    if limits.week_max is not None:
        caps.append(limits.week_max.hours)
    if limits.week_default is not None and not authorised:
        caps.append(limits.week_default.hours)
    assert (reason is None) == (hours <= min(caps))

"""The legal calendar: holidays and term rules (DOMAIN.md section 6).

Pure code: no database, no clock. A term starts on a civil date in Italian time and ends at the
last instant of its last day in Europe/Rome; the timer for it is due at 00:00 Europe/Rome of the
next day, returned in UTC.
"""

from __future__ import annotations

import calendar as _gregorian
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")

# National holidays in force (L. 260/1949 as amended; 2 June restored from 2001 by L. 336/2000;
# 4 October from 2026 by L. 151/2025): (month, day, first year in force). Sundays are holidays too;
# Saturday is not (art. 172 c.p.p.). The calendar covers terms from 2001 on.
FIRST_YEAR = 2001
_FIXED_HOLIDAYS: tuple[tuple[int, int, int], ...] = (
    (1, 1, FIRST_YEAR),
    (1, 6, FIRST_YEAR),
    (4, 25, FIRST_YEAR),
    (5, 1, FIRST_YEAR),
    (6, 2, FIRST_YEAR),
    (8, 15, FIRST_YEAR),
    (10, 4, 2026),
    (11, 1, FIRST_YEAR),
    (12, 8, FIRST_YEAR),
    (12, 25, FIRST_YEAR),
    (12, 26, FIRST_YEAR),
)
_EASTER_MONDAY = "Easter Monday"


class CalendarMismatch(RuntimeError):
    """The `holidays` package disagrees with the legal list: refuse to compute terms."""


@lru_cache(maxsize=1)
def _italy() -> Any:
    """The `holidays` package's calendar of Italy, imported only where a term is computed: its
    own module, loaded alone, as `holidays.countries` imports its 250 countries at once (a
    quarter of a second more for `misure terms due`); the package's way if that fails."""
    import holidays

    path = Path(holidays.__file__).parent / "countries" / "italy.py"
    spec = spec_from_file_location("holidays.countries.italy", path)
    if spec is None or spec.loader is None or not path.is_file():
        return holidays.country_holidays("IT").__class__
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Italy


@lru_cache(maxsize=256)
def holidays_of(year: int) -> frozenset[date]:
    """Legal national holidays of `year` (Sundays excluded), cross-checked with `holidays`."""
    if year < FIRST_YEAR:
        raise CalendarMismatch(f"the legal calendar starts in {FIRST_YEAR}, not {year}")
    published = _italy()(years=year, language="en_US")
    legal = {date(year, m, d) for m, d, since in _FIXED_HOLIDAYS if year >= since}
    missing = sorted(day for day in legal if day not in published)
    if missing:
        raise CalendarMismatch(f"the holidays package lacks legal holidays {missing}")
    easter_monday = [day for day, name in published.items() if _EASTER_MONDAY in name]
    if len(easter_monday) != 1:
        raise CalendarMismatch(f"the holidays package has no single Easter Monday in {year}")
    return frozenset(legal | set(easter_monday))


def is_holiday(day: date) -> bool:
    """A Sunday or a national holiday (art. 172 co. 3 c.p.p.); Saturday is a working day."""
    return day.weekday() == 6 or day in holidays_of(day.year)


def next_working_day(day: date) -> date:
    """`day` itself, or the first following day that is not a holiday."""
    while is_holiday(day):
        day += timedelta(days=1)
    return day


def add_months(start: date, months: int) -> date:
    """Same-numbered day of the final month, or its last day (art. 2963 co. 4 c.c.)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last = _gregorian.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


class Unit(StrEnum):
    DAYS = "days"
    MONTHS = "months"


@dataclass(frozen=True)
class TermRule:
    """A legal term: `amount` days or months from a starting date, with its article.

    Days: the starting day is not counted, the last day is (art. 172 co. 4 c.p.p.).
    Months: art. 2963 c.c. `extend_on_holiday`: a term ending on a holiday moves to the next
    working day (art. 172 co. 3 c.p.p.); a validity period written on a document does not.
    `counts_start_day`: a period whose first day is the starting day itself (a funded stay whose
    day of entry is its first paid day, art. 11 co. 4 D.M. 128/2025): `amount` days end on the
    day before the ordinary term's last day; `amount` months end on the day before the
    same-numbered day of the final month or, when that month has no such day, on its last day
    (entering 10 January: 9 September; entering 31 January: 30 September).
    """

    amount: int
    unit: Unit
    extend_on_holiday: bool
    article: str
    counts_start_day: bool = False

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError("a term lasts at least one day or month")

    def last_day(self, start: date) -> date:
        """The last day of the term (included)."""
        if self.unit is Unit.DAYS:
            end = start + timedelta(days=self.amount)
            if self.counts_start_day:
                end -= timedelta(days=1)
        else:
            end = add_months(start, self.amount)
            if self.counts_start_day and end.day == start.day:  # not clamped to a shorter month
                end -= timedelta(days=1)
        return next_working_day(end) if self.extend_on_holiday else end

    def due_at(self, start: date) -> datetime:
        """UTC instant at which the term has lapsed: 00:00 Europe/Rome after the last day."""
        return lapse_instant(self.last_day(start))

    def describe(self) -> str:
        unit = "giorni" if self.unit is Unit.DAYS else "mesi"
        start = ", computando il giorno iniziale" if self.counts_start_day else ""
        extension = ", prorogato al primo giorno non festivo" if self.extend_on_holiday else ""
        return f"{self.amount} {unit}{start}{extension} ({self.article})"


def lapse_instant(last_day: date) -> datetime:
    """00:00 Europe/Rome of the day after `last_day`, in UTC (zoneinfo handles daylight saving)."""
    midnight = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=ROME)
    return midnight.astimezone(UTC)


def rome_date(instant: datetime) -> date:
    """The civil date in Italy of an aware instant: the day a term starts from."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(ROME).date()

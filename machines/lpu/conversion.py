"""Penalties into days and hours of unpaid community work (art. 135 c.p.; art. 54 co. 5
d.lgs. 274/2000; seed 003, "criteri di conversione"): 1 day of arrest = 1 day of LPU = 2 hours;
EUR 250 of fine, or a fraction of it, = 1 day.

The rate of art. 135 c.p. is dated data: EUR 250 from 8 August 2009 (art. 3 co. 62 L. 15 luglio
2009 n. 94); EUR 38 before it, an amount in euro from 1 January 2002 (the lire of L. 402/1993
converted by d.lgs. 213/1998); earlier days are not recorded and are refused. The 2022 reform
(d.lgs. 150/2022) left the rate alone. Source: the article's notes in the official collections
(the seeds give the rate without a date). The higher rate is the less favourable one for a
conversion, so courts apply it only to facts after 8 August 2009: `on` is the day whose rule
applies, which the caller chooses (the day of the fact, when it matters).

Pure: amounts are `Decimal` euros to the cent, never floats; no clock, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ARREST_DAYS_MAX = 36_500  # a hundred years: any sentence a conversion can concern
FINE_MAX = Decimal(10) ** 9  # EUR 1,000,000,000
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


@dataclass(frozen=True)
class Rate:
    """The conversion in force from `since`: euros of fine (or a fraction) per day, and hours
    per day, each with its article."""

    since: date
    euros_per_day: Decimal
    source: str
    hours_per_day: int = 2
    article: str = "art. 135 c.p."
    hours_article: str = "art. 54 co. 5 d.lgs. 274/2000"


RATES: tuple[Rate, ...] = (
    Rate(date(2002, 1, 1), Decimal(38), "L. 402/1993, importo in euro dal 1 gennaio 2002"),
    Rate(date(2009, 8, 8), Decimal(250), "art. 3 co. 62 L. 94/2009, in vigore dall'8/8/2009"),
)


@dataclass(frozen=True)
class Conversion:
    """What a penalty is worth in LPU: days from the arrest and from the fine, the total days
    and hours, the rate applied, and each step in Italian (`detail`)."""

    arrest_days: int
    fine: Decimal
    fine_days: int
    days: int
    hours: int
    rate: Rate
    detail: tuple[str, ...]


def rate_on(on: date) -> Rate:
    """The rate of art. 135 c.p. in force on `on`."""
    found = [rate for rate in RATES if rate.since <= on]
    if not found:
        raise ValueError(
            f"nessun ragguaglio dell'art. 135 c.p. registrato prima del "
            f"{RATES[0].since:%d/%m/%Y} (richiesto il {on:%d/%m/%Y})"
        )
    return found[-1]


def fine_amount(text: str) -> Decimal:
    """A fine as the command line takes it: digits with at most two decimals after a point
    ("1500", "1500.5", "1500.00"); no sign, exponent, comma, NaN, or more than EUR 10^9."""
    if _AMOUNT.fullmatch(text) is None:
        raise ValueError(
            f"importo {text[:40]!r} non valido: solo cifre con al più due decimali dopo il "
            "punto, es. 1500.00 (niente segno, esponente o virgola)"
        )
    return _fine(Decimal(text))


def _fine(value: Decimal | int) -> Decimal:
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"la pena pecuniaria è un Decimal in euro, mai {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"pena pecuniaria non valida: {value}")
    if amount < 0:
        raise ValueError(f"pena pecuniaria negativa: EUR {value}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"pena pecuniaria EUR {value} con frazioni di centesimo")
    if amount > FINE_MAX:
        raise ValueError(
            f"pena pecuniaria EUR {value} oltre il massimo trattabile di EUR {FINE_MAX}"
        )
    return amount.quantize(Decimal("0.01"))


def _arrest_days(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"i giorni di arresto sono un intero, non {type(value).__name__}")
    if value < 0:
        raise ValueError(f"giorni di arresto negativi: {value}")
    if value > ARREST_DAYS_MAX:
        raise ValueError(f"{value} giorni di arresto: oltre il massimo di {ARREST_DAYS_MAX}")
    return value


def convert(
    arrest_days: int = 0, fine_eur: Decimal | int = Decimal(0), on: date | None = None
) -> Conversion:
    """Days and hours of LPU for `arrest_days` of detention and a fine of `fine_eur` euros, at
    the rate in force on `on` (the latest recorded when None): each EUR 250 of fine, or
    fraction, is one day (art. 135 c.p.); one day is two hours (art. 54 co. 5 d.lgs. 274/2000)."""
    days_of_arrest = _arrest_days(arrest_days)
    fine = _fine(fine_eur)
    rate = RATES[-1] if on is None else rate_on(on)
    cents, per_day = int(fine * 100), int(rate.euros_per_day * 100)
    fine_days = -(-cents // per_day)  # a fraction of the rate is a whole day
    days = days_of_arrest + fine_days
    hours = days * rate.hours_per_day
    detail = (
        f"arresto: {days_of_arrest} giorni = {days_of_arrest} giorni di LPU",
        f"pena pecuniaria: EUR {fine} = {fine_days} giorni di LPU (EUR {rate.euros_per_day} o "
        f"frazione = 1 giorno, {rate.article}, {rate.source})",
        f"totale: {days} giorni = {hours} ore (1 giorno = {rate.hours_per_day} ore, "
        f"{rate.hours_article})",
    )
    return Conversion(days_of_arrest, fine, fine_days, days, hours, rate, detail)

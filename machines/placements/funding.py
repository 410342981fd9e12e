"""Money rules of funded residential placements (D.M. 128/2025 arts. 11, 13, 14).

Pure: amounts are `Decimal` euros with two decimals, never floats; dates are civil dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")


def euros(value: Decimal | int | str) -> Decimal:
    """An amount in euros to the cent; floats are refused (binary fractions are not money)."""
    if isinstance(value, float | bool):
        raise TypeError("un importo è Decimal, int o str, mai float")
    amount = Decimal(value)
    if amount != amount.quantize(CENT):
        raise ValueError(f"l'importo {value} ha frazioni di centesimo")
    return amount.quantize(CENT)


@dataclass(frozen=True)
class IncomeThreshold:
    """The legal-aid income limit of art. 76 D.P.R. 115/2002 in force from `since` (None: the
    earliest value recorded, in force before the next one)."""

    since: date | None
    amount: Decimal
    article: str = "art. 76 D.P.R. 115/2002"


# Dated values, not a constant: the limit is updated every two years (art. 77 D.P.R. 115/2002).
INCOME_THRESHOLDS: tuple[IncomeThreshold, ...] = (
    IncomeThreshold(None, euros("12838.01")),
    IncomeThreshold(date(2025, 7, 11), euros("13659.64")),
)
# In criminal matters the limit grows by this much for each cohabiting family member (art. 92).
PER_COHABITANT = euros("1032.91")


def income_threshold(filed_on: date, cohabitants: int) -> IncomeThreshold:
    """The limit that applies to an application filed on `filed_on` by a person living with
    `cohabitants` family members (art. 11 co. 1 lett. c D.M. 128/2025; arts. 76, 92 D.P.R.
    115/2002)."""
    if cohabitants < 0:
        raise ValueError("il numero dei familiari conviventi non può essere negativo")
    base = [t for t in INCOME_THRESHOLDS if t.since is None or t.since <= filed_on][-1]
    return IncomeThreshold(base.since, base.amount + PER_COHABITANT * cohabitants, base.article)


def income_refusal(income: Decimal, filed_on: date, cohabitants: int) -> str | None:
    """None if `income` is within the limit (equal passes), otherwise the reason."""
    limit = income_threshold(filed_on, cohabitants)
    if euros(income) <= limit.amount:
        return None
    return (  # the income itself stays in the case's data (art. 15 D.M. 128/2025)
        f"reddito imponibile superiore al limite di EUR {limit.amount} per il patrocinio a "
        f"spese dello Stato ({limit.article} e art. 92, con {cohabitants} familiari conviventi)"
    )


def split_pro_rata(total: Decimal, weights: Mapping[str, int]) -> dict[str, Decimal]:
    """Split `total` among the keys in proportion to `weights`, to the cent, the parts adding up
    exactly to `total` (art. 13 co. 1: in proportion to the detainees present in each
    territory). Largest remainders get the leftover cents; ties go in key order."""
    total = euros(total)
    if total < 0:
        raise ValueError("l'importo da ripartire non può essere negativo")
    if any(weight < 0 for weight in weights.values()):
        raise ValueError("un numero di detenuti presenti non può essere negativo")
    whole = sum(weights.values())
    if whole == 0:
        raise ValueError(
            "nessun territorio ha detenuti presenti: la ripartizione è in proporzione ai "
            "detenuti (art. 13 co. 1 D.M. 128/2025)"
        )
    cents = int(total / CENT)
    exact = {key: Decimal(cents) * weight / whole for key, weight in weights.items()}
    parts = {key: int(share.to_integral_value(ROUND_DOWN)) for key, share in exact.items()}
    leftover = cents - sum(parts.values())
    by_remainder = sorted(weights, key=lambda key: (-(exact[key] - parts[key]), key))
    for key in by_remainder[:leftover]:
        parts[key] += 1
    return {key: CENT * parts[key] for key in weights}


def stay_cost(days: int, daily_rate: Decimal) -> Decimal:
    """Days of presence times the daily rate (art. 13 co. 5; the recovery of art. 14)."""
    if days < 0:
        raise ValueError("i giorni di presenza non possono essere negativi")
    return euros(daily_rate) * days

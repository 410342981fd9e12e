"""Guards that procedures share: a date given in a payload or a case's data, and the rule that
an act is not dated after today (in Italian time)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from machines.calendar import rome_date
from machines.spec import Guard, GuardInput


def day_of(values: Mapping[str, Any], field: str) -> date | None:
    """The date `values` give in `field`, if they give one (a guard asked what may happen now,
    without a payload, says what is missing)."""
    value = values.get(field)
    return None if value is None else date.fromisoformat(str(value))


def not_in_future(field: str, what: str, article: str) -> Guard:
    """The payload's `field` is given and not after today: "data `what` ... successiva a oggi"."""

    def check(given: GuardInput) -> str | None:
        day = day_of(given.payload, field)
        if day is None:
            return f"da indicare la data {what}"
        today = rome_date(given.now)
        if day > today:
            return f"data {what} {day:%d/%m/%Y} successiva a oggi ({today:%d/%m/%Y})"
        return None

    return Guard(f"{field}_not_in_future", check, article, field)

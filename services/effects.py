"""What a transition writes besides the case's own rows, and what a kind knows of a case
beyond them, for the kinds that need it.

A kind's effects run inside the transaction that writes the transition, whoever fires it (a
service, the CLI's `case fire`, a timer): a place reserved with its attestation, freed with its
lapse. An effect that raises rolls the whole transition back. Its facts are read by the
machine's guards on every path (generic `case fire`, per-actor commands, the API, timers).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services import placement_facts, reservations
from services.applied import Applied, Effect, Facts, Summary
from storage.repository import Repository

if TYPE_CHECKING:
    from services.context import Context

EFFECTS: Mapping[str, Mapping[str, Effect]] = {"placement": reservations.EFFECTS}
FACTS: Mapping[str, Facts] = {"placement": placement_facts.facts}
SUMMARIES: Mapping[str, Summary] = {"placement": placement_facts.summary}


def apply_effects(repo: Repository, applied: Applied) -> None:
    effect = EFFECTS.get(applied.kind, {}).get(applied.trigger)
    if effect is not None:
        effect(repo, applied)


def case_facts(
    ctx: Context, repo: Repository, kind: str, case_id: int, now: datetime
) -> Mapping[str, Any]:
    facts = FACTS.get(kind)
    return {} if facts is None else facts(repo, case_id, now)


def case_summary(
    ctx: Context, repo: Repository, kind: str, case_id: int, data: Mapping[str, Any]
) -> dict[str, Any]:
    summary = SUMMARIES.get(kind)
    return {} if summary is None else summary(repo, case_id, data)

"""What a transition writes besides the case's own rows, for the kinds that need it.

A kind's effects run inside the transaction that writes the transition, whoever fires it (a
service, the CLI's `case fire`, a timer): a place reserved with its attestation, freed with its
lapse. An effect that raises rolls the whole transition back.
"""

from __future__ import annotations

from collections.abc import Mapping

from services import reservations
from services.applied import Applied, Effect
from storage.repository import Repository

EFFECTS: Mapping[str, Mapping[str, Effect]] = {"placement": reservations.EFFECTS}


def apply_effects(repo: Repository, applied: Applied) -> None:
    effect = EFFECTS.get(applied.kind, {}).get(applied.trigger)
    if effect is not None:
        effect(repo, applied)

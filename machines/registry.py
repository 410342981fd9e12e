"""The case kinds this installation runs, by kind name.

Kinds are modules exposing `MACHINE: CaseMachine`; which modules are loaded is configuration
(`MISURE_MACHINE_MODULES`), so procedures plug in without the engine knowing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import import_module

from machines.spec import CaseMachine


def load_machines(modules: Iterable[str]) -> Mapping[str, CaseMachine]:
    registry: dict[str, CaseMachine] = {}
    for name in modules:
        machine = getattr(import_module(name), "MACHINE", None)
        if not isinstance(machine, CaseMachine):
            raise ValueError(f"module {name} has no MACHINE of type CaseMachine")
        if machine.kind in registry:
            raise ValueError(f"case kind {machine.kind} is declared twice")
        registry[machine.kind] = machine
    return registry

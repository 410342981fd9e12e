"""What a case worker reads of every machine is Italian and legible: each state, trigger, term
and reminder has its Italian label; the diagram of a case shows only the transitions into and
out of its state; every state a case waits in names a known party."""

from __future__ import annotations

import pytest

from machines.diagram import around
from machines.spec import CaseMachine
from services.procedure import PARTIES, load_procedures
from services.settings import Settings

MACHINES = [m for p in load_procedures(Settings().procedures) for m in p.machines]
STATES = [(m, s.value) for m in MACHINES for s in m.states]


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.kind)
def test_every_name_a_worker_reads_has_its_italian_label(machine: CaseMachine) -> None:
    names = [s.value for s in machine.states] + list(machine.triggers)
    names += [t.name for t in machine.terms] + [r.name for r in machine.reminders]
    assert [n for n in [machine.kind, *names] if n not in machine.labels] == []


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.kind)
def test_every_state_a_case_waits_in_names_a_party(machine: CaseMachine) -> None:
    assert machine.awaits, "no state says whose act it waits for"
    assert set(machine.awaits.values()) <= set(PARTIES)


@pytest.mark.parametrize(("machine", "state"), STATES, ids=lambda v: getattr(v, "kind", v))
def test_the_diagram_shows_the_state_and_its_neighbours_only(
    machine: CaseMachine, state: str
) -> None:
    drawn = around(machine, state)
    assert drawn.startswith("stateDiagram-v2\n  direction LR")
    assert f"  class {state} current" in drawn
    neighbours = {state}
    for transition in machine.transitions:
        sources = {s.value for s in transition.sources}
        if state in sources:
            neighbours.add(transition.dest.value)
        if transition.dest.value == state:
            neighbours |= sources
    declared = {line.split(" as ")[1] for line in drawn.splitlines() if " as " in line}
    assert declared == neighbours
    assert all(
        f'"{machine.label(s)}"' in drawn.replace("<br/>", " ")
        for s in declared
        if ":" not in machine.label(s) and len(machine.label(s)) <= 28
    )
    for line in drawn.splitlines():
        if "-->" in line:
            source, rest = line.strip().split(" --> ")
            assert state in (source, rest.split(":")[0])

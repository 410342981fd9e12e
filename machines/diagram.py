"""A kind's machine as a mermaid state diagram: what staff see of a case in the Prefect UI. Pure;
built from the same declaration the engine fires.

`around` draws only the current state, the states that lead to it and those it may go to, with
their Italian labels, left to right: it reads at 100% zoom on a 1,400-pixel-wide screen, where
the whole machine (up to fifteen states and thirty transitions) would be shrunk to illegible
labels."""

from __future__ import annotations

import textwrap

from machines.spec import CaseMachine

CURRENT_STYLE = "fill:#fde68a,stroke:#b45309,stroke-width:3px,font-weight:bold"
WRAP = 28  # characters per line of a state's label


def around(machine: CaseMachine, current: str) -> str:
    """The mermaid `stateDiagram-v2` of the transitions into and out of `current`, labelled in
    Italian, the current state highlighted."""
    edges: list[tuple[str, str, str]] = []
    for transition in machine.transitions:
        dest = transition.dest.value
        for source in (s.value for s in transition.sources):
            if current in (source, dest) and (source, dest, transition.trigger) not in edges:
                edges.append((source, dest, transition.trigger))
    states = list(dict.fromkeys([current, *(s for edge in edges for s in edge[:2])]))
    lines = ["stateDiagram-v2", "  direction LR"]
    lines += [f'  state "{_label(machine, state)}" as {state}' for state in states]
    for source, dest, trigger in edges:
        lines.append(f"  {source} --> {dest}: {_text(machine.label(trigger))}")
    lines += [f"  classDef current {CURRENT_STYLE}", f"  class {current} current"]
    return "\n".join(lines)


def _label(machine: CaseMachine, state: str) -> str:
    return "<br/>".join(textwrap.wrap(_text(machine.label(state)), WRAP)) or state


def _text(label: str) -> str:
    return label.replace('"', "'").replace(":", " –").replace(";", ",")

"""A kind's machine as a mermaid state diagram, the current state highlighted: what staff see
of a case in the Prefect UI. Pure; built from the same declaration the engine fires."""

from __future__ import annotations

from typing import Any

from machines.spec import CaseMachine


class _Subject:
    """A throwaway model for the diagram: never a case row."""

    state: Any


def mermaid(machine: CaseMachine, current: str) -> str:
    """The mermaid `stateDiagram-v2` of `machine`, with `current` marked active."""
    from transitions.extensions import GraphMachine  # only where a diagram is drawn

    graph = GraphMachine(
        model=None,
        states=machine.states,
        initial=None,
        auto_transitions=False,
        graph_engine="mermaid",
        model_attribute="state",
        title=machine.label(machine.kind),
        show_state_attributes=False,
    )
    for transition in machine.transitions:
        graph.add_transition(transition.trigger, list(transition.sources), transition.dest)
    subject = _Subject()
    graph.add_model(subject, initial=machine.state(current))
    drawn = str(subject.get_graph().draw(None))  # type: ignore[attr-defined]
    # transitions writes the class statement capitalised; mermaid's keyword is `class`.
    return drawn.replace("\n  Class ", "\n  class ")

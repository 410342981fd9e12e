"""Probation's commands on the `misure` root (the procedure's `cli`): declared here by name, so
that `misure --help` lists them while `cli.probation.commands`, and the services it drives, is
imported only when one of them runs."""

from __future__ import annotations

from cli.common import Commands


def mount(root: Commands) -> None:
    """The commands `cli.probation.commands:register` adds, each with its line of help."""
    root.lazy(
        "cli.probation.commands:register",
        {"probation": "Messa alla prova: il quadro per ufficio di esecuzione penale esterna."},
    )

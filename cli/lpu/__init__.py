"""Community work's commands on the `misure` root (the procedure's `cli`): declared here by
name, so that `misure --help` lists them while `cli.lpu.commands`, and the services it drives,
is imported only when one of them runs."""

from __future__ import annotations

from cli.common import Commands


def mount(root: Commands) -> None:
    """The commands `cli.lpu.commands:register` adds, each with its line of help."""
    root.lazy(
        "cli.lpu.commands:register",
        {"lpu": "Lavoro di pubblica utilità: forme di legge e conversione della pena."},
    )

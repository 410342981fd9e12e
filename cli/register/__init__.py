"""The register's commands on the `misure` root (the procedure's `cli`): declared here by name,
so that `misure --help` lists them while `cli.register.commands`, and the services it drives, is
imported only when one of them runs."""

from __future__ import annotations

from cli.common import Commands


def mount(root: Commands) -> None:
    """The commands `cli.register.commands:register` adds, each with its line of help."""
    root.lazy(
        "cli.register.commands:register",
        {"register": "Elenco delle strutture residenziali (D.M. 128/2025 artt. 3-10)."},
    )

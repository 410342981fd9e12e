"""Funded placements' commands on the `misure` root (the procedure's `cli`): declared here by
name, so that `misure --help` lists them while `cli.placements.commands`, and the services it
drives, is imported only when one of them runs."""

from __future__ import annotations

from cli.common import Commands


def mount(root: Commands) -> None:
    """The commands `cli.placements.commands:register` adds, each with its line of help."""
    root.lazy(
        "cli.placements.commands:register",
        {
            "ref": "Reference data: UIEPEs, prisons, facilities.",
            "placement": "Funded placements: each actor's step (D.M. 128/2025).",
            "budget": "Appropriation, split and monitoring.",
            "simulate": (
                "Simulate a year of funded placements for all UIEPEs through the real "
                "services, and print attestations, lapses, reallocations, occupancy, spend and "
                "the run time."
            ),
        },
    )

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
            "ref": "Dati di riferimento: UIEPE, istituti penitenziari, strutture.",
            "placement": "Inserimenti finanziati: l'atto di ciascun soggetto (D.M. 128/2025).",
            "budget": "Stanziamento, ripartizione e monitoraggio.",
            "simulate": (
                "Simula un anno di inserimenti finanziati per tutti gli UIEPE attraverso i "
                "servizi reali, e stampa attestazioni, decadenze, riassegnazioni, occupazione, "
                "spesa e durata dell'esecuzione."
            ),
        },
    )

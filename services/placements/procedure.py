"""Funded residential placements (D.M. 128/2025 arts. 11-14) as a procedure: what the shared
code runs of it. Enabled by its line in `misure.toml`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from machines.placements import MACHINE
from services.context import Context
from services.placements import effects, facts, notices, reallocation, register
from services.procedure import NoticeType, Procedure, SignalHandler

# The configuration that runs this procedure alone (the simulation, the benchmarks, tests).
MODULES = (__name__,)


def _reallocate(ctx: Context) -> list[dict[str, Any]]:
    return [reallocation.attested_row(a) for a in reallocation.reallocate_signalled(ctx).attested]


PROCEDURE = Procedure(
    name="placements",
    machines=(MACHINE,),
    effects={MACHINE.kind: effects.EFFECTS},
    facts={MACHINE.kind: facts.facts},
    summaries={MACHINE.kind: facts.summary},
    notice_context={MACHINE.kind: notices.placement_context},
    templates=notices.TEMPLATES,
    notices={
        "attestazione": NoticeType(
            "Attestazione di disponibilità di posto in struttura residenziale "
            "(art. 12 D.M. 128/2025)",
            ("court", "prison", "facility"),
        ),
        "trasmissione_attestazione": NoticeType(
            "Trasmissione all'Autorità giudiziaria dell'attestazione di disponibilità di posto "
            "in struttura residenziale (art. 12 co. 4 e 8 D.M. 128/2025)",
            ("court", "prison"),
        ),
        "concessione_misura": NoticeType(
            "Concessione della misura penale di comunità con domicilio presso la struttura "
            "residenziale (art. 11 co. 4-5 e art. 12 co. 7-8 D.M. 128/2025)",
            ("facility", "prison"),
        ),
        "perdita_efficacia": NoticeType(
            "Perdita di efficacia dell'attestazione di disponibilità di posto in struttura "
            "residenziale (art. 12 co. 9-11 D.M. 128/2025)",
            ("court", "prison", "facility"),
        ),
        "riassegnazione": NoticeType(
            "Riassegnazione del posto in struttura residenziale secondo l'ordine di protocollo "
            "(art. 12 co. 5 e 9 D.M. 128/2025)",
            ("facility", "prison"),
        ),
        "struttura_cancellata": NoticeType(
            "Perdita di efficacia dell'attestazione per cancellazione della struttura "
            "dall'elenco (art. 5 co. 4-5 e art. 12 co. 4 e 11 D.M. 128/2025)",
            ("court", "prison"),
        ),
        "struttura_cancellata_collocamento": NoticeType(
            "Cancellazione dall'elenco della struttura residenziale di collocamento "
            "(art. 5 co. 4-5 e art. 12 co. 7 D.M. 128/2025)",
            ("office", "court"),
        ),
        "avviso_fine_finanziamento": NoticeType(
            "Avviso di prossima conclusione della permanenza in struttura residenziale con "
            "oneri a carico dell'Amministrazione (art. 11 co. 4 D.M. 128/2025)",
            ("facility", "office"),
        ),
        "prospetto_spese": NoticeType(
            "Prospetto delle spese di permanenza in struttura residenziale ai fini del "
            "recupero (art. 14 D.M. 128/2025; parte VII D.P.R. 115/2002)",
            ("court",),
        ),
        # The refusal of an application (art. 12 co. 2 e 4) and the end of the funded stay
        # (art. 11 co. 4): to the prison (while the person is there), the facility (once a
        # place is attested) and the court.
        "notifica_cambio_stato": NoticeType(
            "Comunicazione di variazione dello stato della pratica di attestazione di "
            "disponibilità di posto in struttura residenziale (D.M. 128/2025)",
            ("facility", "prison", "court"),
        ),
    },
    signals={
        reallocation.TOPIC: SignalHandler(
            "reallocate-freed-places/reallocate-freed-places",
            _reallocate,
            "posti liberati riassegnati in ordine di protocollo",
        )
    },
    reactions=register.REACTIONS,
    tables=("storage.placements.models",),
    cli="cli.placements:mount",
    api="api.placements.routes:router",
    deployments=Path(__file__).resolve().parents[2] / "flows" / "placements" / "prefect.yaml",
    demo="services.placements.simulation:demo",
)

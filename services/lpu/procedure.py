"""Unpaid community work (lavoro di pubblica utilità) as a procedure: what the shared code runs
of it. Enabled by its line in `misure.toml`. So far: the legal forms as dated data and the
conversion of penalties into days and hours (`misure lpu convert`, `misure lpu forms`), the
host entities' conventions (kind `lpu_convention`: at most five years, a renewal notice 60 days
before the end, expired at its last day) and the placements (kind `lpu_placement`) with their
attendance register and the seats of their convention. Its own CLI commands per actor, the
court's orders through the API and the notices of breach and revocation follow."""

from __future__ import annotations

from pathlib import Path

from machines.lpu.convention import MACHINE as CONVENTION
from machines.lpu.placement import MACHINE as PLACEMENT
from services.lpu import actors, effects, facts, notices
from services.procedure import NoticeType, Procedure

PROCEDURE = Procedure(
    name="lpu",
    machines=(CONVENTION, PLACEMENT),
    effects={
        CONVENTION.kind: effects.CONVENTION_EFFECTS,
        PLACEMENT.kind: effects.PLACEMENT_EFFECTS,
    },
    facts={PLACEMENT.kind: facts.placement_facts},
    summaries={
        CONVENTION.kind: facts.convention_summary,
        PLACEMENT.kind: facts.placement_summary,
    },
    notice_context={
        CONVENTION.kind: notices.convention_context,
        PLACEMENT.kind: notices.placement_context,
    },
    templates=notices.TEMPLATES,
    # Issued by the UEPE that follows the work (services/lpu/notices.py); what the entity
    # writes (declaration, final report, breach report: seed 003) it transmits to the court.
    notices={
        "dichiarazione_disponibilita": NoticeType(
            "Trasmissione della dichiarazione di disponibilità dell'ente ad accogliere la "
            "persona nel lavoro di pubblica utilità (art. 54 d.lgs. 274/2000; art. 2 "
            "D.M. 26 marzo 2001)",
            ("court", "host_entity"),
        ),
        "relazione_conclusiva": NoticeType(
            "Trasmissione della relazione conclusiva dell'ente sul lavoro di pubblica utilità",
            ("court",),
        ),
        "segnalazione_violazione": NoticeType(
            "Segnalazione di violazione degli obblighi del lavoro di pubblica utilità",
            ("court",),
        ),
        "revoca": NoticeType(
            "Comunicazione della revoca del lavoro di pubblica utilità e della chiusura del "
            "registro delle presenze",
            ("host_entity",),
        ),
        "promemoria_relazione_conclusiva": NoticeType(
            "Promemoria per la relazione conclusiva sul lavoro di pubblica utilità",
            ("host_entity",),
        ),
        "sollecito_relazione_conclusiva": NoticeType(
            "Sollecito della relazione conclusiva sul lavoro di pubblica utilità",
            ("host_entity",),
        ),
        "avviso_rinnovo_convenzione": NoticeType(
            "Avviso di prossima scadenza della convenzione per il lavoro di pubblica utilità "
            "(art. 54 co. 6 d.lgs. 274/2000; art. 2 D.M. 26 marzo 2001)",
            ("host_entity", "court", "directorate"),
        ),
    },
    announces=(effects.COMMUNITY_WORK_DAY,),
    reactions=effects.REACTIONS,
    tables=("storage.lpu.models",),
    migrations=Path(__file__).resolve().parents[2] / "storage" / "lpu" / "migrations",
    cli="cli.lpu:mount",
    deployments=Path(__file__).resolve().parents[2] / "flows" / "lpu" / "prefect.yaml",
    api="api.lpu.routes:router",
    token_roles=actors.TOKEN_ROLES,
)

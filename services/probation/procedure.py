"""Probation with suspension of the trial (messa alla prova) as a procedure: what the shared
code runs of it. Enabled by its line in `misure.toml`. So far: the rules as dated data
(`machines/probation/law.py`), the machine (kind `probation`), the person's earlier probations
by a pseudonymous key, the programme's versions, the LPU part's days from community work's
attendance register (topic `community_work_day`), its end on revocation (topic
`probation_ended`), the judge's orders through the API (`services/orders.py`), the notices
(`services/probation/notices.py`, `documents/templates/probation/`). The dashboard per UEPE
follows."""

from __future__ import annotations

from pathlib import Path

from machines.probation.machine import MACHINE
from services.probation import effects, facts, notices
from services.procedure import NoticeType, Procedure

PROCEDURE = Procedure(
    name="probation",
    machines=(MACHINE,),
    effects={MACHINE.kind: effects.EFFECTS},
    facts={MACHINE.kind: facts.probation_facts},
    summaries={MACHINE.kind: facts.probation_summary},
    notice_context={MACHINE.kind: notices.probation_context},
    templates=notices.TEMPLATES,
    # Issued by the UEPE the request names (services/probation/notices.py).
    notices={
        "programma_al_giudice": NoticeType(
            "Trasmissione del programma di trattamento e dell'indagine socio-familiare per la "
            "sospensione del procedimento con messa alla prova (art. 464-bis co. 4 c.p.p.; "
            "art. 141-ter co. 4 disp. att. c.p.p.)",
            ("court",),
        ),
        "relazione_periodica": NoticeType(
            "Relazione periodica sull'andamento della messa alla prova (art. 141-ter co. 5 "
            "disp. att. c.p.p.)",
            ("court",),
        ),
        "relazione_finale": NoticeType(
            "Relazione finale sull'esito della messa alla prova (art. 141-ter co. 5 disp. att. "
            "c.p.p.; art. 464-septies c.p.p.)",
            ("court",),
        ),
        # Reminders to the UEPE's officer in charge of the case.
        "promemoria_relazione_periodica": NoticeType(
            "Promemoria per la relazione periodica sulla messa alla prova", ("office",)
        ),
        "sollecito_relazione_periodica": NoticeType(
            "Sollecito della relazione periodica sulla messa alla prova", ("office",)
        ),
        # The court's decisions, to the entity of the LPU part (whose work they continue or
        # end) and to the court (the days of probation served, art. 657-bis c.p.p.). The
        # parties of the trial and the victim are notified by the judge (art. 464-octies co. 2
        # c.p.p.): no party of these notices.
        "avviso_udienza_revoca": NoticeType(
            "Fissazione dell'udienza per la revoca della sospensione del procedimento con messa "
            "alla prova (art. 168-quater c.p.; art. 464-octies c.p.p.)",
            ("host_entity", "court"),
        ),
        "revoca_messa_alla_prova": NoticeType(
            "Revoca della sospensione del procedimento con messa alla prova (art. 168-quater "
            "c.p.; art. 464-octies c.p.p.)",
            ("court", "host_entity"),
        ),
        "esito_messa_alla_prova": NoticeType(
            "Esito della messa alla prova (art. 168-ter c.p.; art. 464-septies c.p.p.)",
            ("court", "host_entity"),
        ),
    },
    announces=(effects.PROBATION_ENDED,),
    reactions=effects.REACTIONS,
    tables=("storage.probation.models",),
    migrations=Path(__file__).resolve().parents[2] / "storage" / "probation" / "migrations",
    api="api.probation.routes:router",
    cli="cli.probation:mount",
    deployments=Path(__file__).resolve().parents[2] / "flows" / "probation" / "prefect.yaml",
)

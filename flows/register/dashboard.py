"""The register of residential facilities at a glance, every morning (`misure register
dashboard`): facilities by section, cancellation procedures in progress with their next term,
applications awaiting a decision, and the incidents (the register unpublished for six months,
prescriptions past their deadline, supervision visits overdue), each logged as a warning. One
markdown artifact, `register-dashboard`, and one table by section, `register-sections`."""

from __future__ import annotations

from collections import Counter
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.common import context, publish_table
from services.register import dashboard


@flow(name="register-dashboard")
def register_dashboard(now: str | None = None) -> dict[str, Any]:
    ctx = context(now)
    board = dashboard.register_dashboard(ctx)
    logger = get_run_logger()
    for incident in board.incidents:
        logger.warning("%s", incident)
    create_markdown_artifact(
        markdown=dashboard.dashboard_markdown(board, board.today),
        key="register-dashboard",
        description=f"Elenco delle strutture residenziali al {board.today:%d/%m/%Y}",
    )
    procedures = Counter(p.section for p in board.procedures)
    prescriptions = Counter(p.section for p in board.overdue_prescriptions)
    visits = Counter(v.section for v in board.overdue_visits)
    publish_table(
        "register-sections",
        [
            {
                "sezione": s.section,
                "iscritte": s.registered,
                "sospese": s.suspended,
                "cancellate": s.cancelled,
                "da decidere": s.pending,
                "procedimenti in corso": procedures[s.section],
                "prescrizioni scadute": prescriptions[s.section],
                "visite scadute": visits[s.section],
            }
            for s in board.sections
        ],
        f"Elenco delle strutture residenziali per sezione al {board.today:%d/%m/%Y}",
    )
    logger.info(
        "register: %d sections, %d procedures in progress, %d applications, %d incidents",
        len(board.sections), len(board.procedures), len(board.applications),
        len(board.incidents),
    )  # fmt: skip
    return {
        "sections": len(board.sections),
        "procedures": [p.reference for p in board.procedures],
        "applications": [a.reference for a in board.applications],
        "overdue_prescriptions": len(board.overdue_prescriptions),
        "overdue_visits": [v.facility for v in board.overdue_visits],
        "publication_stale": board.publication_stale,
        "incidents": list(board.incidents),
    }

"""A case's status page in the Prefect UI: the artifact `case-<reference>` (state, what can
happen now, pending timers in Italian time, history, the machine's diagram)."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.common import context
from services import inspection


def artifact_key(reference: str) -> str:
    return f"case-{reference.lower()}"


@flow(name="case-status")
def case_status(reference: str, now: str | None = None) -> str:
    markdown = inspection.case_status_markdown(context(now), reference)
    create_markdown_artifact(
        markdown=markdown, key=artifact_key(reference), description=f"Pratica {reference}"
    )
    return artifact_key(reference)

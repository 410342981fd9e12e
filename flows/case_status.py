"""A case's page in the Prefect UI, published now: the artifact `case-<reference>` (where it is
followed, state, next deadline, incidents, facts, terms, notices, history, the diagram around
its state). The pages are kept live by the stack's dispatcher; this republishes one on demand."""

from __future__ import annotations

from prefect import flow

from flows.common import context, office
from flows.pages import show
from services import pages


@flow(name="case-status")
def case_status(reference: str, now: str | None = None) -> str:
    ctx = context(now)
    page, _ = pages.case_page(ctx, reference, office().name)
    show(ctx, page)
    return page.key

"""Publish the live page of every case changed since its page was published (any change, by
any path: the database keeps the list), then the work queues of the offices and courts of
those cases and the index; a burst of changes costs one page per case. Each page is one
artifact, updated in place (its key keeps the first version's id), so that the links between
pages always open the current text. The stack's dispatcher calls `publish_round` every 2
seconds; the `publish-case-pages` deployment does the same on demand; `misure pages publish`
writes the pages as files without Prefect."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate, ArtifactUpdate
from prefect.context import FlowRunContext
from prefect.exceptions import ObjectNotFound

from flows.common import context, office
from services import pages
from services.context import Context


def show(ctx: Context, page: pages.Page) -> str:
    """Put `page` in the Prefect UI: its artifact updated in place, or created the first time
    (or if the server lost it); return the artifact's id."""
    known = pages.artifact_ids(ctx, [page.key]).get(page.key)
    with get_client(sync_client=True) as client:
        if known is not None:
            update = ArtifactUpdate(data=page.markdown, description=page.description)
            try:
                client.update_artifact(UUID(known), update)
                return known
            except ObjectNotFound:
                pass
        context = FlowRunContext.get()  # in a flow run, the artifact names it
        created = client.create_artifact(
            ArtifactCreate(
                key=page.key,
                type="markdown",
                data=page.markdown,
                description=page.description,
                flow_run_id=None
                if context is None or context.flow_run is None
                else context.flow_run.id,
            )
        )
    pages.remember_artifact(ctx, page.key, str(created.id))
    return str(created.id)


def publish_round(
    ctx: Context, after: int, batch: int, held: Collection[int] = ()
) -> dict[str, Any]:
    """The pages of at most `batch` changed cases with id above `after` (but those `held`),
    then the queues of their offices (and of those they left), their courts' lists and the
    index; a page first published before the pages it links to is published again with their
    links. `failed_cases`: the ids of the cases whose page could not be published."""
    office_name = office().name
    changes = pages.changed_cases(ctx, batch, after=after, held=held)
    published, failed, failed_cases, incomplete = [], [], [], []
    for change in changes:
        try:
            page, route = pages.case_page(ctx, change.reference, office_name)
            show(ctx, page)
        except Exception as error:  # the others are published; this one stays to do
            failed.append(f"{change.reference}: {error}")
            failed_cases.append(change.case_id)
            continue
        published.append((change, route))
        if not page.complete:
            incomplete.append(change.reference)
    settled = pages.settle(ctx, published)
    offices = sorted({route.office for _, route in published} | settled.offices)
    queues = pages.queues(ctx, offices, settled.courts) if offices else []
    for page in queues:
        show(ctx, page)
    if any(not page.complete for page in queues):  # now that each page they link to exists
        for page in pages.queues(ctx, offices, settled.courts):
            show(ctx, page)
    for reference in incomplete:  # now that its office's queue and the index exist
        show(ctx, pages.case_page(ctx, reference, office_name)[0])
    return {
        "published": len(published),
        "queues": len(queues),
        "failed": failed,
        "failed_cases": failed_cases,
        "last": changes[-1].case_id if changes else None,
    }


@task(retries=2, retry_delay_seconds=5)
def publish_batch(now: str | None, after: int, batch: int) -> dict[str, Any]:
    return publish_round(context(now), after, batch)


@flow(name="publish-case-pages")
def publish_case_pages(now: str | None = None, batch: int = 200) -> dict[str, Any]:
    logger = get_run_logger()
    after, published, queues, failed = 0, 0, 0, []
    while True:
        result = publish_batch(now, after, batch)
        published += result["published"]
        queues += result["queues"]
        failed += result["failed"]
        if result["last"] is None:
            break
        after = result["last"]
    logger.info("%d case pages, %d queues and indexes published", published, queues)
    if failed:
        raise RuntimeError(f"{len(failed)} pagine non pubblicate: " + "; ".join(failed[:10]))
    return {"pages": published, "queues": queues}

"""The publication of the register of facilities on the Ministry's site (art. 3 D.M. 128/2025;
`misure register publish`): promptly on every change (`always=False`, every few minutes: only
if the register differs from its last publication) and every six months whatever happened
(`always=True`, the backstop of art. 3 co. 6). A register left unpublished for six months is an
incident: the run that finds it publishes at once and shows it in the artifact."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.common import context
from services.register import publication

SCHEDULED = "pubblicazione semestrale (art. 3 co. 6 D.M. 128/2025)"
CHANGED = "variazione dell'elenco (art. 3 co. 6 D.M. 128/2025)"
FIRST = "prima pubblicazione dell'elenco (art. 3 D.M. 128/2025)"
OVERDUE = "elenco non pubblicato da oltre sei mesi (art. 3 co. 6 D.M. 128/2025)"


@task(retries=2, retry_delay_seconds=30)
def publish(
    now: str | None, reason: str | None, always: bool
) -> tuple[publication.PublicationRecord | None, list[str]]:
    ctx = context(now)
    stale = publication.staleness(ctx, ctx.clock.now())
    found = publication.incidents_of(stale)
    if always:
        return publication.publish(ctx, reason or SCHEDULED), found
    if stale.stale:
        overdue = FIRST if stale.last_published_at is None else OVERDUE
        return publication.publish(ctx, reason or overdue), found
    return publication.republish_signalled(ctx, reason or CHANGED), found


@flow(name="publish-register")
def publish_register(
    now: str | None = None, reason: str | None = None, always: bool = False
) -> dict[str, Any]:
    logger = get_run_logger()
    record, found = publish(now, reason, always)
    for incident in found:
        logger.warning("%s", incident)
    if record is None:
        logger.info("register unchanged since its last publication")
    else:
        logger.info(
            "register published (n. %d): %d facilities in %d sections, %d suspended",
            record.id, record.entries, len(record.sections),
            sum(s.suspended for s in record.sections),
        )  # fmt: skip
    if record is not None or found:
        create_markdown_artifact(
            key="register-publication",
            markdown=publication.publication_markdown(record, found),
            description="Pubblicazione dell'elenco delle strutture residenziali",
        )
    return {
        "published": None if record is None else record.id,
        "entries": None if record is None else record.entries,
        "sections": {} if record is None else {s.section: s.facilities for s in record.sections},
        "incidents": found,
    }

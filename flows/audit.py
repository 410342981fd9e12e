"""The trail's daily audit: verify every case's hash chain, its documents and the seals
(`misure audit verify`), then seal the day (`misure audit seal`) and publish the seal's
digest as an artifact, a copy kept outside the database. A broken trail fails the run, an
incident someone sees, and the day is not sealed over it."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.common import context, publish_table
from services import audit
from services.settings import Settings


class TrailBroken(RuntimeError):
    """The trail is not as it was written: the run fails, naming the first break."""


@task
def verify(now: str | None) -> audit.Verification:
    return audit.verify(context(now), Settings().seals_dir)


@task
def seal(now: str | None) -> audit.Sealed:
    return audit.seal(context(now), Settings().seals_dir)


@flow(name="audit-trail")
def audit_trail(now: str | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    checked = verify(now)
    if not checked.intact:
        publish_table(
            "audit-breaks",
            [{"pratica": b.reference or "", "evento": b.sequence or "", "documento":
              b.document or "", "anomalia": b.problem} for b in checked.breaks],
            "Registro degli eventi alterato",
        )  # fmt: skip
        raise TrailBroken(f"{len(checked.breaks)} breaks, first: {checked.breaks[0].line()}")
    sealed = seal(now)
    create_markdown_artifact(
        key="audit-seal",
        markdown=(
            f"# Sigillo del registro, {sealed.day}\n\n"
            f"| | |\n|---|---|\n| impronta | `{sealed.digest}` |\n"
            f"| sigillo precedente | `{sealed.previous or '-'}` |\n"
            f"| pratiche | {sealed.cases} |\n| eventi | {sealed.events} |\n"
            f"| file | `{sealed.path}` |\n"
        ),
        description=f"Sigillo del {sealed.day}: {sealed.digest[:16]}",
    )
    logger.info(
        "trail intact (%d cases, %d events); sealed %s: %s",
        checked.cases, checked.events, sealed.day, sealed.digest,
    )  # fmt: skip
    return {"intact": True, "day": sealed.day.isoformat(), "digest": sealed.digest,
            "already": sealed.already}  # fmt: skip

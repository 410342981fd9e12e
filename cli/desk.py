"""The case workers' desk from the command line: `misure case retry` (an incident put back to
work), `misure pages publish` (the case pages, queues and index as markdown files, without
Prefect) and `misure dispatch` (start each Prefect job when it has work due: the stack runs
it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    ActorOption,
    JsonOption,
    NowOption,
    Refused,
    emit,
    err,
    make_context,
    out,
    refusals,
)
from services import delivery, incidents, notices, pages
from services.settings import Settings

pages_app = typer.Typer(
    no_args_is_help=True, help="Case pages and work queues (the Prefect UI's, as files)."
)


def register(app: typer.Typer, case_app: typer.Typer) -> None:
    """Add `case retry`, `pages publish` and `dispatch`."""
    case_app.command("retry")(case_retry)
    pages_app.command("publish")(pages_publish)
    app.add_typer(pages_app, name="pages")
    app.command("dispatch")(dispatch)


def case_retry(
    reference: str, actor: ActorOption = "cli", now: NowOption = None, as_json: JsonOption = False
) -> None:
    """Retry what failed every attempt on case REFERENCE (timers, notices, messages), once its
    cause is removed, and serve it now; exit 1 if an incident is still open afterwards."""
    with refusals(as_json):
        settings = Settings()
        outcome = incidents.retry(
            make_context(now),
            reference,
            actor,
            notices.Office.from_settings(settings),
            delivery.transport_from(settings),
            delivery.DeliveryPolicy.from_settings(settings),
        )
        if outcome.left and not as_json:
            raise Refused(f"{reference}: {outcome.summary}")
    if as_json:
        retried = outcome.retried
        emit(
            {
                "reference": reference,
                "timers": list(retried.timers),
                "notices": list(retried.notices),
                "deliveries": list(retried.deliveries),
                "open": list(outcome.left),
            }
        )
        if outcome.left:
            raise typer.Exit(1)
        return
    out.print(f"{reference}: {outcome.summary}", highlight=False)


def pages_publish(
    out_dir: Annotated[Path, typer.Option("--out", help="Write each page here as KEY.md.")],
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish the page of every case changed since its page was published, then the queues
    of their offices and courts and the index, as markdown files (the publish-case-pages flow
    publishes the same as Prefect artifacts)."""
    with refusals(as_json):
        ctx = make_context(now)
        office = notices.Office.from_settings(Settings()).name
        out_dir.mkdir(parents=True, exist_ok=True)
        written: list[str] = []
        offices: set[str] = set()
        courts: set[str] = set()
        after = 0
        while changes := pages.changed_cases(ctx, 200, after=after):
            published = []
            for change in changes:
                page, route = pages.case_page(ctx, change.reference, office)
                written.append(_write(out_dir, page))
                published.append((change, route))
                offices.add(route.office)
            settled = pages.settle(ctx, published)
            offices |= settled.offices
            courts |= settled.courts
            after = changes[-1].case_id
        queues = pages.queues(ctx, offices, courts) if offices else []
        written += [_write(out_dir, page) for page in queues]
    if as_json:
        emit({"pages": len(written) - len(queues), "queues": len(queues), "written": written})
        return
    out.print(
        f"{len(written) - len(queues)} pagine di pratiche e {len(queues)} code e indici "
        f"scritti in {out_dir}",
        highlight=False,
    )


def _write(folder: Path, page: pages.Page) -> str:
    target = folder / f"{page.key}.md"
    target.write_text(page.markdown, encoding="utf-8")
    return str(target)


def dispatch(
    every: Annotated[float, typer.Option(min=1, max=3600, help="Seconds between rounds.")] = 2,
    backoff: Annotated[
        float, typer.Option(min=0, max=86400, help="Seconds before a failed job is retried.")
    ] = 300,
) -> None:
    """Every few seconds, publish the pages of the cases that changed (and their offices'
    queues), and start each Prefect deployment that has work due (timers, notices, messages,
    the procedures' signals) and whose last run is over, until interrupted. Needs
    PREFECT_API_URL (the stack sets it)."""
    from flows.dispatch import Dispatcher  # Prefect only here

    with refusals():
        ctx = make_context()
    dispatcher = Dispatcher(backoff=backoff)
    out.print(f"avvio dei lavori quando c'è da fare, ogni {every:g} s; Ctrl-C arresta")
    try:
        while True:
            try:
                for line in dispatcher.round(ctx):
                    out.print(line, highlight=False, soft_wrap=True)
            except Exception as error:  # the next round tries again; the log says why
                err.print(f"giro non riuscito: {error}", highlight=False)
            time.sleep(every)
    except KeyboardInterrupt:
        out.print("arrestato")

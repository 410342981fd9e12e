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
    no_args_is_help=True,
    help="Pagine delle pratiche e code di lavoro (della UI di Prefect, come file).",
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
    """Ritenta ciò che è fallito a ogni tentativo sulla pratica REFERENCE e lo serve subito.

    Timer, comunicazioni e messaggi, una volta rimossa la causa; esce con stato 1 se poi resta
    aperto un incidente."""
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
    out_dir: Annotated[Path, typer.Option("--out", help="Scrive qui ogni pagina come KEY.md.")],
    now: NowOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pubblica come file markdown le pagine delle pratiche cambiate, le loro code e l'indice.

    La pagina di ogni pratica cambiata da quando è stata pubblicata, poi le code dei suoi uffici
    e tribunali e l'indice (il flow publish-case-pages pubblica gli stessi come artifact
    Prefect)."""
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
    every: Annotated[
        float, typer.Option(min=1, max=3600, help="Secondi tra un giro e l'altro.")
    ] = 2,
    backoff: Annotated[
        float, typer.Option(min=0, max=86400, help="Secondi prima di ritentare un lavoro fallito.")
    ] = 300,
) -> None:
    """Ogni pochi secondi pubblica le pagine cambiate e avvia i deployment Prefect con lavoro.

    Fino all'interruzione pubblica le pagine delle pratiche cambiate (e le code dei loro
    uffici) e avvia ogni deployment Prefect che ha lavoro da fare (timer, comunicazioni,
    messaggi, segnali delle procedure) e la cui ultima esecuzione è terminata. Richiede
    PREFECT_API_URL (lo imposta lo stack)."""
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

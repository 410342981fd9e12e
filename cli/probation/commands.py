"""`misure probation ...`: probation with suspension of the trial (messa alla prova). Its
cases go through `misure case open/fire` (kind `probation`) and the judge's orders through the
API; here, what a UEPE reads at a glance."""

from __future__ import annotations

from dataclasses import asdict

import typer

from cli.common import JsonOption, NowOption, emit, make_context, refusals
from cli.terminal import MarkdownOption, show_markdown
from services.probation import dashboard


def register(app: typer.Typer) -> None:
    """The probation commands on the CLI root (the procedure's `cli`)."""
    app.add_typer(probation_app, name="probation")


probation_app = typer.Typer(
    no_args_is_help=True,
    help="Messa alla prova: il quadro per ufficio di esecuzione penale esterna.",
)


@probation_app.command("dashboard")
def probation_dashboard(
    now: NowOption = None, raw: MarkdownOption = False, as_json: JsonOption = False
) -> None:
    """Le messe alla prova in sintesi, per UEPE: in corso (udienze di revoca comprese), al
    giudice, verbali da firmare, in istruttoria; relazioni in scadenza questo mese, udienze nei
    prossimi 30 giorni, anomalie (relazioni periodiche o finali non pervenute nel termine)."""
    with refusals(as_json):
        board = dashboard.probation_dashboard(make_context(now))
    if as_json:
        emit(asdict(board))
        return
    show_markdown(dashboard.dashboard_markdown(board), raw)

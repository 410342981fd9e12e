"""`misure audit`: verify the trail's hash chains and seal them, day by day."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from cli.common import JsonOption, NowOption, emit, err, fail, make_context, out, refusals, rome
from services import audit
from services.errors import DomainError
from services.settings import Settings

audit_app = typer.Typer(
    no_args_is_help=True, help="Il registro degli eventi: verificarne le catene, sigillarle."
)


class TrailBroken(DomainError):
    code = "trail_broken"


@audit_app.command("verify")
def audit_verify(
    reference: Annotated[str | None, typer.Argument(help="Una pratica; tutte se omessa.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Ricalcola la catena di ogni pratica (o di REFERENCE), i suoi documenti e i sigilli.

    Indica cosa è stato alterato ed esce con stato 1, o conferma il registro integro."""
    with refusals(as_json):
        ctx = make_context()
        with Progress(
            "verifica", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True, disable=as_json or reference is not None,
        ) as bar:  # fmt: skip
            task = bar.add_task("cases")
            result = audit.verify(
                ctx, Settings().seals_dir, reference, lambda n: bar.advance(task, n)
            )
    if as_json:
        emit(_verification_json(result))
        if not result.intact:
            raise typer.Exit(1)
        return
    for found in result.breaks:
        out.print(found.line(), highlight=False, soft_wrap=True)
    if not result.intact:
        first = result.breaks[0]
        fail(
            TrailBroken(f"registro alterato ({len(result.breaks)} anomalie): {first.line()}"), False
        )
    sealed = f", confrontata con il sigillo del {result.sealed_on}" if result.sealed_on else ""
    out.print(
        f"catena integra: {result.cases} pratiche, {result.events} eventi, "
        f"{result.documents} documenti, {result.seals} sigilli{sealed}"
    )


def _verification_json(result: audit.Verification) -> dict[str, Any]:
    return {
        "intact": result.intact,
        "cases": result.cases,
        "events": result.events,
        "documents": result.documents,
        "seals": result.seals,
        "sealed_on": result.sealed_on,
        "breaks": [
            {"reference": b.reference, "sequence": b.sequence, "document": b.document,
             "problem": b.problem}
            for b in result.breaks
        ],
    }  # fmt: skip


@audit_app.command("seal")
def audit_seal(now: NowOption = None, as_json: JsonOption = False) -> None:
    """Sigilla le catene di oggi (data italiana): l'ultimo hash di ogni pratica.

    In una riga del database e in un file sotto MISURE_SEALS_DIR; un giorno si sigilla una
    volta sola."""
    with refusals(as_json):
        sealed = audit.seal(make_context(now), Settings().seals_dir)
    if as_json:
        emit({**sealed_json(sealed), "path": str(sealed.path)})
        return
    said = "già sigillato" if sealed.already else "sigillato"
    out.print(
        f"{sealed.day}: {said} alle {rome(sealed.sealed_at)}, {sealed.cases} pratiche, "
        f"{sealed.events} eventi, impronta {sealed.digest} ({sealed.path})"
    )


def sealed_json(sealed: audit.Sealed) -> dict[str, Any]:
    return {
        "day": sealed.day,
        "sealed_at": sealed.sealed_at,
        "digest": sealed.digest,
        "previous": sealed.previous,
        "cases": sealed.cases,
        "events": sealed.events,
        "already": sealed.already,
    }

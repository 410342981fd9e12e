"""What staff read of a case in the Prefect UI: its status page, as markdown. Pseudonymous
references only: no names, no tax codes."""

from __future__ import annotations

from datetime import timedelta

from documents.render import data_it, data_ora_it
from machines.calendar import rome_date
from machines.diagram import mermaid
from services import engine
from services.context import Context


def case_status_markdown(ctx: Context, reference: str) -> str:
    """State, what can happen now (and why not), pending timers in Italian time, the full
    history and the machine's diagram with the current state highlighted."""
    detail = engine.describe(ctx, reference)
    case, machine = detail.case, ctx.machine(detail.case.kind)
    lines = [
        f"# Pratica {case.reference}",
        f"*{machine.label(case.kind)}*",
        "",
        f"**Stato attuale:** `{detail.state}` — {machine.label(detail.state)}  ",
        f"versione {case.version}, aggiornata il {data_ora_it(case.updated_at)}",
    ]
    for passed in detail.passed_terms:
        lines.append(
            f"\n> Termine **{machine.label(passed.timer)}** scaduto il "
            f"{data_ora_it(passed.due_at)}: `{passed.trigger}` → `{passed.to_state}` con "
            "effetto da quell'istante (non ancora registrato)."
        )
    if detail.facts:
        lines += ["", "## Dati della pratica", "| dato | valore |", "|---|---|"]
        lines += [
            f"| {name} | {_cell(str(value))} |"
            for name, value in detail.facts.items()
            if value is not None
        ]
    lines += [
        "",
        "## Cosa può accadere ora",
        "| evento | porta a | ammesso | perché no |",
        "|---|---|---|---|",
    ]
    for verdict in detail.verdicts:
        if verdict.dest is None:
            continue  # not a move from this state: listed in the diagram
        why = "; ".join(verdict.reasons) or "—"
        allowed = "sì" if verdict.allowed else "no"
        lines.append(
            f"| {machine.label(verdict.trigger)} (`{verdict.trigger}`) | "
            f"`{verdict.dest}` | {allowed} | {_cell(why)} |"
        )
    lines += ["", "## Termini in corso", ""]
    if detail.pending_timers:
        lines += [
            "| termine | ultimo giorno | scatta (ora italiana) | alla scadenza | computo |",
            "|---|---|---|---|---|",
        ]
        lapsed = {p.timer for p in detail.passed_terms}
        for timer in (t for t in detail.pending_timers if t.name not in lapsed):
            then = timer.fires or f"avviso {timer.notice}"
            last_day = rome_date(timer.due_at - timedelta(microseconds=1))
            lines.append(
                f"| {machine.label(timer.name)} | {data_it(last_day)} | "
                f"{data_ora_it(timer.due_at)} | `{then}` | {_cell(timer.legal_basis)} |"
            )
    else:
        lines.append("Nessun termine in corso.")
    lines += [
        "",
        "## Storico",
        "| # | data e ora | evento | da | a | attore | base normativa |",
        "|---|---|---|---|---|---|---|",
    ]
    for event in detail.history:
        lines.append(
            f"| {event.sequence} | {data_ora_it(event.effective_at)} | "
            f"{machine.label(event.trigger)} | `{event.from_state or '—'}` | `{event.to_state}` | "
            f"{_cell(event.actor)} | {_cell(event.legal_basis)} |"
        )
    lines += ["", "## Diagramma", "", "```mermaid", mermaid(machine, detail.state), "```", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

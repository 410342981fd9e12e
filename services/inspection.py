"""What staff read of a case in the Prefect UI: its status page, as markdown, in Italian.
Pseudonymous references only: no names, no tax codes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from documents.render import data_it, data_ora_it
from machines.calendar import rome_date
from machines.diagram import around
from machines.spec import CaseMachine
from services import delivery, engine
from services.context import Context
from storage.chain import DOCUMENT_TRIGGER

RETRIED = "incident_retried"  # services/incidents.py records it

FACT_LABELS = {
    "office": "ufficio",
    "prison": "istituto penitenziario",
    "court": "autorità giudiziaria",
    "tribunal": "tribunale",
    "filed_on": "istanza presentata il",
    "protocol": "protocollo dell'istanza",
    "protocol_at": "protocollata il",
    "decision": "decisione",
    "decided_on": "decisione del",
    "file_number": "numero del procedimento",
    "measure_start": "inizio della misura",
    "facility": "struttura",
    "facility_name": "denominazione della struttura",
    "facility_state": "stato della struttura",
    "convention": "convenzione",
    "place": "posto",
    "place_status": "stato del posto",
    "daily_rate": "retta giornaliera (euro)",
    "issued_on": "attestazione rilasciata il",
    "valid_until": "valida fino al",
    "entered_on": "ingresso il",
    "funded_until": "permanenza finanziata fino al",
    "left_on": "uscita il",
    "committed": "impegno di spesa (euro)",
    "form": "forma",
    "seat": "sede",
    "owed_days": "giorni dovuti",
    "owed_hours": "ore dovute",
    "credited_hours": "ore riconosciute",
    "hours_left": "ore residue",
    "authorised_extra_hours": "ore aggiuntive autorizzate",
    "sessions": "presenze registrate",
    "entity": "ente",
    "counterparty": "controparte",
    "province": "provincia",
    "valid_from": "valida dal",
    "ended_on": "cessata il",
    "capacity": "posti",
    "people_at_work": "persone al lavoro",
    "places_left": "posti liberi",
    "code": "codice",
    "name": "denominazione",
    "operator": "gestore",
    "operator_type": "tipo di gestore",
    "address": "indirizzo",
    "section": "sezione dell'elenco",
    "places": "posti",
    "dap_opinion": "parere",
    "registered_on": "iscritta il",
    "suspended_since": "sospesa dal",
    "cancelled_on": "cancellata il",
    "procedures": "procedimenti",
    "reports": "segnalazioni",
    "visits": "visite",
    "prescriptions": "prescrizioni",
    "causes": "cause",
    "in_progress": "in corso",
    "opened_at": "avviato il",
    "closed_at": "concluso il",
    "received_on": "ricevuta il",
    "defence_days": "giorni per le difese",
    "offence": "reato",
    "ordered_on": "ordinanza del",
    "duration_months": "durata (mesi)",
    "duration_days": "durata (giorni)",
    "cadence_months": "relazioni ogni (mesi)",
    "record_signed_on": "verbale sottoscritto il",
    "period_last_day": "ultimo giorno della prova",
    "programme_version": "versione del programma",
    "lpu_days_planned": "giornate di LPU previste",
    "lpu_days_done": "giornate di LPU svolte",
    "days_served": "giorni di prova eseguiti",
    "art_657_bis": "art. 657-bis c.p.p.",
}
"""Italian names of the facts the procedures' summaries give (`Procedure.summaries`)."""

RECORD_LABELS = {
    DOCUMENT_TRIGGER: "emissione del documento",
    delivery.SENT: "invio della comunicazione (PEC)",
    delivery.RETRY: "invio non riuscito, da ritentare",
    delivery.UNDELIVERED: "comunicazione non recapitata",
    delivery.UNCERTAIN: "invio con esito incerto",
    delivery.RECEIPT: "ricevuta PEC",
    RETRIED: "ripresa dopo un incidente",
}
"""Italian names of what the shared services record on a case without moving it."""


def label(machine: CaseMachine, name: str) -> str:
    """The Italian name of a state, trigger or term of `machine`, or of a shared record."""
    return machine.labels.get(name) or RECORD_LABELS.get(name) or machine.label(name)


def case_status_markdown(
    ctx: Context, reference: str, detail: engine.CaseDetail | None = None, heading: bool = True
) -> str:
    """State, what can happen now (and why not), pending timers in Italian time, the full
    history and the diagram around the current state; `heading`: with the case's title."""
    detail = detail or engine.describe(ctx, reference)
    case, machine = detail.case, ctx.machine(detail.case.kind)
    lines = [f"# Pratica {case.reference}", f"*{machine.label(case.kind)}*", ""] if heading else []
    lines += [
        f"**Stato attuale:** {machine.label(detail.state)} (`{detail.state}`)  ",
        f"versione {case.version}, aggiornata il {data_ora_it(case.updated_at)}",
    ]
    for passed in detail.passed_terms:
        lines.append(
            f"\n> Termine **{machine.label(passed.timer)}** scaduto il "
            f"{data_ora_it(passed.due_at)}: {machine.label(passed.trigger)} → "
            f"{machine.label(passed.to_state)} (`{passed.to_state}`) con effetto da "
            "quell'istante (non ancora registrato)."
        )
    facts = {name: value for name, value in detail.facts.items() if value not in (None, [], {})}
    if facts:
        lines += ["", "## Dati della pratica", "| dato | valore |", "|---|---|"]
        lines += [
            f"| {FACT_LABELS.get(name, name.replace('_', ' '))} | {_cell(_value(value))} |"
            for name, value in facts.items()
        ]
    lines += ["", "## Termini in corso", ""]
    lapsed = {p.timer for p in detail.passed_terms}
    running = [t for t in detail.pending_timers if t.name not in lapsed]
    if running:
        lines += [
            "| termine | ultimo giorno | scatta (ora italiana) | alla scadenza | computo |",
            "|---|---|---|---|---|",
        ]
        for timer in running:
            then = machine.label(timer.fires) if timer.fires else f"avviso `{timer.notice}`"
            last_day = rome_date(timer.due_at - timedelta(microseconds=1))
            lines.append(
                f"| {machine.label(timer.name)} | {data_it(last_day)} | "
                f"{data_ora_it(timer.due_at)} | {then} | {_cell(timer.legal_basis)} |"
            )
    else:
        lines.append("Nessun termine in corso.")
    lines += [
        "",
        "## Cosa può accadere ora",
        "| evento | porta a | ammesso | perché no |",
        "|---|---|---|---|",
    ]
    for verdict in detail.verdicts:
        if verdict.dest is None:
            continue  # not a move from this state
        why = "; ".join(verdict.reasons) or "—"
        allowed = "sì" if verdict.allowed else "no"
        lines.append(
            f"| {machine.label(verdict.trigger)} (`{verdict.trigger}`) | "
            f"{machine.label(verdict.dest)} | {allowed} | {_cell(why)} |"
        )
    lines += [
        "",
        "## Storico",
        "| # | data e ora | evento | da | a | attore | base normativa |",
        "|---|---|---|---|---|---|---|",
    ]
    for event in detail.history:
        before = "—" if event.from_state is None else machine.label(event.from_state)
        lines.append(
            f"| {event.sequence} | {data_ora_it(event.effective_at)} | "
            f"{label(machine, event.trigger)} | {before} | {machine.label(event.to_state)} | "
            f"{_cell(event.actor)} | {_cell(event.legal_basis)} |"
        )
    lines += [
        "",
        "## Diagramma: da dove viene e dove può andare",
        "",
        "```mermaid",
        around(machine, detail.state),
        "```",
        "",
    ]
    return "\n".join(lines)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return f"{date.fromisoformat(value):%d/%m/%Y}"
        except ValueError:
            return value
    if isinstance(value, list):
        return "; ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items() if v is not None)
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

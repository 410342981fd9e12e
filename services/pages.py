"""The case workers' pages in the Prefect UI, as markdown: each case's live page, each office's
work queue, each court's list of the cases pending before it, and an index of them all. Which
cases changed since their page was published is kept by the database (`case_changes`, written
by triggers in the transaction of any change, whatever made it); a publication settles only the
changes it saw, so that nothing is lost and a burst costs one page per case.

Pseudonymous references only: no names, no tax codes (art. 15 D.M. 128/2025)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from documents.render import data_ora_it
from machines.spec import CaseMachine
from services import engine, inspection
from services.context import Context
from services.errors import UnknownCase
from services.procedure import PARTIES
from services.protocol import protocol_label
from storage.pages import Changed, Due, Incident, Issued, Listed, PageRepository
from storage.unit_of_work import UnitOfWork

UI_ARTIFACT = "/v2/artifacts/artifact/"  # where the Prefect UI (V2) shows an artifact
UI_KEY = "/v2/artifacts/key/"  # the versions of an artifact, before it has one
QUEUE_WINDOW = timedelta(days=7)  # the deadlines an office's queue shows as coming
QUEUE_ROWS = 2000  # rows of a queue's full list; the count says how many there were
OWN_ACTS = frozenset({"office", "directorate"})  # the parties that are the office itself


@dataclass(frozen=True)
class Page:
    """An artifact to publish: its key, its markdown, its one-line description; `complete`
    when every page it links to had its artifact (else it links to their keys' versions)."""

    key: str
    markdown: str
    description: str
    complete: bool = True


@dataclass(frozen=True)
class Route:
    """Where a case is followed: the office issuing its notices, the court before which it is."""

    office: str
    office_name: str
    court: str | None


def case_key(reference: str) -> str:
    return f"case-{reference.lower()}"


def queue_key(office: str) -> str:
    return f"coda-{_slug(office)}"


def court_key(court: str) -> str:
    return f"autorita-{_slug(court)}"


INDEX_KEY = "pratiche-indice"


def link(key: str, text: str, ids: Mapping[str, str]) -> str:
    """A markdown link opening the page `key` in the Prefect UI."""
    target = f"{UI_ARTIFACT}{ids[key]}" if key in ids else f"{UI_KEY}{key}"
    return f"[{text}]({target})"


def ui_path(ctx: Context, key: str) -> str:
    """The path of page `key` in the Prefect UI (its artifact, else its key's versions)."""
    found = artifact_ids(ctx, [key])
    return f"{UI_ARTIFACT}{found[key]}" if key in found else f"{UI_KEY}{key}"


def artifact_ids(ctx: Context, keys: Iterable[str]) -> dict[str, str]:
    """Page key -> the id of the Prefect artifact showing it, for the pages published."""
    with ctx.read() as uow:
        return PageRepository(uow.session, uow.postgresql).artifact_ids(keys)


def remember_artifact(ctx: Context, key: str, artifact: str) -> None:
    """The artifact that shows page `key` from now on."""
    with ctx.uow() as uow:
        PageRepository(uow.session, uow.postgresql).save_artifact(key, artifact, ctx.clock.now())
        uow.commit()


# changes ---------------------------------------------------------------------------------------
def changed_cases(
    ctx: Context, limit: int, after: int = 0, held: Collection[int] = ()
) -> list[Changed]:
    """At most `limit` cases changed since their page was published, by id above `after`,
    but those `held` (whose publication failed a moment ago)."""
    with ctx.read() as uow:
        return PageRepository(uow.session, uow.postgresql).changed(limit, after, held)


@dataclass(frozen=True)
class Settled:
    """What a publication settled: how many changes it forgot, and the offices and courts
    that its cases left (their queues still list them until published again)."""

    count: int
    offices: frozenset[str]
    courts: frozenset[str]


def settle(ctx: Context, published: Sequence[tuple[Changed, Route]]) -> Settled:
    """Record where each published page came from and forget the changes it showed."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        pages = PageRepository(uow.session, uow.postgresql)
        before = pages.routes_of([change.case_id for change, _ in published])
        offices: set[str] = set()
        courts: set[str] = set()
        for change, route in published:
            office, court = before.get(change.case_id, (route.office, route.court))
            if office != route.office:
                offices.add(office)
            if court is not None and court != route.court:
                courts.add(court)
            pages.save_route(change.case_id, route.office, route.office_name, route.court, now)
        settled = pages.settle(change for change, _ in published)
        uow.commit()
    return Settled(settled, frozenset(offices), frozenset(courts))


# a case's page ---------------------------------------------------------------------------------
def case_page(ctx: Context, reference: str, office_name: str) -> tuple[Page, Route]:
    """The live page of case `reference`: where it is followed, its state and next deadline,
    its incidents, its facts, terms, notices with their protocol numbers, history and the
    diagram around its state; and the route the queues file it under."""
    detail = engine.describe(ctx, reference)
    with ctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise UnknownCase(reference)
        route = _route(ctx, uow, case.id, office_name)
        pages = PageRepository(uow.session, uow.postgresql)
        issued = pages.issued(case.id)
        incidents = pages.incidents([case.id])
        linked = [queue_key(route.office), INDEX_KEY]
        linked += [] if route.court is None else [court_key(route.court)]
        ids = pages.artifact_ids(linked)
    machine = ctx.machine(detail.case.kind)
    office = link(queue_key(route.office), f"{route.office_name} ({route.office})", ids)
    court = (
        ""
        if route.court is None
        else f" · **Autorità giudiziaria:** {link(court_key(route.court), route.court, ids)}"
    )
    lines = [
        f"# Pratica {reference}",
        f"*{machine.label(detail.case.kind)}*",
        "",
        f"**Ufficio:** {office}{court} · {link(INDEX_KEY, 'tutte le code', ids)}",
        "",
    ]
    awaited = machine.awaits.get(detail.state)
    if awaited is not None:
        lines.append(f"**In attesa di:** {PARTIES.get(awaited, awaited)}  ")
    nxt = _next_due(detail)
    if nxt is not None:
        lines.append(f"**Prossima scadenza:** {machine.label(nxt[0])}, {data_ora_it(nxt[1])}  ")
    if incidents:
        lines += ["", "## Incidenti da risolvere", ""]
        lines += [f"- **{incident_label(i)}**: {_cell(i.detail)}" for i in incidents]
        lines += [
            "",
            "Dopo aver rimosso la causa: *Deployments › retry-incident › Run* con il riferimento "
            f"`{reference}`, oppure `misure case retry {reference}`.",
        ]
    lines += ["", inspection.case_status_markdown(ctx, reference, detail=detail, heading=False)]
    lines += ["", "## Comunicazioni", ""]
    if issued:
        lines += [
            "| comunicazione | protocollo | data | firma | consegne |",
            "|---|---|---|---|---|",
        ]
        lines += [_issued_row(notice) for notice in issued]
    else:
        lines.append("Nessuna comunicazione emessa.")
    complete = set(linked) <= set(ids)
    complete = set(linked) <= set(ids)
    page = Page(case_key(reference), "\n".join(lines) + "\n", f"Pratica {reference}", complete)
    return page, route


def _route(ctx: Context, uow: UnitOfWork, case_id: int, office_name: str) -> Route:
    """The office issuing the case's notices and the court among its parties, as its kind's
    notice context names them (`emittente`, `parti`); the configured office otherwise."""
    case = uow.repo.case_by_id(case_id)
    kind_context = ctx.notice_context(case.kind)
    history = uow.repo.history(case_id)
    if kind_context is None or not history:
        return Route(DEFAULT_OFFICE, office_name, None)
    try:
        context = kind_context(uow, case, history[-1], ctx.clock.now())
    except (LookupError, ValueError, TypeError, AttributeError):
        return Route(DEFAULT_OFFICE, office_name, None)  # the page still says everything else
    issuer: dict[str, Any] = context.get("emittente") or {}
    court = (context.get("parti") or {}).get("court")
    return Route(
        str(issuer.get("codice") or DEFAULT_OFFICE),
        str(issuer.get("nome") or office_name),
        None if court is None else str(court),
    )


DEFAULT_OFFICE = "UFFICIO"


def _next_due(detail: engine.CaseDetail) -> tuple[str, datetime] | None:
    lapsed = {p.timer for p in detail.passed_terms}
    pending = [t for t in detail.pending_timers if t.name not in lapsed]
    if not pending:
        return None
    first = min(pending, key=lambda t: t.due_at)
    return first.name, first.due_at


def _issued_row(notice: Issued) -> str:
    label = notice.subject or notice.template
    protocol = (
        "—"
        if notice.office is None or notice.year is None or notice.number is None
        else protocol_label(notice.office, notice.year, notice.number)
    )
    signature = {"pades": "digitale (PAdES)", "printed": "a mezzo stampa"}.get(
        notice.signature, "—"
    )
    messages = ", ".join(
        f"{count} {_DELIVERY_STATUS.get(status, status)}"
        for status, count in sorted(notice.messages.items())
    )
    return (
        f"| {_cell(label)} | {protocol} | {data_ora_it(notice.rendered_at)} | {signature} | "
        f"{messages or '—'} |"
    )


_DELIVERY_STATUS = {
    "pending": "da inviare",
    "sending": "in invio",
    "sent": "inviate",
    "failed": "non consegnate",
    "uncertain": "esito incerto",
}


def incident_label(incident: Incident) -> str:
    what = {"timer": "termine", "notice": "comunicazione", "delivery": "consegna a"}
    return f"{what[incident.what]} {incident.name}"


# queues ----------------------------------------------------------------------------------------
def queues(
    ctx: Context, offices: Iterable[str] | None = None, courts: Iterable[str] = ()
) -> list[Page]:
    """The work queue of each office (of `offices`, or all), the list of each court of their
    cases and of `courts` (those a case left), and the index of every queue; not `complete`
    while a page they link to has no artifact yet."""
    now = ctx.clock.now()
    with ctx.read() as uow:
        pages = PageRepository(uow.session, uow.postgresql)
        routes = pages.routes()
        wanted = {office for office, _, _ in routes} if offices is None else set(offices)
        published: list[Page] = []
        office_names = {office: name for office, name, _ in routes}
        office_names |= {office: office for office in wanted - set(office_names)}  # left empty
        listed = {office: pages.listed(office=office) for office in wanted}
        named = {c for o, _, c in routes if c is not None and o in wanted} | set(courts)
        before = {court: pages.listed(court=court) for court in sorted(named)}
        keys = [case_key(c.reference) for cases in listed.values() for c in cases]
        keys += [case_key(c.reference) for cases in before.values() for c in cases]
        keys += [
            INDEX_KEY,
            *map(queue_key, office_names),
            *(court_key(c) for _, _, c in routes if c),
        ]
        ids = pages.artifact_ids(keys)
        for office in sorted(listed):
            published.append(
                _queue(ctx, pages, office, office_names[office], listed[office], now, ids)
            )
        for court, cases in before.items():
            published.append(_court(ctx, pages, court, cases, ids))
        published.append(_index(pages, routes, ids))
    if set(keys) <= set(ids):
        return published
    return [replace(page, complete=False) for page in published]  # some link to a key


def _queue(
    ctx: Context,
    pages: PageRepository,
    office: str,
    name: str,
    listed: list[Listed],
    now: datetime,
    ids: Mapping[str, str],
) -> Page:
    case_ids = [case.case_id for case in listed]
    by_id = {case.case_id: case for case in listed}
    timers = pages.pending_timers(case_ids)
    incidents = pages.incidents(case_ids)
    undelivered = pages.undelivered(case_ids)
    nxt: dict[int, Due] = {}
    for timer in timers:
        nxt.setdefault(timer.case_id, timer)
    coming = [t for t in timers if t.due_at <= now + QUEUE_WINDOW]
    own = [c for c in listed if _machine(ctx, c).awaits.get(c.state) in OWN_ACTS]
    lines = [
        f"# Coda di lavoro — {name} ({office})",
        f"Aggiornata il {data_ora_it(now)} · {len(listed)} pratiche · "
        f"{link(INDEX_KEY, 'tutte le code', ids)}",
        "",
        "## Da fare ora",
        "",
        f"### Incidenti ({len(incidents)})",
        "",
    ]
    if incidents:
        lines += ["| pratica | cosa | dettaglio |", "|---|---|---|"]
        lines += [
            f"| {_case_link(by_id[i.case_id].reference, ids)} | {incident_label(i)} | "
            f"{_cell(i.detail)} |"
            for i in incidents
        ]
        lines += ["", "Per riprovare: *Deployments › retry-incident › Run* con il riferimento."]
    else:
        lines.append("Nessuno.")
    lines += ["", f"### Pratiche che attendono un atto dell'ufficio ({len(own)})", ""]
    if own:
        lines += ["| pratica | stato | dal | prossima scadenza |", "|---|---|---|---|"]
        own.sort(key=lambda c: (nxt[c.case_id].due_at if c.case_id in nxt else _FAR, c.reference))
        lines += [_case_row(ctx, c, nxt.get(c.case_id), ids) for c in own[:QUEUE_ROWS]]
        lines += _more(len(own))
    else:
        lines.append("Nessuna.")
    lines += [
        "",
        f"### Scadenze nei prossimi {QUEUE_WINDOW.days} giorni ({len(coming)})",
        "",
    ]
    if coming:
        lines += [
            "| pratica | termine | scade (ora italiana) | alla scadenza |",
            "|---|---|---|---|",
        ]
        for timer in coming[:QUEUE_ROWS]:
            machine = ctx.machine(by_id[timer.case_id].kind)
            then = machine.label(timer.fires) if timer.fires else f"avviso `{timer.notice}`"
            reference = _case_link(by_id[timer.case_id].reference, ids)
            lines.append(
                f"| {reference} | {machine.label(timer.name)} | {data_ora_it(timer.due_at)} | "
                f"{then} |"
            )
        lines += _more(len(coming))
    else:
        lines.append("Nessuna.")
    lines += ["", f"### Comunicazioni non ancora consegnate ({sum(undelivered.values())})", ""]
    if undelivered:
        lines += ["| pratica | messaggi |", "|---|---|"]
        lines += [
            f"| {_case_link(by_id[case_id].reference, ids)} | {count} |"
            for case_id, count in sorted(undelivered.items())
        ]
    else:
        lines.append("Nessuna.")
    lines += [
        "",
        f"## Tutte le pratiche ({len(listed)})",
        "",
        "| pratica | tipo | stato | in attesa di | prossima scadenza |",
        "|---|---|---|---|---|",
    ]
    lines += [_case_row(ctx, c, nxt.get(c.case_id), ids, kind=True) for c in listed[:QUEUE_ROWS]]
    lines += _more(len(listed))
    description = (
        f"Coda di lavoro {office}: {len(incidents)} incidenti, {len(own)} da trattare, "
        f"{len(coming)} scadenze entro {QUEUE_WINDOW.days} giorni"
    )
    return Page(queue_key(office), "\n".join(lines) + "\n", description)


_FAR = datetime.max.replace(tzinfo=UTC)


def _court(
    ctx: Context, pages: PageRepository, court: str, listed: list[Listed], ids: Mapping[str, str]
) -> Page:
    pending = [c for c in listed if _machine(ctx, c).awaits.get(c.state) == "court"]
    nxt: dict[int, Due] = {}
    for timer in pages.pending_timers([c.case_id for c in listed]):
        nxt.setdefault(timer.case_id, timer)
    lines = [
        f"# {court}",
        f"{len(pending)} pratiche in attesa di una decisione, {len(listed)} in tutto · "
        f"{link(INDEX_KEY, 'tutte le code', ids)}",
        "",
        "## In attesa dell'Autorità giudiziaria",
        "",
    ]
    if pending:
        lines += [
            "| pratica | tipo | stato | in attesa di | prossima scadenza |",
            "|---|---|---|---|---|",
        ]
        lines += [
            _case_row(ctx, c, nxt.get(c.case_id), ids, kind=True) for c in pending[:QUEUE_ROWS]
        ]
        lines += _more(len(pending))
    else:
        lines.append("Nessuna.")
    description = f"{court}: {len(pending)} pratiche in attesa di decisione"
    return Page(court_key(court), "\n".join(lines) + "\n", description)


def _index(
    pages: PageRepository, routes: list[tuple[str, str, str | None]], ids: Mapping[str, str]
) -> Page:
    offices: dict[str, str] = {}
    courts: set[str] = set()
    for office, name, court in routes:
        offices[office] = name
        if court is not None:
            courts.add(court)
    counts: dict[str, int] = defaultdict(int)
    for case in pages.listed():
        counts[case.office] += 1
    lines = ["# Pratiche: code di lavoro", "", "## Uffici", ""]
    lines += [
        f"- {link(queue_key(office), f'{name} ({office})', ids)}: {counts[office]} pratiche"
        for office, name in sorted(offices.items())
    ]
    lines += ["", "## Autorità giudiziarie", ""]
    lines += [f"- {link(court_key(court), court, ids)}" for court in sorted(courts)]
    lines += [
        "",
        "Ogni pratica ha la sua pagina: chiave `case-<riferimento>` (per esempio "
        "`case-att-2026-000001`).",
    ]
    return Page(INDEX_KEY, "\n".join(lines) + "\n", "Indice delle code di lavoro")


def _case_row(
    ctx: Context, case: Listed, nxt: Due | None, ids: Mapping[str, str], kind: bool = False
) -> str:
    machine = _machine(ctx, case)
    awaited = machine.awaits.get(case.state)
    due = "—" if nxt is None else f"{machine.label(nxt.name)}, {data_ora_it(nxt.due_at)}"
    state = f"{machine.label(case.state)} (`{case.state}`)"
    if kind:
        who = "—" if awaited is None else PARTIES.get(awaited, awaited)
        return (
            f"| {_case_link(case.reference, ids)} | {machine.label(case.kind)} | {state} | {who} | "
            f"{due} |"
        )
    return (
        f"| {_case_link(case.reference, ids)} | {state} | {data_ora_it(case.updated_at)} | {due} |"
    )


def _machine(ctx: Context, case: Listed) -> CaseMachine:
    return ctx.machine(case.kind)


def _case_link(reference: str, ids: Mapping[str, str]) -> str:
    return link(case_key(reference), reference, ids)


def _more(count: int) -> list[str]:
    if count <= QUEUE_ROWS:
        return []
    return ["", f"*… e altre {count - QUEUE_ROWS}: le prime {QUEUE_ROWS} sono elencate.*"]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

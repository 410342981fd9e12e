"""The publication of the register of residential facilities on the Ministry's site (art. 3
D.M. 128/2025; art. 8 D.L. 92/2024): every facility registered or suspended, by section, as
HTML, PDF, CSV and JSON open data, stored as a `Publication` row and written as files.

The register is republished promptly on every change and in any case at least every six months
(art. 3 co. 6): `publish_if_changed` serves the first rule, `publish` the scheduled backstop,
and `staleness` tells when the second is broken. The files carry facilities and operators only:
nothing about residents and no person (art. 15).

"Changed" means that what would be published differs from what was last published. The last
change of an entry (`RegisterRepository.last_change()`) is the instant its transition took
effect, taken before that transition commits: a transition still running when a publication
reads the register may commit later with an earlier instant than the publication's, so a
comparison of instants could miss it. The published content cannot: the next run sees it.

A render (WeasyPrint) takes far longer than a transition, so it never holds the writer on
SQLite (as services/notices.py): the register is read in a snapshot, rendered outside any
transaction, and only the row is written, in one short transaction that first looks at what
other runs stored meanwhile: the same content (this run stores nothing), or a later
publication (this run reads the register again, so that rows and the `elenco-latest.*` files
never go back in time). The files are written after it commits, each under a temporary name
and renamed; a run that finds nothing changed writes again the files of the last publication
if they are missing (the row holds them), and `elenco-latest.*` if they are not its own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from documents.render import data_it, data_ora_it, render_notice
from machines.calendar import add_months, lapse_instant, rome_date
from machines.register import Facility
from services.context import Context
from services.errors import InvalidInput, StaleVersion
from services.register.notices import DIRECTORATE, DIRECTORATE_PLACE, TEMPLATES
from services.settings import Settings
from storage.register.models import Publication
from storage.register.repository import RegisterRepository

TEMPLATE = "elenco"
FORMATS = ("html", "pdf", "csv", "json")
LATEST = "latest"

# Art. 3 co. 6 D.M. 128/2025: the register is republished at least every six months. A month
# term (art. 2963 c.c.): published on 3 May, due by the end of 3 November (Italian time).
REPUBLISH_MONTHS = 6
REPUBLISH_ARTICLE = "art. 3 co. 6 D.M. 128/2025"

# The open data's columns, in order (CSV header, JSON keys).
COLUMNS = (
    "section",
    "code",
    "name",
    "operator",
    "address",
    "places",
    "registered_on",
    "standing",
    "suspended_since",
)
PUBLISHED = (Facility.REGISTERED, Facility.SUSPENDED)
REASON_LENGTH = 200  # register_publications.reason
ATTEMPTS = 3  # reads of the register, when another run keeps publishing meanwhile
PUBLIC = 0o644  # the files are published: whoever serves them may read them


@dataclass(frozen=True)
class Listed:
    """A facility as published: no resident, no person of the operator (art. 15)."""

    section: str
    code: str
    name: str
    operator: str
    address: str
    places: int
    registered_on: date | None
    standing: str  # registered / suspended
    suspended_since: date | None

    @property
    def suspended(self) -> bool:
        return self.standing == Facility.SUSPENDED

    def open_data(self) -> dict[str, Any]:
        """The open-data record (CSV row, JSON object): dates as ISO text."""
        return {
            "section": self.section,
            "code": self.code,
            "name": self.name,
            "operator": self.operator,
            "address": self.address,
            "places": self.places,
            "registered_on": _iso(self.registered_on),
            "standing": self.standing,
            "suspended_since": _iso(self.suspended_since),
        }


@dataclass(frozen=True)
class SectionCount:
    section: str
    facilities: int
    suspended: int


@dataclass(frozen=True)
class PublicationRecord:
    """A publication as stored: its row's id, when and why, how many facilities (by section),
    the digest of its JSON, and the files written (none if they were not)."""

    id: int
    published_at: datetime
    reason: str
    entries: int
    digest: str
    sections: tuple[SectionCount, ...]
    paths: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Staleness:
    """When the register was last published, the last day by which it must be published again
    (art. 3 co. 6 D.M. 128/2025), and whether that day has passed (or it was never
    published)."""

    last_published_at: datetime | None
    due_by: date | None
    stale: bool


@dataclass(frozen=True)
class _Files:
    html: str
    pdf: bytes
    csv: str
    json: str
    digest: str

    def contents(self) -> dict[str, bytes]:
        return {
            "html": self.html.encode("utf-8"),
            "pdf": self.pdf,
            "csv": self.csv.encode("utf-8"),
            "json": self.json.encode("utf-8"),
        }


def default_directory() -> Path:
    """Where the files go: `Settings().register_dir`, i.e. MISURE_REGISTER_DIR, else
    `register_dir` in misure.toml, else var/register (relative to the working directory)."""
    return Settings().register_dir


def publish(ctx: Context, reason: str, out_dir: Path | None = None) -> PublicationRecord:
    """Publish the register as it stands now, whatever was published before (the six-monthly
    publication, art. 3 co. 6 D.M. 128/2025, or one the Directorate orders)."""
    record = _publish(ctx, _reason(reason), out_dir, only_if_changed=False)
    assert record is not None
    return record


def publish_if_changed(
    ctx: Context, reason: str, out_dir: Path | None = None
) -> PublicationRecord | None:
    """Publish the register if it differs from the last publication, or was never published
    (art. 3 co. 6 D.M. 128/2025: promptly on every change); None if nothing changed."""
    return _publish(ctx, _reason(reason), out_dir, only_if_changed=True)


REPUBLISH_TOPIC = "publish_register"  # what a change of the published register signals


def republish_signalled(
    ctx: Context, reason: str, out_dir: Path | None = None
) -> PublicationRecord | None:
    """Serve the pending `publish_register` signals: publish if the register changed, then mark
    the signals read before publishing as served (one signalled later waits for the next run).
    Returns the publication, None if nothing changed."""
    with ctx.read() as uow:
        pending = RegisterRepository.of(uow).pending_signals(REPUBLISH_TOPIC)
    record = publish_if_changed(ctx, reason, out_dir)
    if pending:
        with ctx.uow() as uow:
            uow.repo.mark_outbox_done_many(pending, ctx.clock.now())
            uow.commit()
    return record


def staleness(ctx: Context, now: datetime) -> Staleness:
    """Art. 3 co. 6 D.M. 128/2025: the register is republished at least every six months. A
    month term (art. 2963 c.c.) from the day of the last publication in Italian time, ending at
    the last instant of its last day: published on 3 May, it is stale from 00:00 on 4
    November. Never published: stale."""
    with ctx.read() as uow:
        last = RegisterRepository.of(uow).last_publication()
        published_at = None if last is None else last.published_at
    if published_at is None:
        return Staleness(None, None, True)
    due_by = add_months(rome_date(published_at), REPUBLISH_MONTHS)
    return Staleness(published_at, due_by, now >= lapse_instant(due_by))


def incidents(ctx: Context, now: datetime) -> list[str]:
    """What is wrong with the register's publication at `now`, in Italian (empty if nothing)."""
    return incidents_of(staleness(ctx, now))


def incidents_of(found: Staleness) -> list[str]:
    if not found.stale:
        return []
    if found.last_published_at is None:
        return [f"Elenco mai pubblicato ({REPUBLISH_ARTICLE})"]
    return [
        "Elenco non pubblicato da oltre sei mesi (ultima pubblicazione: "
        f"{data_it(found.last_published_at)}; {REPUBLISH_ARTICLE})"
    ]


def publication_markdown(record: PublicationRecord | None, found: Sequence[str]) -> str:
    """What a run did, as the Prefect UI shows it (artifact `register-publication`): the
    publication, its sections and counts, and the incidents found before it."""
    lines = []
    if record is None:
        lines += ["# Elenco delle strutture residenziali", "", "Nessuna nuova pubblicazione."]
    else:
        suspended = sum(s.suspended for s in record.sections)
        lines += [
            f"# Elenco delle strutture residenziali, {data_ora_it(record.published_at)}",
            "",
            "| | |",
            "|---|---|",
            f"| pubblicazione | n. {record.id} |",
            f"| motivo | {_cell(record.reason)} |",
            f"| strutture | {record.entries} (di cui sospese: {suspended}) |",
            f"| impronta dei dati aperti (JSON) | `{record.digest}` |",
            *(f"| file | `{path}` |" for path in record.paths),
            "",
            f"## Sezioni ({len(record.sections)})",
            "",
        ]
        if record.sections:
            lines += ["| sezione | strutture | di cui sospese |", "|---|---|---|"]
            lines += [f"| {s.section} | {s.facilities} | {s.suspended} |" for s in record.sections]
        else:
            lines.append("Nessuna struttura iscritta.")
    if found:
        lines += ["", "## Anomalie rilevate", "", *(f"- {incident}" for incident in found)]
    return "\n".join(lines) + "\n"


# the work ---------------------------------------------------------------------------------------
def _reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if not cleaned:
        raise InvalidInput("una pubblicazione dell'elenco ne indica il motivo", "reason")
    if len(cleaned) > REASON_LENGTH:
        raise InvalidInput(f"motivo oltre {REASON_LENGTH} caratteri", "reason")
    return cleaned


def _publish(
    ctx: Context, reason: str, out_dir: Path | None, only_if_changed: bool
) -> PublicationRecord | None:
    directory = default_directory() if out_dir is None else out_dir
    for _ in range(ATTEMPTS):
        with ctx.read() as uow:
            register = RegisterRepository.of(uow)
            listed = _listed(register)
            last = register.last_publication()
            if only_if_changed and last is not None and _same(last, listed):
                _restore(last, directory)
                return None
            last_id = None if last is None else last.id
        published_at = ctx.clock.now()
        files = _render(listed, published_at)  # outside any transaction
        with ctx.uow() as uow:
            latest = RegisterRepository.of(uow).last_publication()
            if latest is not None and latest.id != last_id:
                if only_if_changed and _same(latest, listed):
                    return None  # another run published this very content meanwhile
                if latest.published_at > published_at:
                    continue  # another run published later: read the register again
            row = Publication(
                published_at=published_at,
                reason=reason,
                entries=len(listed),
                digest=files.digest,
                html=files.html,
                pdf=files.pdf,
                csv=files.csv,
                json=files.json,
            )
            uow.session.add(row)
            uow.session.flush()
            row_id = row.id
            uow.commit()
        paths = _write(directory, _stamp(published_at), files.contents())
        return PublicationRecord(
            id=row_id,
            published_at=published_at,
            reason=reason,
            entries=len(listed),
            digest=files.digest,
            sections=_counts(listed),
            paths=paths,
        )
    raise StaleVersion("elenco", ATTEMPTS)  # published by others each time: nothing written


def _listed(register: RegisterRepository) -> list[Listed]:
    """Every facility registered or suspended, by section and code (sorted here, not by the
    database's collation, so that SQLite and PostgreSQL publish the same bytes)."""
    listed = [
        Listed(
            section=entry.section,
            code=entry.code,
            name=entry.name,
            operator=entry.operator,
            address=entry.address,
            places=entry.places,
            registered_on=entry.registered_on,
            standing=str(case.state),
            suspended_since=entry.suspended_since if case.state == Facility.SUSPENDED else None,
        )
        for entry, case in register.entries()
        if case.state in PUBLISHED
    ]
    return sorted(listed, key=lambda f: (f.section, f.code))


def _sections(listed: Sequence[Listed]) -> list[tuple[str, list[Listed]]]:
    grouped: dict[str, list[Listed]] = {}
    for facility in listed:
        grouped.setdefault(facility.section, []).append(facility)
    return sorted(grouped.items())


def _counts(listed: Sequence[Listed]) -> tuple[SectionCount, ...]:
    return tuple(
        SectionCount(section, len(facilities), sum(f.suspended for f in facilities))
        for section, facilities in _sections(listed)
    )


def _open_sections(listed: Sequence[Listed]) -> list[dict[str, Any]]:
    return [
        {"section": section, "facilities": [f.open_data() for f in facilities]}
        for section, facilities in _sections(listed)
    ]


def _same(publication: Publication, listed: Sequence[Listed]) -> bool:
    """Whether `publication` published exactly these facilities, as they stand."""
    try:
        published = json.loads(publication.json)["sections"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(published == _open_sections(listed))


def _render(listed: Sequence[Listed], published_at: datetime) -> _Files:
    """The four files of a publication; the same facilities at the same instant give the same
    bytes (the PDF's dates come from `published_at`)."""
    document = {"published_at": _utc(published_at), "sections": _open_sections(listed)}
    open_json = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(f.open_data() for f in listed)
    context = {
        "ufficio": DIRECTORATE,
        "emesso_il": published_at,
        "luogo_data": f"{DIRECTORATE_PLACE}, {data_it(published_at)}",
        "sezioni": [
            {"nome": section, "strutture": [_shown(f) for f in facilities]}
            for section, facilities in _sections(listed)
        ],
        "totale": len(listed),
        "sospese": sum(f.suspended for f in listed),
        "posti": sum(f.places for f in listed),
    }
    rendered = render_notice(TEMPLATE, context, (TEMPLATES,))
    return _Files(
        html=rendered.html,
        pdf=rendered.pdf,
        csv=table.getvalue(),
        json=open_json,
        digest=hashlib.sha256(open_json.encode("utf-8")).hexdigest(),
    )


def _shown(facility: Listed) -> dict[str, Any]:
    """A row of the HTML and PDF, in Italian."""
    if facility.suspended:
        since = facility.suspended_since
        standing = "sospesa" if since is None else f"sospesa dal {data_it(since)}"
    else:
        standing = "iscritta"
    return {
        "codice": facility.code,
        "denominazione": facility.name,
        "ente_gestore": facility.operator,
        "indirizzo": facility.address,
        "posti": facility.places,
        "iscritta_dal": "—" if facility.registered_on is None else data_it(facility.registered_on),
        "stato": standing,
        "sospesa": facility.suspended,
    }


# the files --------------------------------------------------------------------------------------
def _stamp(published_at: datetime) -> str:
    """The instant in a file name, in UTC (unambiguous when daylight saving ends)."""
    return published_at.astimezone(UTC).strftime("%Y%m%d-%H%M%S")


def _names(stamp: str) -> list[tuple[str, str]]:
    return [(fmt, f"elenco-{stamp}.{fmt}") for fmt in FORMATS]


def _write(directory: Path, stamp: str, contents: Mapping[str, bytes]) -> tuple[Path, ...]:
    """`elenco-<stamp>.*`, then `elenco-latest.*`; each complete or absent, never half
    written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = tuple(_replace(directory / name, contents[fmt]) for fmt, name in _names(stamp))
    _write_latest(directory, contents)
    return written


def _write_latest(directory: Path, contents: Mapping[str, bytes]) -> None:
    for fmt, name in _names(LATEST):
        _replace(directory / name, contents[fmt])


def _replace(target: Path, content: bytes) -> Path:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, PUBLIC)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _restore(last: Publication, directory: Path) -> None:
    """The files of the last publication, if some are missing (a run that stored the row and
    stopped before writing them, or a new directory), and `elenco-latest.*` if they are not
    its own (two runs that wrote their files in the opposite order of their rows)."""
    contents = {
        "html": last.html.encode("utf-8"),
        "pdf": bytes(last.pdf),
        "csv": last.csv.encode("utf-8"),
        "json": last.json.encode("utf-8"),
    }
    stamp = _stamp(last.published_at)
    if not all((directory / name).exists() for _, name in _names(stamp)):
        _write(directory, stamp, contents)
        return
    latest = [directory / name for _, name in _names(LATEST)]
    own = directory / f"elenco-{LATEST}.json"
    if not all(path.exists() for path in latest) or own.read_bytes() != contents["json"]:
        _write_latest(directory, contents)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")

"""The attendance register of one placement as a document the host entity has signed (seed
003: registro presenze, "firma congiunta: interessato + responsabile"; art. 54 d.lgs. 274/2000;
art. 2 D.M. 26 marzo 2001): every session recorded (`lpu_attendance`) with its day, start and
end, hours, the hours it credits, the activity and both signatures as recorded; the totals
(hours owed, attended, credited, left); the convention, the entity and the form; and blank lines
for the coordinator's and the person's signatures on paper.

The person appears only as the placement's reference. Nothing private of the case (a breach's
description, the final report's note) is on it. Read in a read unit (a snapshot that never holds
SQLite's writer), rendered outside any transaction; the same register at the same instant gives
the same bytes (the PDF's dates come from the clock, `documents.render`)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from documents.render import html_to_pdf, render_html
from machines.lpu.placement import MACHINE as PLACEMENT
from services import engine
from services.context import Context
from services.errors import UnknownCase
from services.lpu.notices import TEMPLATES, form_law, form_name, hours_it
from storage.lpu.models import Attendance
from storage.lpu.repository import LpuRepository
from storage.models import TimerStatus

TEMPLATE = "registro_presenze"
YES_NO = {True: "sì", False: "no"}


class NotAPlacement(UnknownCase):
    """No LPU placement under that reference: none at all, or a case of another kind."""

    def __init__(self, reference: str, kind: str | None = None) -> None:
        super().__init__(reference)
        if kind is None:
            why = f"nessun inserimento nel lavoro di pubblica utilità con riferimento {reference}"
        else:
            why = (
                f"{reference} non è un inserimento nel lavoro di pubblica utilità "
                f"(pratica di tipo {kind}): il registro presenze è di una pratica LPU-"
            )
        self.args = (why,)


@dataclass(frozen=True)
class SheetSession:
    """One session as the register keeps it."""

    day: date
    start: str  # HH:MM
    end: str
    hours: Decimal
    credited: Decimal
    activity: str
    signed_by_person: bool
    signed_by_coordinator: bool

    @classmethod
    def of(cls, row: Attendance) -> SheetSession:
        return cls(
            day=row.day,
            start=f"{row.start:%H:%M}",
            end=f"{row.end:%H:%M}",
            hours=Decimal(row.hours).quantize(Decimal("0.01")),
            credited=Decimal(row.credited).quantize(Decimal("0.01")),
            activity=row.activity,
            signed_by_person=row.signed_by_person,
            signed_by_coordinator=row.signed_by_coordinator,
        )


@dataclass(frozen=True)
class Sheet:
    """The register of placement `reference` at `issued_at`: `state` is the state in law
    (a term already passed moves it on, as every read shows it)."""

    reference: str
    state: str
    state_label: str
    form: str | None
    form_name: str | None
    form_law: str | None
    convention: str | None
    entity: str | None
    court: str | None
    coordinator: str | None  # the coordinator's role, never a name
    received_on: date | None
    owed_hours: Decimal | None
    attended_hours: Decimal
    credited_hours: Decimal
    hours_left: Decimal | None
    sessions: tuple[SheetSession, ...]
    issued_at: datetime


@dataclass(frozen=True)
class SheetFile:
    """The register written to `path` as `format` ("pdf" or "html")."""

    path: Path
    format: str
    bytes: int
    sha256: str
    sheet: Sheet


def read_sheet(ctx: Context, reference: str) -> Sheet:
    """The register of placement `reference` as it stands now; `NotAPlacement` for an unknown
    reference or a case of another kind."""
    now = ctx.clock.now()
    with ctx.read() as uow:
        case = uow.repo.case_by_reference(reference)
        if case is None:
            raise NotAPlacement(reference)
        if case.kind != PLACEMENT.kind:
            raise NotAPlacement(reference, case.kind)
        machine = ctx.machine(case.kind)
        pending = uow.repo.timers_of(case.id, TimerStatus.PENDING)
        state = engine.state_in_law(machine, case.state, pending, now)
        data = dict(case.data)
        convention = uow.repo.case_by_reference(str(data.get("convention", "")))
        sessions = tuple(SheetSession.of(row) for row in LpuRepository.of(uow).register(case.id))
    owed = None if data.get("owed_hours") is None else Decimal(str(data["owed_hours"]))
    credited = sum((s.credited for s in sessions), Decimal("0.00"))
    form = None if data.get("form") is None else str(data["form"])
    return Sheet(
        reference=case.reference,
        state=state,
        state_label=machine.label(state),
        form=form,
        form_name=form_name(form, data.get("declared_on")),
        form_law=form_law(form),
        convention=None if data.get("convention") is None else str(data["convention"]),
        entity=None if convention is None else _text(convention.data.get("entity")),
        court=_text(data.get("court")),
        coordinator=_text(data.get("coordinator")),
        received_on=_day(data.get("received_on")),
        owed_hours=owed,
        attended_hours=sum((s.hours for s in sessions), Decimal("0.00")),
        credited_hours=credited,
        hours_left=None if owed is None else max(owed - credited, Decimal("0.00")),
        sessions=sessions,
        issued_at=now,
    )


def sheet_html(sheet: Sheet) -> str:
    """The register as a self-contained Italian page (the stylesheet inlined)."""
    return render_html(TEMPLATE, _context(sheet), (TEMPLATES,))


def write_sheet(ctx: Context, reference: str, target: Path, html: bool = False) -> SheetFile:
    """Write the register of `reference` to `target`, as PDF (or HTML): under a temporary
    name in the same folder, then renamed, so that a reader never finds half a file."""
    sheet = read_sheet(ctx, reference)
    page = sheet_html(sheet)  # outside any transaction
    content = page.encode("utf-8") if html else html_to_pdf(page)
    _replace(target, content)
    return SheetFile(
        path=target,
        format="html" if html else "pdf",
        bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        sheet=sheet,
    )


def _context(sheet: Sheet) -> dict[str, Any]:
    return {
        "emesso_il": sheet.issued_at,
        "reference": sheet.reference,
        "registro": {
            "ente": sheet.entity,
            "convenzione": sheet.convention,
            "forma": sheet.form,
            "forma_nome": sheet.form_name,
            "legge": sheet.form_law,
            "giudice": sheet.court,
            "coordinatore": sheet.coordinator,
            "accolta_il": sheet.received_on,
            "stato": sheet.state_label,
            "righe": [
                {
                    "n": number,
                    "giorno": f"{s.day:%d/%m/%Y}",
                    "inizio": s.start,
                    "fine": s.end,
                    "ore": hours_it(s.hours),
                    "accreditate": hours_it(s.credited),
                    "attivita": s.activity,
                    "firma_persona": YES_NO[s.signed_by_person],
                    "firma_coordinatore": YES_NO[s.signed_by_coordinator],
                }
                for number, s in enumerate(sheet.sessions, start=1)
            ],
            "totali": {
                "dovute": hours_it(sheet.owed_hours),
                "svolte": hours_it(sheet.attended_hours),
                "accreditate": hours_it(sheet.credited_hours),
                "residue": hours_it(sheet.hours_left),
            },
        },
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def _replace(target: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

"""The outgoing protocol register of each office (artt. 53-57 D.P.R. 445/2000).

Every notice that leaves an office takes the next number of that office's register for the
year, with the date and time of registration, the subject, the addressees and, once the
document is made, its fingerprint (art. 53 co. 1). A number is given in its own short
transaction, keyed by the notice's outbox message: the counter row and the entry are written
together or not at all, so numbers are gap-free, and a notice numbered and then interrupted
(a crash before its document is stored) finds its entry again and keeps its number. A number
is never given twice (unique office, year, number). A notice that can never be made keeps its
number, marked annulled with the reason (art. 54).

The register is kept per day: `day_register` gives one office's registrations of one day
(Italian time), written as CSV and PDF by `write_day_register`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from documents.render import ROME, html_to_pdf, render_html
from services.context import Context
from services.files import write_whole
from storage.models import ProtocolEntry, ProtocolStatus


@dataclass(frozen=True)
class Registration:
    """A notice's place in its office's outgoing register."""

    office: str
    year: int
    number: int
    registered_at: datetime

    @property
    def label(self) -> str:
        return protocol_label(self.office, self.year, self.number)


def protocol_label(office: str, year: int, number: int) -> str:
    """How a notice shows its registration: "UIEPE-TO/2026/0000240"."""
    return f"{office}/{year}/{number:07d}"


@dataclass(frozen=True)
class Numbering:
    """What a notice is registered with (art. 53 co. 1 D.P.R. 445/2000)."""

    outbox_id: int
    case_id: int
    reference: str
    template: str
    office: str
    subject: str
    addressees: tuple[dict[str, Any], ...]  # {"role", "nome", "pec"}, in order


def register(ctx: Context, numbering: Numbering, now: datetime) -> Registration:
    """The registration of the notice of `numbering.outbox_id`: the one it already has, or
    the next number of its office's register for the year of `now` (Italian time), committed
    before the notice is rendered."""
    with ctx.uow() as uow:
        found = uow.outgoing.entry_of_outbox(numbering.outbox_id)
        if found is not None:
            return _registration(found)
        year = now.astimezone(ROME).year
        entry = ProtocolEntry(
            office=numbering.office,
            year=year,
            number=uow.outgoing.next_protocol_number(numbering.office, year),
            registered_at=now,
            outbox_id=numbering.outbox_id,
            case_id=numbering.case_id,
            reference=numbering.reference,
            template=numbering.template,
            subject=numbering.subject,
            addressees=list(numbering.addressees),
            status=ProtocolStatus.REGISTERED,
        )
        try:
            uow.outgoing.add_entry(entry)
            uow.commit()
        except IntegrityError:
            # Another renderer numbered this notice first (SQLite reads its claim from a
            # snapshot): the counter's increment is rolled back with this entry.
            uow.rollback()
            kept = uow.outgoing.entry_of_outbox(numbering.outbox_id)
            if kept is None:
                raise
            return _registration(kept)
        return _registration(entry)


def _registration(entry: ProtocolEntry) -> Registration:
    return Registration(entry.office, entry.year, entry.number, entry.registered_at)


# the register, per day -------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterLine:
    number: int
    label: str
    registered_at: datetime
    reference: str
    subject: str
    addressees: str
    sha256: str | None
    status: str
    annulled_reason: str | None


@dataclass(frozen=True)
class DayRegister:
    office: str
    day: date
    lines: tuple[RegisterLine, ...]


def day_register(ctx: Context, office: str, day: date) -> DayRegister:
    """`office`'s registrations of `day` (from 00:00 to 24:00 Italian time), by number."""
    start = datetime.combine(day, time(), ROME)
    end = datetime.combine(day + timedelta(days=1), time(), ROME)
    with ctx.read() as uow:
        entries = uow.outgoing.entries_between(office, start, end)
        lines = tuple(
            RegisterLine(
                number=entry.number,
                label=_registration(entry).label,
                registered_at=entry.registered_at,
                reference=entry.reference,
                subject=entry.subject,
                addressees="; ".join(
                    f"{a['nome']} ({a['pec'] or 'PEC non registrata'})" for a in entry.addressees
                ),
                sha256=entry.sha256,
                status=entry.status,
                annulled_reason=entry.annulled_reason,
            )
            for entry in entries
        )
    return DayRegister(office, day, lines)


CSV_HEADER = (
    "numero",
    "protocollo",
    "data_ora_registrazione",
    "pratica",
    "oggetto",
    "destinatari",
    "impronta_sha256",
    "stato",
    "motivo_annullamento",
)


def register_csv(register: DayRegister) -> str:
    """The day's register as CSV (UTF-8, Italian column names, times in Italian time)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for line in register.lines:
        writer.writerow(
            (
                line.number,
                line.label,
                line.registered_at.astimezone(ROME).strftime("%d/%m/%Y %H:%M:%S"),
                line.reference,
                line.subject,
                line.addressees,
                line.sha256 or "",
                _STATUS[line.status],
                line.annulled_reason or "",
            )
        )
    return out.getvalue()


_STATUS: dict[str, str] = {
    ProtocolStatus.REGISTERED: "registrato",
    ProtocolStatus.ANNULLED: "annullato",
}


def register_pdf(ctx: Context, register: DayRegister, now: datetime) -> bytes:
    """The day's register as a PDF/A to keep (the office's letterhead, if known)."""
    with ctx.read() as uow:
        letterhead = uow.outgoing.letterhead(register.office)
        heading = {
            "ministero": letterhead.ministry if letterhead else "",
            "ufficio": letterhead.name if letterhead else register.office,
        }
    html = render_html(
        "registro_protocollo",
        {
            "intestazione": heading,
            "ufficio": register.office,
            "giorno": register.day,
            "righe": [{**line.__dict__, "stato": _STATUS[line.status]} for line in register.lines],
            "emesso_il": now,
        },
    )
    return html_to_pdf(html)


def write_day_register(
    ctx: Context, office: str, day: date, folder: Path, now: datetime
) -> tuple[Path, Path, int]:
    """Write `office`'s register of `day` as CSV and PDF into `folder`; the paths and the
    number of registrations."""
    register = day_register(ctx, office, day)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"registro_protocollo_{office}_{day.isoformat()}"
    csv_path = folder / f"{stem}.csv"
    pdf_path = folder / f"{stem}.pdf"
    write_whole(csv_path, register_csv(register).encode())
    write_whole(pdf_path, register_pdf(ctx, register, now))
    return csv_path, pdf_path, len(register.lines)


def offices(ctx: Context) -> Sequence[str]:
    """The offices that have a register."""
    with ctx.read() as uow:
        return uow.outgoing.protocol_offices()

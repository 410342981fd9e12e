"""The trail's audit: `verify` recomputes every case's hash chain (storage/chain.py) and the
documents it vouches for, and checks them against the last daily seal; `seal` writes the
day's seal (a row, and a file outside the database). A rendered document enters its case's
chain when it is stored (storage/repository.py, `add_document`).

What is found is named: the case, the event (or document) and what is wrong with it, in
Italian. Rewriting a whole chain consistently is found by the seal: its file holds every
case's last hash as it was on that day."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from machines.calendar import rome_date
from services import engine
from services.context import Context
from services.errors import InvalidInput, UnknownCase
from storage import chain
from storage.audit import AuditRepository, ChainedCase, StoredDocument
from storage.models import AuditSeal, CaseEvent


@dataclass(frozen=True)
class Break:
    """Something in the trail that is not as it was written: `reference` and `sequence` (or
    `document`) name where; None for a seal."""

    reference: str | None
    problem: str
    sequence: int | None = None
    document: int | None = None

    def line(self) -> str:
        where = [f"pratica {self.reference}"] if self.reference else []
        if self.sequence is not None:
            where.append(f"evento {self.sequence}")
        if self.document is not None:
            where.append(f"documento {self.document}")
        return f"{', '.join(where)}: {self.problem}" if where else self.problem


@dataclass(frozen=True)
class Verification:
    cases: int
    events: int
    documents: int
    seals: int
    sealed_on: date | None  # the seal the chains were compared with
    breaks: tuple[Break, ...] = ()

    @property
    def intact(self) -> bool:
        return not self.breaks


@dataclass(frozen=True)
class Sealed:
    day: date
    sealed_at: datetime
    digest: str
    previous: str | None
    cases: int
    events: int
    path: Path
    already: bool = False  # the day was sealed before this call

    @classmethod
    def of(cls, seal: AuditSeal, path: Path, already: bool) -> Sealed:
        return cls(
            seal.day, seal.sealed_at, seal.digest, seal.previous, seal.cases, seal.events,
            path, already,
        )  # fmt: skip


def seal_path(directory: Path, day: date) -> Path:
    return directory / f"seal-{day.isoformat()}.json"


def seal_digest(day: date, previous: str | None, entries: Sequence[Sequence[Any]]) -> str:
    return chain.digest(
        chain.canonical(
            {"format": chain.FORMAT, "day": day.isoformat(), "previous": previous,
             "entries": [list(entry) for entry in entries]}
        )
    )  # fmt: skip


def seal(ctx: Context, directory: Path) -> Sealed:
    """Seal today's chains (Italian date): every case's last event and its hash, their
    digest chained to the previous seal's, in a row and in `directory`. A day is sealed once:
    a second call answers the first seal."""
    now = ctx.clock.now()
    day = rome_date(now)
    path = seal_path(directory, day)
    with ctx.uow() as uow:
        repo = AuditRepository(uow.session)
        existing = repo.seal_of(day)
        if existing is not None:
            return Sealed.of(existing, path, already=True)
        last = repo.last_seal()
        if last is not None and last.day > day:
            raise InvalidInput(f"il registro è già sigillato al {last.day}: data {day} anteriore")
        entries = repo.heads()
        previous = last.digest if last is not None else None
        digest = seal_digest(day, previous, entries)
        written = repo.add_seal(day, now, previous, digest, entries)
        pending = _write_pending(path, _seal_document(written))
        try:
            uow.commit()
        except IntegrityError:  # sealed meanwhile by another run: its file stands
            pending.unlink(missing_ok=True)
            uow.rollback()
            found = repo.seal_of(day)
            if found is None:
                raise
            return Sealed.of(found, path, already=True)
        except BaseException:
            pending.unlink(missing_ok=True)
            raise
    os.replace(pending, path)
    return Sealed.of(written, path, already=False)


def _seal_document(seal: AuditSeal) -> dict[str, Any]:
    return {
        "format": chain.FORMAT,
        "day": seal.day.isoformat(),
        "sealed_at": chain.instant(seal.sealed_at),
        "previous": seal.previous,
        "digest": seal.digest,
        "cases": seal.cases,
        "events": seal.events,
        "entries": seal.entries,
    }


def _write_pending(path: Path, document: dict[str, Any]) -> Path:
    """The seal's file under a temporary name, flushed to disk; renamed once the row is in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pending = path.with_suffix(".pending")
    with pending.open("w", encoding="utf-8") as file:
        json.dump(document, file, ensure_ascii=False, indent=1)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    return pending


def verify(
    ctx: Context,
    directory: Path,
    reference: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Recompute the chain of case `reference` (or of every case), the documents it vouches
    for, the seals, and compare the chains with the last seal; `progress` is told of each
    case checked."""
    breaks: list[Break] = []
    with ctx.read() as uow:  # a snapshot: a long verification holds up no writer
        repo = AuditRepository(uow.session)
        cases = repo.cases(reference)
        if reference is not None and not cases:
            raise UnknownCase(reference)
        seals = repo.seals()
        sealed_on, sealed = _check_seals(seals, directory, breaks)
        case_id = cases[0].id if reference is not None else None
        documents: dict[int, list[StoredDocument]] = {}
        for document in repo.documents(case_id):
            documents.setdefault(document.case_id, []).append(document)
        # The events come by case, in the cases' order: one case's at a time in memory.
        trail = (
            (owner, list(rows))
            for owner, rows in itertools.groupby(repo.events(case_id), lambda e: e.case_id)
        )
        current = next(trail, None)
        events = 0
        for case in cases:
            rows: list[CaseEvent] = []
            while current is not None and current[0] <= case.id:
                if current[0] == case.id:
                    rows = current[1]
                current = next(trail, None)
            events += len(rows)
            found = _check_case(case, rows, documents.get(case.id, []), sealed, sealed_on)
            breaks.extend(found)
            if progress is not None:
                progress(1)
        if reference is None:
            known = {case.reference for case in cases}
            breaks.extend(
                Break(ref, f"pratica sigillata il {sealed_on} assente dal registro")
                for ref in sorted(set(sealed) - known)
            )
    return Verification(
        len(cases), events, sum(len(found) for found in documents.values()), len(seals),
        sealed_on, tuple(breaks),
    )  # fmt: skip


def _check_seals(
    seals: Sequence[AuditSeal], directory: Path, breaks: list[Break]
) -> tuple[date | None, dict[str, tuple[int, str]]]:
    """Check the seals' own chain and their files; return the last seal's day and what it
    holds per case (from its file, the copy outside the database, when it is sound)."""
    previous: str | None = None
    entries: list[Any] = []
    for seal in seals:
        day = seal.day
        if seal.previous != previous:
            breaks.append(Break(None, f"sigillo del {day}: non segue il sigillo precedente"))
        if seal_digest(day, seal.previous, seal.entries) != seal.digest:
            breaks.append(Break(None, f"sigillo del {day}: alterato nel database"))
        previous = seal.digest
        entries = seal.entries
        path = seal_path(directory, day)
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            breaks.append(Break(None, f"sigillo del {day}: file {path} assente o illeggibile"))
            continue
        if not isinstance(kept, dict) or seal_digest(
            day, kept.get("previous"), kept.get("entries") or []
        ) != kept.get("digest"):
            breaks.append(Break(None, f"sigillo del {day}: file {path} alterato"))
            continue
        if kept["digest"] != seal.digest:
            breaks.append(
                Break(None, f"sigillo del {day}: il database non coincide con il file {path}")
            )
        entries = kept["entries"]
    if not seals:
        return None, {}
    return seals[-1].day, {str(ref): (int(seq), str(hash_)) for ref, seq, hash_ in entries}


def _check_case(
    case: ChainedCase,
    events: Sequence[CaseEvent],
    documents: Iterable[StoredDocument],
    sealed: dict[str, tuple[int, str]],
    sealed_on: date | None,
) -> list[Break]:
    """The first break in the case's chain, then its documents and its seal."""
    ref = case.reference
    expected = chain.genesis(ref)
    chained: dict[int, dict[str, Any]] = {}
    private: dict[str, tuple[int, str]] = {}  # trigger: its last event with personal data
    for position, event in enumerate(events, start=1):
        if event.sequence != position:
            return [Break(ref, "evento mancante nella catena", sequence=position)]
        if event.prev_hash != expected:
            return [Break(ref, "non segue l'evento precedente (inserito, tolto o spostato)",
                          sequence=position)]  # fmt: skip
        if chain.link(event.prev_hash, _content(event)) != event.hash:
            return [Break(ref, "contenuto modificato dopo la registrazione", sequence=position)]
        expected = event.hash
        if event.trigger == chain.DOCUMENT_TRIGGER:
            chained[int(event.payload["document"])] = event.payload
        if "private" in event.payload:
            private[event.trigger] = (position, str(event.payload["private"].get("digest")))
    if case.version != len(events):
        return [
            Break(ref, f"la pratica è alla versione {case.version}, la catena ha "
                       f"{len(events)} eventi", sequence=len(events) + 1)
        ]  # fmt: skip
    found: list[Break] = []
    for trigger, (position, digest) in private.items():
        kept = dict(case.data.get("private", {}).get(trigger, {}))
        if engine.private_digest(str(kept.pop("salt", "")), kept) != digest:
            found.append(
                Break(ref, "dati personali della pratica diversi da quelli registrati",
                      sequence=position)
            )  # fmt: skip
    for document in documents:
        said = chained.pop(document.id, None)
        if said is None:
            found.append(Break(ref, "documento non registrato nella catena", document=document.id))
        elif {document.sha256, document.pdf_sha256} != {said["sha256"]} or (
            document.html_sha256 != said["html_sha256"]
        ):
            found.append(
                Break(ref, f"documento sostituito ({document.template}): l'impronta non è "
                           "quella registrata nella catena", document=document.id)
            )  # fmt: skip
    found.extend(
        Break(ref, "documento registrato nella catena ma assente", document=missing)
        for missing in sorted(chained)
    )
    if ref in sealed:
        sequence, hash_ = sealed[ref]
        if sequence > len(events):
            found.append(Break(ref, f"il sigillo del {sealed_on} copre un evento ora assente",
                               sequence=sequence))  # fmt: skip
        elif events[sequence - 1].hash != hash_:
            found.append(
                Break(ref, f"catena riscritta: l'evento non è quello sigillato il {sealed_on}",
                      sequence=sequence)
            )  # fmt: skip
    return found


def _content(event: CaseEvent) -> str:
    return chain.event_content(
        case_id=event.case_id, sequence=event.sequence, trigger=event.trigger,
        from_state=event.from_state, to_state=event.to_state, actor=event.actor,
        payload=event.payload, legal_basis=event.legal_basis,
        idempotency_key=event.idempotency_key, occurred_at=event.occurred_at,
        effective_at=event.effective_at,
    )  # fmt: skip

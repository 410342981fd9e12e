"""The attendance register filled by a host entity for many people at once (seed 003: registro
presenze): a CSV file, each row a session of one placement, each fired as `attend` in its own
transaction with the same rules as one at a time. A bad row refuses only itself; each row gets
its result. A row sent again (same placement, day, start and end) is one session, not two."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from services import engine
from services.context import Context
from services.errors import DomainError, InvalidInput

COLUMNS = (
    "reference",
    "day",
    "start",
    "end",
    "activity",
    "signed_by_person",
    "signed_by_coordinator",
)
YES = {"si", "sì", "true", "1", "x"}
NO = {"no", "false", "0", ""}
MAX_ROWS = 5000


@dataclass(frozen=True)
class RowResult:
    """Row `row` (1 = the first after the header): recorded (`state`, `credited` by the machine's
    effect) or refused (`error`, `message`, `field`)."""

    row: int
    reference: str
    ok: bool
    state: str | None = None
    error: str | None = None
    message: str | None = None
    field: str | None = None


def parse(text: str) -> list[dict[str, str]]:
    """The rows of a CSV with the header `COLUMNS` (comma or semicolon separated)."""
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InvalidInput(f"registro presenze: mancano le colonne {', '.join(missing)}", "header")
    rows = [dict(row) for row in reader]
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"registro presenze: al più {MAX_ROWS} righe per file", "rows")
    return rows


def _flag(value: str | None, column: str) -> bool:
    text = (value or "").strip().casefold()
    if text in YES:
        return True
    if text in NO:
        return False
    raise InvalidInput(f"{column}: '{value}' non è sì/no", column)


def record(ctx: Context, rows: Iterable[Mapping[str, str | None]], actor: str) -> list[RowResult]:
    """Fire `attend` for each CSV row, each in its own transaction; a refusal is that row's
    result."""
    results = []
    for number, row in enumerate(rows, start=1):
        reference = (row.get("reference") or "").strip()
        try:
            payload = {
                "day": (row.get("day") or "").strip(),
                "start": (row.get("start") or "").strip(),
                "end": (row.get("end") or "").strip(),
                "activity": (row.get("activity") or "").strip(),
                "signed_by_person": _flag(row.get("signed_by_person"), "signed_by_person"),
                "signed_by_coordinator": _flag(
                    row.get("signed_by_coordinator"), "signed_by_coordinator"
                ),
            }
        except DomainError as refusal:
            results.append(_refused(number, reference, refusal))
            continue
        results.append(attend(ctx, number, reference, payload, actor))
    return results


def attend(
    ctx: Context,
    number: int,
    reference: str,
    payload: Mapping[str, object],
    actor: str,
    refuse: Callable[[str], DomainError | None] | None = None,
) -> RowResult:
    """Row `number`: the session `payload` of placement `reference`, fired as `attend` in its
    own transaction, unless `refuse` gives a reason for that reference (out of the caller's
    scope). The same session sent again (same day, start and end) is the same event."""
    try:
        refusal = refuse(reference) if refuse is not None else None
        if refusal is not None:
            raise refusal
        key = f"attend:{reference}:{payload.get('day')}:{payload.get('start')}-{payload.get('end')}"
        fired = engine.fire(ctx, reference, "attend", actor, dict(payload), key)
    except DomainError as refusal:
        return _refused(number, reference, refusal)
    return RowResult(number, reference, True, state=fired.to_state)


def _refused(number: int, reference: str, refusal: DomainError) -> RowResult:
    return RowResult(
        number, reference, False, error=refusal.code, message=str(refusal),
        field=getattr(refusal, "field", None),
    )  # fmt: skip

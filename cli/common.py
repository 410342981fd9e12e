"""What every `misure` command shares: options, the clock, JSON output and the one-line
refusals (exit status 1, nothing half-written)."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from machines.calendar import ROME, CalendarMismatch
from services import engine
from services.clock import Clock, FixedClock, SystemClock
from services.context import Context
from services.errors import DomainError
from services.records import CaseRecord, EventRecord, TimerRecord
from services.settings import Settings

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
NowOption = Annotated[
    str | None, typer.Option("--now", help="The instant to act at (ISO 8601, with offset).")
]


class Refused(Exception):
    """A usage error found after parsing (bad --data, naive --now)."""


class Unavailable(Exception):
    """What the environment refuses: the database, a file, the configuration."""

    code = "unavailable"


@contextmanager
def refusals(as_json: bool = False) -> Iterator[None]:
    """Turn refusals into one line on stderr (a JSON object with --json) and exit status 1;
    so too what the environment refuses (the database unreachable or its URL malformed, a
    file that cannot be written), naming what to check, never a traceback."""
    try:
        yield
    except (DomainError, Refused, CalendarMismatch, ValueError, ArithmeticError) as error:
        fail(error, as_json)
    except ArgumentError as error:
        fail(Unavailable(f"MISURE_DATABASE_URL non valido: {error}"), as_json)
    except SQLAlchemyError as error:
        cause = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
        fail(Unavailable(f"database non raggiungibile (MISURE_DATABASE_URL): {cause}"), as_json)
    except OSError as error:
        fail(Unavailable(f"{error.strerror or error}: {error.filename or ''}".strip()), as_json)


def fail(error: Exception, as_json: bool) -> NoReturn:
    """One line on stderr and exit 1; what stands despite the refusal (a term that lapsed
    first and freed a place) is acted on as after any change."""
    signals = getattr(error, "signals", ())
    if signals and _made:
        digest = hashlib.sha256(str(error).encode()).hexdigest()[:16]
        act_on_signals(_made[-1], signals, f"refused:{digest}")
    message = " ".join(str(error).split())
    if as_json:
        code = getattr(error, "code", "invalid_input")
        body: dict[str, Any] = {"error": code, "message": message}
        if (field := getattr(error, "field", None)) is not None:
            body["field"] = field
        sys.stderr.write(json.dumps(body, ensure_ascii=False) + "\n")
    else:
        err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


_made: list[Context] = []  # the context this command made: one command, one process


def make_context(now: str | None = None) -> Context:
    clock: Clock = SystemClock() if now is None else FixedClock(instant(now))
    ctx = Context.from_settings(Settings(), clock)
    _made.append(ctx)
    return ctx


def instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise Refused(f"--now {value!r} is not an ISO 8601 instant") from error
    if instant.tzinfo is None:
        raise Refused(f"--now {value!r} needs an offset, e.g. 2026-03-02T09:00:00+01:00")
    return instant.astimezone(UTC)


def pairs(values: list[str]) -> dict[str, Any]:
    """key=value pairs. A value is text, which the transition's schema reads as it declares it
    (a number, a date, true/false); a JSON object, list or null is taken as such."""
    parsed: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise Refused(f"--data {item!r} is not key=value")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        parsed[key] = value if value is None or isinstance(value, dict | list) else raw
    return parsed


def emit(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=json_value) + "\n")


def json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def rome(instant: datetime | None) -> str:
    return "" if instant is None else instant.astimezone(ROME).strftime("%d/%m/%Y %H:%M")


def case_json(case: CaseRecord) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "kind": case.kind,
        "state": case.state,
        "version": case.version,
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


def row_json(row: engine.CaseRow) -> dict[str, Any]:
    found = {
        "reference": row.reference,
        "kind": row.kind,
        "state": row.state,
        "version": row.version,
        "opened_at": row.opened_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
    if row.recorded_state != row.state:
        found["recorded_state"] = row.recorded_state
    return found


def timer_json(timer: TimerRecord) -> dict[str, Any]:
    return {
        "name": timer.name,
        "fires": timer.fires,
        "notice": timer.notice,
        "due_at": timer.due_at.isoformat(),
        "due_at_rome": rome(timer.due_at),
        "term": timer.legal_basis,
        "status": timer.status,
        "attempts": timer.attempts,
    }


def event_json(event: EventRecord) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "trigger": event.trigger,
        "from": event.from_state,
        "to": event.to_state,
        "actor": event.actor,
        "legal_basis": event.legal_basis,
        "payload": event.payload,
        "occurred_at": event.occurred_at.isoformat(),
        "effective_at": event.effective_at.isoformat(),
    }


DataOption = Annotated[
    list[str] | None, typer.Option("--data", help="key=value, repeatable.", show_default=False)
]
ActorOption = Annotated[str, typer.Option(help="Who acts (recorded on the event).")]
KeyOption = Annotated[
    str | None, typer.Option("--key", help="Idempotency key: the same key twice is one change.")
]


def redacted(url: str) -> str:
    """A database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def print_result(result: engine.FireResult, as_json: bool, ctx: Context) -> None:
    """The change, then what its signals started at once (a freed place reassigned)."""
    served = [] if result.replayed else act_on_signals(ctx, result.signals, _key_of(result))
    if as_json:
        emit({**asdict(result), "served": served})
        return
    replayed = " (already done with this key)" if result.replayed else ""
    for caught in result.caught_up:
        out.print(f"{result.reference}: term passed first: {caught}")
    out.print(
        f"{result.reference}: {result.trigger} {result.from_state or '-'} -> "
        f"[bold]{result.to_state}[/] (event {result.sequence}){replayed}"
    )
    for line in served:
        err.print(line, highlight=False)


def act_on_signals(ctx: Context, signals: tuple[str, ...] | list[str], key: str) -> list[str]:
    if not signals:
        return []
    from flows.dispatch import act_on_signals as act  # Prefect only when a signal needs it

    return act(ctx, signals, key)


def _key_of(result: engine.FireResult) -> str:
    return f"{result.reference}:{result.event_id}"


def detail_json(detail: engine.CaseDetail) -> dict[str, Any]:
    """A case as `case show --json` and `placement status --json` print it: the state in law
    (terms already passed included), what can happen now, the terms, the history and what the
    procedure knows of it (dates, court, decision, facility and place)."""
    case = case_json(detail.case)
    if detail.state != detail.case.state:
        case |= {"state": detail.state, "recorded_state": detail.case.state}
    return {
        "case": case,
        "facts": detail.facts,
        "triggers": [asdict(verdict) for verdict in detail.verdicts],
        "passed_terms": [
            {
                "name": passed.timer,
                "due_at": passed.due_at.isoformat(),
                "due_at_rome": rome(passed.due_at),
                "fires": passed.trigger,
                "to_state": passed.to_state,
            }
            for passed in detail.passed_terms
        ],
        "pending_timers": [
            timer_json(timer)
            for timer in detail.pending_timers
            if timer.name not in {p.timer for p in detail.passed_terms}
        ],
        "history": [event_json(event) for event in detail.history],
    }

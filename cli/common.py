"""What every `misure` command shares: options, the clock, JSON output and the one-line
refusals (exit status 1, nothing half-written)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from machines.calendar import ROME, CalendarMismatch
from services import engine
from services.clock import Clock, FixedClock, SystemClock
from services.context import Context
from services.errors import DomainError
from services.settings import Settings
from storage.models import Case, CaseEvent, Timer

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
NowOption = Annotated[
    str | None, typer.Option("--now", help="The instant to act at (ISO 8601, with offset).")
]


class Refused(Exception):
    """A usage error found after parsing (bad --data, naive --now)."""


@contextmanager
def refusals(as_json: bool = False) -> Iterator[None]:
    """Turn refusals into one line on stderr (a JSON object with --json) and exit status 1."""
    try:
        yield
    except (DomainError, Refused, CalendarMismatch, ValueError) as error:
        fail(error, as_json)


def fail(error: Exception, as_json: bool) -> NoReturn:
    message = " ".join(str(error).split())
    if as_json:
        code = error.code if isinstance(error, DomainError) else "invalid_input"
        sys.stderr.write(json.dumps({"error": code, "message": message}) + "\n")
    else:
        err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def make_context(now: str | None = None) -> Context:
    clock: Clock = SystemClock() if now is None else FixedClock(instant(now))
    return Context.from_settings(Settings(), clock)


def instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise Refused(f"--now {value!r} is not an ISO 8601 instant") from error
    if instant.tzinfo is None:
        raise Refused(f"--now {value!r} needs an offset, e.g. 2026-03-02T09:00:00+01:00")
    return instant.astimezone(UTC)


def pairs(values: list[str]) -> dict[str, Any]:
    """key=value pairs; a value that reads as JSON (number, true, null, list) is taken as such."""
    parsed: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise Refused(f"--data {item!r} is not key=value")
        try:
            parsed[key] = json.loads(raw)
        except ValueError:
            parsed[key] = raw
    return parsed


def emit(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=json_value) + "\n")


def json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def rome(instant: datetime | None) -> str:
    return "" if instant is None else instant.astimezone(ROME).strftime("%d/%m/%Y %H:%M")


def case_json(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "kind": case.kind,
        "state": case.state,
        "version": case.version,
        "opened_at": case.opened_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


def timer_json(timer: Timer) -> dict[str, Any]:
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


def event_json(event: CaseEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "trigger": event.trigger,
        "from": event.from_state,
        "to": event.to_state,
        "actor": event.actor,
        "legal_basis": event.legal_basis,
        "payload": event.payload,
        "occurred_at": event.occurred_at.isoformat(),
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


def print_result(result: engine.FireResult, as_json: bool) -> None:
    if as_json:
        emit(asdict(result))
        return
    replayed = " (already done with this key)" if result.replayed else ""
    out.print(
        f"{result.reference}: {result.trigger} {result.from_state or '-'} -> "
        f"[bold]{result.to_state}[/] (event {result.sequence}){replayed}"
    )

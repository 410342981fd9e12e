"""What every `misure` command shares: options, the clock, JSON output and the one-line
refusals (exit status 1, nothing half-written)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)

from machines.calendar import ROME, CalendarMismatch
from services import engine
from services.clock import Clock, FixedClock, SystemClock
from services.context import Context
from services.errors import DomainError
from services.reasons import reason
from services.records import CaseRecord, EventRecord, TimerRecord
from services.settings import Settings

out = Console()
err = Console(stderr=True)
COUNT_MAX = 2**31 - 1  # the largest limit or batch an option takes: an integer column's bound

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
    code = getattr(error, "code", "invalid_input")
    tell(code, str(error), getattr(error, "field", None), as_json)
    raise typer.Exit(1)


def tell(code: str, message: str, field: str | None, as_json: bool) -> None:
    """One line on stderr: a JSON object {error, message, field} with --json, else text."""
    message = " ".join(message.split())
    if as_json:
        body: dict[str, Any] = {"error": code, "message": message}
        if field is not None:
            body["field"] = field
        sys.stderr.write(json.dumps(body, ensure_ascii=False) + "\n")
    else:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def run(app: typer.Typer, args: list[str]) -> int:
    """Run the command line on `args`; its exit status. Never a traceback: a usage error (an
    unknown command or option, a missing or malformed value) is one line and status 2, a
    refusal one line and status 1 (`fail`), anything unforeseen one line and status 1; `--help`
    and a group named alone print the help, as Typer does."""
    as_json = "--json" in args
    try:
        done = app(args=args, standalone_mode=False)
    except NoArgsIsHelpError as error:
        if text := error.format_message().strip():  # rich printed the help already
            sys.stdout.write(text + "\n")
        return error.exit_code
    except ClickException as error:
        code = "usage" if isinstance(error, UsageError) else "invalid_input"
        tell(code, usage(error), _parameter(error), as_json)
        return error.exit_code
    except typer.Abort:
        tell("aborted", "interrotto", None, as_json)
        return 1
    except Exception as error:  # a defect: still one line, naming it, for a bug report
        tell("internal", f"errore interno ({type(error).__name__}): {error}", None, as_json)
        return 1
    return done if isinstance(done, int) else 0


def usage(error: ClickException) -> str:
    """A usage error in Italian, with where to find the command's help."""
    if isinstance(error, NoSuchOption):
        text = f"opzione sconosciuta {error.option_name}"
        if error.possibilities:
            text += f" (forse {', '.join(sorted(error.possibilities))}?)"
    elif isinstance(error, MissingParameter):
        text = f"manca {_hint(error) or 'un valore'}"
    elif isinstance(error, BadParameter):
        cause = error.__cause__
        why = reason(cause.errors()[0]) if isinstance(cause, ValidationError) else error.message
        text = f"valore non valido per {_hint(error) or 'un parametro'}: {why}"
    else:
        text = error.format_message()
    for english, italian in _PHRASES:
        text = re.sub(english, italian, text)
    context = getattr(error, "ctx", None)
    if context is not None:
        text = f"{text.rstrip('.')}; vedi '{context.command_path} --help'"
    return text


# What Click says of a command line it cannot parse, in Italian (anything else as Click says it).
_PHRASES = (
    (r"No such command '(.*?)'\.", r"comando sconosciuto '\1'"),
    (r" Did you mean (.*)\?", r" (forse \1?)"),
    (r"Got unexpected extra arguments?(?:\(s\))? \((.*)\)", r"argomenti in più: \1"),
    (r"Option '(.*?)' requires an argument\.", r"l'opzione '\1' richiede un valore"),
    (r"(.*) is not one of (.*)\.", r"\1 non è tra \2"),
)


def _hint(error: BadParameter) -> str:
    if error.param_hint is not None:
        hint = error.param_hint
        return hint if isinstance(hint, str) else " / ".join(hint)
    return "" if error.param is None else str(error.param.get_error_hint())


def _parameter(error: ClickException) -> str | None:
    """The parameter at fault, as --json names it."""
    if isinstance(error, BadParameter) and error.param is not None:
        return error.param.name
    return error.option_name if isinstance(error, NoSuchOption) else None


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
        "repeats": event.repeats,
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

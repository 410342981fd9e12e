"""What every `misure` command shares: options, the clock, JSON output, the one-line
refusals (exit status 1, nothing half-written) and the command tree whose commands are imported
only when they run.

Cheap to import, as every command imports it: what a command needs of the database, the
settings or pydantic is imported by the functions that use it (`misure --help` and `misure
terms due` import no SQLAlchemy, `misure case show` no Prefect: tests/e2e/test_cli_startup.py).
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from functools import cache, partial
from importlib import import_module
from importlib.util import find_spec
from inspect import cleandoc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer._click as click
from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer._click.globals import get_current_context
from typer.core import TyperCommand, TyperGroup

from machines.calendar import ROME, CalendarMismatch
from services.clock import Clock, FixedClock, SystemClock
from services.errors import DomainError

if TYPE_CHECKING:
    from services import engine
    from services.context import Context
    from services.records import CaseRecord, EventRecord, TimerRecord

out = Console()
err = Console(stderr=True)
COUNT_MAX = 2**31 - 1  # the largest limit or batch an option takes: an integer column's bound

JsonOption = Annotated[bool, typer.Option("--json", help="Stampa un solo documento JSON.")]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="L'istante in cui agire (ISO 8601, con scarto da UTC)."),
]

# Typer's own words in a help screen, in Italian: the titles of its panels and what it says of
# a parameter (typer.rich_utils, computed when imported), the usage line's prefix (Click's
# formatter) and the --help option's line (Click's decorators).
TYPER_WORDS = {
    "ARGUMENTS_PANEL_TITLE": "Argomenti",
    "OPTIONS_PANEL_TITLE": "Opzioni",
    "COMMANDS_PANEL_TITLE": "Comandi",
    "ERRORS_PANEL_TITLE": "Errore",
    "DEFAULT_STRING": "[predefinito: {}]",
    "ENVVAR_STRING": "[variabile d'ambiente: {}]",
    "REQUIRED_LONG_STRING": "[obbligatorio]",
    "DEPRECATED_STRING": "(deprecato) ",
}
USAGE = "Uso: "
METAVARS = (  # what the usage line says in place of the options and of a group's command
    ("options_metavar", "[OPTIONS]", "[OPZIONI]"),
    ("subcommand_metavar", "COMMAND [ARGS]...", "COMANDO [ARGOMENTI]..."),
)
HELP_OPTION = "Mostra questo aiuto ed esce."


class HelpFormatter(click.HelpFormatter):
    """Click's formatter, which Click's Context makes for each help and usage line and for
    nothing else: the one place where every help begins (`--help`, a group named alone, any
    command's), just before Typer imports typer.rich_utils to render it. It puts Typer's words
    in Italian then, so a command that prints no help imports nothing more."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from typer import rich_utils

        for name, text in TYPER_WORDS.items():
            setattr(rich_utils, name, text)
        highlights = rich_utils.OptionHighlighter.highlights
        rich_utils.OptionHighlighter.highlights = [
            pattern.replace("Usage: ", USAGE) for pattern in highlights
        ]
        ctx = get_current_context(silent=True)  # the command whose help is asked for
        if ctx is None:
            return
        option = ctx.command.get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        for name, english, italian in METAVARS:
            if getattr(ctx.command, name, None) == english:
                setattr(ctx.command, name, italian)

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE if prefix is None else prefix)


click.Context.formatter_class = HelpFormatter


class Refused(Exception):
    """A usage error found after parsing (bad --data, naive --now)."""


class Unavailable(Exception):
    """What the environment refuses: the database, a file, the configuration."""

    code = "unavailable"


CONFIGURATION = "configurazione non valida (MISURE_PROCEDURES, misure.toml)"
Load = Callable[[], click.Command]


class LazyGroup(TyperGroup):
    """A group whose commands may be declared by name and one line of help, and imported only
    when one of them runs (or its own help is asked for): `misure --help` lists every command,
    and `misure terms due` runs one, without importing the others and what they drive.
    `mounts` declare more the first time a name is not found or the list is asked for (the
    procedures' commands, cli/main.py)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.declared: dict[str, tuple[str | None, Load]] = {}
        self.mounts: list[Callable[[LazyGroup], None]] = []
        self._listing = False

    def declare(self, name: str, help: str | None, load: Load) -> None:
        """`name`, listed with `help` (None: its own, which loads it), is what `load` returns."""
        self.declared[name] = (help, load)

    def _mount(self) -> None:
        mounts, self.mounts = self.mounts, []
        for mount in mounts:
            mount(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._mount()
        return [*self.commands, *(name for name in self.declared if name not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name not in self.declared:
            self._mount()
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in self.declared:
            return None
        help, load = self.declared[cmd_name]
        if self._listing and help is not None:
            return TyperCommand(cmd_name, help=help)
        command = load()
        self.commands[cmd_name] = command
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As Typer's, with the names not yet imported among the suggestions."""
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as error:
            from difflib import get_close_matches

            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                suggested = ", ".join(repr(match) for match in matches)
                error.message = f"{error.message.rstrip('.')}. Did you mean {suggested}?"
            raise

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._mount()  # what cannot be mounted is told before any help is printed
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def first_paragraph(text: object) -> str | None:
    """A help's first paragraph on one line, as a list of commands shows it."""
    if not isinstance(text, str):
        return None
    return " ".join(cleandoc(text).split("\n\n")[0].split())


class Commands(typer.Typer):
    """What a procedure's `cli` function (`Procedure.cli`) is given to add its commands to the
    root: as on any Typer, imported with the function's module; or by name with one line of
    help (`lazy`), imported only when one of them runs."""

    def __init__(self) -> None:
        super().__init__()
        self.declared: dict[str, tuple[str | None, Load]] = {}

    def lazy(self, register: str, commands: Mapping[str, str]) -> None:
        """`commands` (name -> one line of help) are those that `register` (`module:function`,
        given a Typer) adds; its module is imported when one of them runs."""
        for name, help in commands.items():
            self.declared[name] = (help, partial(registered, register, name))


Register = str | Callable[[typer.Typer], None]


@cache
def _registered(register: Register) -> TyperGroup:
    if isinstance(register, str):
        module, _, function = register.partition(":")
        adds: Callable[[typer.Typer], None] = getattr(import_module(module), function)
    else:
        adds = register
    app = typer.Typer()
    adds(app)
    return typer.main.get_group(app)


def registered(register: Register, name: str) -> click.Command:
    """The command `name` that `register` (a function given a Typer, or its `module:function`)
    adds."""
    try:
        found = _registered(register).commands.get(name)
    except (ImportError, AttributeError) as error:
        raise Unavailable(f"{CONFIGURATION}: {error}") from error
    if found is None:
        raise Unavailable(f"{CONFIGURATION}: {register} non aggiunge il comando {name}")
    return found


def mount_procedures(root: LazyGroup) -> None:
    """Each configured procedure's commands on `root` (`Procedure.cli`), found without
    importing the procedure: its declaration is read, not run (`declared_cli`)."""
    for module in procedure_modules():
        target = declared_cli(module)
        if target is None:
            continue
        commands = Commands()
        try:
            module_name, _, function = target.partition(":")
            getattr(import_module(module_name), function)(commands)
        except (ImportError, AttributeError) as error:
            raise Unavailable(f"{CONFIGURATION}: {error}") from error
        if commands.registered_commands or commands.registered_groups:
            for name, command in typer.main.get_group(commands).commands.items():
                root.commands.setdefault(name, command)
        for name, declared in commands.declared.items():
            root.declared.setdefault(name, declared)


def procedure_modules() -> list[str]:
    """The configured procedures' modules, as `services.settings.Settings` reads them
    (`MISURE_PROCEDURES`, a JSON list, over `procedures` in misure.toml) but without importing
    pydantic-settings (a third of a second); a value only it can read, or refuse, is left to it
    (tests/e2e/test_cli_startup.py holds the two to the same answers)."""
    found = [value for name, value in os.environ.items() if name.upper() == "MISURE_PROCEDURES"]
    try:
        if found:
            modules = json.loads(found[-1])
        else:
            import tomllib

            with (Path(__file__).resolve().parent.parent / "misure.toml").open("rb") as file:
                modules = tomllib.load(file).get("procedures", [])
    except (OSError, ValueError):
        modules = None
    if isinstance(modules, list) and all(isinstance(module, str) for module in modules):
        return modules
    from services.settings import Settings

    try:
        return Settings().procedures
    except ValueError as error:
        raise Unavailable(f"{CONFIGURATION}: {error}") from error


def declared_cli(module: str) -> str | None:
    """The `Procedure.cli` that `module` declares, read from its source where it is written as
    a string (as setuptools reads an `attr:` version), else by importing the module: the root
    lists a procedure's commands without importing the procedure."""
    try:
        spec = find_spec(module)  # imports the packages above it, not the module
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"No module named {module!r}")
        tree = ast.parse(Path(spec.origin).read_bytes(), spec.origin)
    except (ImportError, OSError, SyntaxError, ValueError) as error:
        raise Unavailable(f"{CONFIGURATION}: {error}") from error
    for node in ast.walk(tree):
        callee = getattr(node, "func", None)
        named = getattr(callee, "id", None) or getattr(callee, "attr", None)
        if isinstance(node, ast.Call) and named == "Procedure":
            cli = next((kw.value for kw in node.keywords if kw.arg == "cli"), None)
            if cli is None:
                return None
            if isinstance(cli, ast.Constant) and isinstance(cli.value, str | None):
                return cli.value
    try:  # not written as a string: the declaration says it when run
        cli = import_module(module).PROCEDURE.cli
    except (ImportError, AttributeError) as error:
        raise Unavailable(f"{CONFIGURATION}: {error}") from error
    return cli if isinstance(cli, str) else None


@contextmanager
def refusals(as_json: bool = False) -> Iterator[None]:
    """Turn refusals into one line on stderr (a JSON object with --json) and exit status 1;
    so too what the environment refuses (the database unreachable or its URL malformed, a
    file that cannot be written), naming what to check, never a traceback."""
    try:
        yield
    except (DomainError, Refused, Unavailable, CalendarMismatch, ValueError, ArithmeticError) as e:
        fail(e, as_json)
    except OSError as error:
        fail(Unavailable(f"{error.strerror or error}: {error.filename or ''}".strip()), as_json)
    except Exception as error:
        # SQLAlchemy's errors, if this command imported it (a command that did not cannot
        # have raised one, and need not import it to know).
        found = sys.modules.get("sqlalchemy.exc")
        if found is None or not isinstance(error, found.SQLAlchemyError):
            raise
        if isinstance(error, found.ArgumentError):
            fail(Unavailable(f"MISURE_DATABASE_URL non valido: {error}"), as_json)
        cause = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
        fail(Unavailable(f"database non raggiungibile (MISURE_DATABASE_URL): {cause}"), as_json)


def fail(error: Exception, as_json: bool) -> NoReturn:
    """One line on stderr and exit 1; what stands despite the refusal (a term that lapsed
    first and freed a place) is acted on as after any change."""
    signals = getattr(error, "signals", ())
    if signals and _made:
        import hashlib

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
        err.print(f"[bold red]errore:[/] {escape(message)}", highlight=False, soft_wrap=True)


def run(app: typer.Typer | click.Command, args: list[str]) -> int:
    """Run the command line on `args`; its exit status. Never a traceback: a usage error (an
    unknown command or option, a missing or malformed value) is one line and status 2, a
    refusal one line and status 1 (`fail`), anything unforeseen one line and status 1; `--help`
    and a group named alone print the help, as Typer does."""
    as_json = "--json" in args
    try:
        try:
            done = app(args=args, standalone_mode=False)
        except NoArgsIsHelpError as error:
            if text := error.format_message().strip():  # rich printed the help already
                sys.stdout.write(text + "\n")
            return error.exit_code
    except Unavailable as error:  # a procedure's commands could not be mounted
        tell(Unavailable.code, str(error), None, as_json)
        return 1
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
        cause, pydantic = error.__cause__, sys.modules.get("pydantic_core")
        if pydantic is not None and isinstance(cause, pydantic.ValidationError):
            from services.reasons import reason

            why = reason(cause.errors()[0])
        else:
            why = error.message
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
    from services.context import Context
    from services.procedure import load_procedures
    from services.settings import Settings

    clock: Clock = SystemClock() if now is None else FixedClock(instant(now))
    try:
        settings = Settings()
        load_procedures(settings.procedures)
    except (ImportError, ValueError, AttributeError) as error:
        raise Unavailable(f"{CONFIGURATION}: {error}") from error
    ctx = Context.from_settings(settings, clock)
    _made.append(ctx)
    return ctx


def instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise Refused(f"--now {value!r} non è un istante ISO 8601") from error
    if instant.tzinfo is None:
        raise Refused(f"--now {value!r} senza scarto da UTC: ad esempio 2026-03-02T09:00:00+01:00")
    return instant.astimezone(UTC)


def pairs(values: list[str]) -> dict[str, Any]:
    """key=value pairs. A value is text, which the transition's schema reads as it declares it
    (a number, a date, true/false); a JSON object, list or null is taken as such."""
    parsed: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise Refused(f"--data {item!r} non è nella forma chiave=valore")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        parsed[key] = value if value is None or isinstance(value, dict | list) else raw
    return parsed


def emit(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=json_value) + "\n")


def columns(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """`rows` under `headings` in aligned columns, as plain text: a long list at once."""
    widths = [max(map(len, column)) for column in zip(headings, *rows, strict=True)]
    padded = (map(str.ljust, row, widths) for row in (headings, *rows))
    return "".join("  ".join(cells).rstrip() + "\n" for cells in padded)


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
    list[str] | None,
    typer.Option("--data", help="chiave=valore, ripetibile.", show_default=False),
]
ActorOption = Annotated[str, typer.Option(help="Chi agisce (registrato sull'evento).")]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key", help="Chiave di idempotenza: la stessa chiave due volte è una sola modifica."
    ),
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
    replayed = " (già fatto con questa chiave)" if result.replayed else ""
    for caught in result.caught_up:
        out.print(f"{result.reference}: prima è scaduto un termine: {caught}")
    out.print(
        f"{result.reference}: {result.trigger} {result.from_state or '-'} -> "
        f"[bold]{result.to_state}[/] (evento {result.sequence}){replayed}"
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

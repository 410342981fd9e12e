"""A command imports what it runs and no more (issue 16: "a CLI that answers at once"): the
command tree is declared by name (cli/common.py, `LazyGroup`), so `misure --help` and `misure
terms due` import no SQLAlchemy, no Prefect, no procedure, and `misure case show` no Prefect,
FastAPI, WeasyPrint or Jinja2. The timings are `make bench`'s (bench/cli_startup.py); here, what
is imported, which fails as soon as a heavy import creeps back into a fast path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer._click import Context

from cli import main
from cli.common import Unavailable, declared_cli, first_paragraph, procedure_modules
from services.settings import Settings
from tests.e2e.test_cli import OPENED_AT, ROOT, Cli, under_review

# Runs the command in this interpreter, then writes which modules it imported to a file.
RUN = """
import json, sys
args, report = json.loads(sys.argv[1]), sys.argv[2]
sys.argv = ["misure", *args]
import cli.main
try:
    cli.main.main()
except SystemExit as stop:
    status = stop.code
with open(report, "w") as file:
    json.dump({"status": status, "modules": sorted(sys.modules)}, file)
"""
NEVER_AT_ONCE = ("prefect", "fastapi", "uvicorn", "weasyprint", "jinja2", "pyhanko", "alembic")
NOT_FOR_TERMS = (*NEVER_AT_ONCE, "sqlalchemy", "pydantic_settings", "transitions", "storage")
PROCEDURES = ("placements", "register", "lpu", "probation")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    runner = Cli(f"sqlite:///{tmp_path / 'startup.db'}")
    runner.run("db", "upgrade")
    return runner


def imported(cli: Cli, tmp_path: Path, *args: str) -> set[str]:
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(args), str(report)],
        env=cli.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = json.loads(report.read_text(encoding="utf-8"))
    assert found["status"] == 0, done.stderr
    return {name.split(".")[0] for name in found["modules"]} | set(found["modules"])


def procedures_in(modules: set[str]) -> list[str]:
    return [
        name
        for name in modules
        for layer in ("machines", "storage", "services", "cli", "api", "flows")
        for procedure in PROCEDURES
        if name.startswith(f"{layer}.{procedure}.")
    ]


@pytest.mark.parametrize(
    "args",
    [["--help"], ["terms", "due", "--start", "2026-01-10", "--days", "10"], ["terms", "--help"]],
    ids=["help", "terms-due", "terms-help"],
)
def test_the_help_and_terms_import_no_database_and_no_procedure(
    cli: Cli, tmp_path: Path, args: list[str]
) -> None:
    modules = imported(cli, tmp_path, *args)
    assert not [name for name in NOT_FOR_TERMS if name in modules]
    assert not procedures_in(modules)  # the root lists their commands without them
    if args == ["--help"]:
        assert "holidays" not in modules and "pydantic" not in modules
    # Typer's words are put in Italian as a help is printed (cli/common.py, HelpFormatter)
    assert ("typer.rich_utils" in modules) == (args[-1] == "--help")


@pytest.mark.parametrize("command", ["show", "list"])
def test_a_case_is_shown_without_prefect_fastapi_or_the_renderer(
    cli: Cli, tmp_path: Path, command: str
) -> None:
    reference = under_review(cli)
    args = ["case", "show", reference] if command == "show" else ["case", "list"]
    modules = imported(cli, tmp_path, *args, "--now", OPENED_AT)
    assert "sqlalchemy" in modules and "services.engine" in modules  # it did run
    assert not [name for name in NEVER_AT_ONCE if name in modules]


def test_each_command_is_listed_with_its_own_help() -> None:
    """The root declares each command by name with its help's first paragraph (the
    procedures' in cli/<procedure>/__init__.py): the same as the command says when loaded."""
    root = main.root()
    context = Context(root)
    names = root.list_commands(context)
    assert {"case", "terms", "stack", "ref", "placement", "register", "lpu", "probation"} <= set(
        names
    )
    for name in names:
        declared = root.declared[name][0]
        command = root.get_command(context, name)
        assert command is not None
        said = first_paragraph(command.help)
        assert declared == said, (
            f"`misure {name}` says {said!r}; its declaration (cli/main.py, ELSEWHERE, or the "
            f"procedure's cli/<procedure>/__init__.py) says {declared!r}: make them the same"
        )


def test_the_procedures_are_read_as_the_settings_read_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MISURE_PROCEDURES", raising=False)
    assert procedure_modules() == Settings().procedures  # misure.toml
    monkeypatch.setenv("MISURE_PROCEDURES", '["services.lpu.procedure"]')
    assert procedure_modules() == Settings().procedures == ["services.lpu.procedure"]
    monkeypatch.setenv("MISURE_PROCEDURES", "[]")
    assert procedure_modules() == Settings().procedures == []
    monkeypatch.setenv("MISURE_PROCEDURES", "not json")
    with pytest.raises(Unavailable, match="MISURE_PROCEDURES"):
        procedure_modules()


@pytest.mark.parametrize(
    ("args", "panels"),
    [
        (["--help"], ("Opzioni", "Comandi")),
        (["case"], ("Opzioni", "Comandi")),  # a group named alone shows its help
        (["case", "show", "--help"], ("Argomenti", "Opzioni")),
        (["terms", "due", "--help"], ("Opzioni", "[obbligatorio]", "[predefinito: ")),
    ],
)
def test_the_help_is_in_italian_typers_own_words_included(
    args: list[str], panels: tuple[str, ...]
) -> None:
    shown = Cli("sqlite://").run(*args, ok=False)
    command = " ".join(["misure", *(arg for arg in args if arg != "--help")])
    assert f"Uso: {command} [OPZIONI]" in shown.stdout, shown.stderr
    assert all(panel in shown.stdout for panel in panels)
    assert "Mostra questo aiuto ed esce." in shown.stdout
    english = ("Usage", "Options", "OPTIONS", "Commands", "COMMAND", "Arguments", "[ARGS]")
    english += ("Show this message", "[default", "[required]")
    assert not [word for word in english if word in shown.stdout]


def test_a_procedures_cli_is_read_from_its_declaration_without_running_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert declared_cli("services.placements.procedure") == "cli.placements:mount"
    assert declared_cli("tests.procedure.procedure") == "tests.procedure.entry:register"
    package = tmp_path / "computed"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "literal.py").write_text(
        "raise RuntimeError('run')\nPROCEDURE = Procedure(name='x', cli='x.cli:mount')\n",
        encoding="utf-8",
    )
    (package / "computed.py").write_text(
        "from types import SimpleNamespace\n"
        "PROCEDURE = SimpleNamespace(cli=':'.join(['x.cli', 'mount']))\n"
        "Procedure = dict\n"
        "Procedure(cli=PROCEDURE.cli)\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert declared_cli("computed.literal") == "x.cli:mount"  # read, never run
    assert "computed.literal" not in sys.modules
    assert declared_cli("computed.computed") == "x.cli:mount"  # not a literal: run
    with pytest.raises(Unavailable, match="MISURE_PROCEDURES"):
        declared_cli("computed.missing")


def test_a_procedure_that_cannot_be_mounted_is_one_line_even_for_the_help(cli: Cli) -> None:
    cli.env["MISURE_PROCEDURES"] = '["no.such.module"]'
    for args in (["--help"], [], ["placement", "--json"]):
        done = cli.run(*args, ok=False)
        assert (done.returncode, done.stdout) == (1, ""), done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert "configurazione non valida (MISURE_PROCEDURES" in line and "no" in line
    assert "last_day" in cli.json("terms", "due", "--start", "2026-01-01", "--days", "3")

"""The import contracts of `make lint` (pyproject.toml, import-linter) hold on the code, and
break as soon as shared code imports a procedure or a layer reaches above itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = str(Path(sys.executable).with_name("lint-imports"))
PACKAGES = ("machines", "storage", "services", "documents", "cli", "api", "flows", "bench", "tests")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The project's packages and its contracts, in a folder of their own."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.css", "*.png"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold_on_the_code(copy: Path) -> None:
    done = lint(copy)
    assert done.returncode == 0, done.stdout
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "services/engine.py",
            "import services.placements.actors",
            "shared code names no procedure BROKEN",
        ),
        ("cli/main.py", "import cli.placements.commands", "shared code names no procedure BROKEN"),
        ("machines/spec.py", "import storage.models", "machines/ is pure"),
        ("storage/repository.py", "import services.engine", "storage/ imports nothing above it"),
        ("services/timers.py", "import flows.common", "services/ import nothing of the entry"),
        ("api/app.py", "import storage.models", "reach storage only through services/ BROKEN"),
        ("services/placements/actors.py", "import tests.support.demo", "a procedure imports"),
        ("services/placements/register.py", "import services.register.effects", "a procedure"),
        ("services/register/effects.py", "import storage.placements.models", "the register knows"),
        ("services/context.py", "import machines.register", "shared code names no procedure"),
        ("services/lpu/notices.py", "import services.placements.facts", "community work"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    copy: Path, module: str, line: str, contract: str
) -> None:
    path = copy / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    done = lint(copy)
    assert done.returncode != 0
    assert contract in " ".join(done.stdout.split()), done.stdout

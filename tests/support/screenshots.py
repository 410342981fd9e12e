"""`make screenshots`: the first page of an attestation and of a facility's cancellation, as
issued by the acceptance scenarios of tests/integration/test_every_notice.py (fictional
reference data: the offices' letterheads, the addressees' PEC), rendered with pdftoppm into
docs/notice-attestazione.png and docs/notice-cancellazione.png for the README."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import select

from services.clock import FixedClock
from services.context import Context
from storage.database import make_engine
from storage.models import Document
from tests.conftest import _migrate
from tests.integration.test_every_notice import MODULES, SCENARIOS, START, Desk

ROOT = Path(__file__).resolve().parents[2]
SHOTS = {  # template -> the scenario that issues it
    "attestazione": "placement-to-the-cost-statement",
    "cancellazione": "register-from-interest-to-cancellation",
}


def first_page(template: str, scenario: str, folder: Path) -> Path:
    """The PNG of the first page of the first `template` notice `scenario` issues."""
    url = f"sqlite:///{folder / f'{template}.db'}"
    _migrate(url)
    db = make_engine(url)
    try:
        SCENARIOS[scenario].run(Desk(Context.build(db, FixedClock(START), MODULES)))
        with db.connect() as connection:
            pdf = connection.scalars(
                select(Document.pdf).where(Document.template == template).order_by(Document.id)
            ).first()
    finally:
        db.dispose()
    if pdf is None:
        raise SystemExit(f"scenario {scenario} issued no {template}")
    source = folder / f"{template}.pdf"
    source.write_bytes(pdf)
    target = ROOT / "docs" / f"notice-{template}"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", source, target],
        check=True,
    )
    return target.with_suffix(".png")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for template, scenario in SHOTS.items():
            print(f"written {first_page(template, scenario, Path(tmp))}")


if __name__ == "__main__":
    main()

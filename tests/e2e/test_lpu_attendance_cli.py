"""`misure lpu attendance` as a process: a host entity's CSV register, each row answered, the bad
row refused alone, exit 1 while any row is refused; nothing recorded twice when sent again."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from services import engine
from services.clock import FixedClock
from services.context import Context
from storage.database import make_engine
from storage.lpu.models import Attendance
from tests.e2e.test_cli import Cli
from tests.integration.test_lpu_conventions import LPU
from tests.integration.test_lpu_placements import ENTITY, MONDAY, RECEPTION, convention, declared

NOW = "2026-03-02T18:00:00+01:00"


def test_the_register_file_is_answered_row_by_row(sqlite_url: str, tmp_path: Path) -> None:
    db = make_engine(sqlite_url)
    ctx = Context.build(db, FixedClock(MONDAY), LPU)
    agreement = convention(ctx)
    placement = declared(ctx, agreement)
    engine.fire(ctx, placement, "receive", ENTITY, RECEPTION)
    register = tmp_path / "registro.csv"
    register.write_text(
        "reference,day,start,end,activity,signed_by_person,signed_by_coordinator\n"
        f"{placement},2026-03-02,09:00,11:00,verde pubblico,sì,sì\n"
        f"{placement},2026-03-02,14:00,16:00,verde pubblico,sì,no\n",
        encoding="utf-8",
    )
    cli = Cli(sqlite_url)
    cli.env["MISURE_PROCEDURES"] = json.dumps(list(LPU))
    done = cli.run("lpu", "attendance", str(register), "--now", NOW, "--json", ok=False)
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["recorded"] == 1
    assert [(row["row"], row["ok"]) for row in answer["rows"]] == [(1, True), (2, False)]
    assert "firma del coordinatore" in answer["rows"][1]["message"]
    human = cli.run("lpu", "attendance", str(register), "--now", NOW, ok=False).stdout
    assert "riga 2" in human and "rifiutata" in human and "1 sessioni annotate" in human
    with db.connect() as connection:
        assert len(connection.execute(select(Attendance.id)).all()) == 1  # sent twice, once
    db.dispose()

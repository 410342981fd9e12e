"""Load on the court registry API: decisions posted at 200 requests/s for 30 s on loopback,
each to its own attestation at court, against `misure api serve`: on SQLite (the embedded
default, one server process: SQLite has one writer) and, if MISURE_BENCH_POSTGRES_URL is set,
on PostgreSQL with two server processes. Prints p50/p99 latency and errors, next to the same
rate of GET /health measured in the same run (the floor: HTTP and one SELECT), after WARMUP
seconds of decisions on other cases (printed apart). Target: p99 < 25 ms. The load generator
(bench.loadgen) runs on the same two cores."""

from __future__ import annotations

import os
import statistics
import tempfile
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench import loadgen
from machines.calendar import rome_date
from services import registry, schema
from services.clock import FixedClock
from services.context import Context
from services.placements.procedure import MODULES as PLACEMENTS
from storage.database import make_engine
from storage.models import Case, CaseEvent
from storage.placements.models import Application
from storage.placements.repository import PlacementRepository
from tests.support.apiserver import ApiServer
from tests.support.placements import COURT_TO, load_reference
from tests.support.seed import chained

RATE, SECONDS = 200, 30
WARMUP = 2  # seconds of decisions first, on other cases: connections opened, statements prepared
HOST = "127.0.0.1"


def seed_at_court(ctx: Context, count: int) -> list[str]:
    """`count` placement cases waiting for the court at Torino, written in bulk."""
    now = ctx.clock.now()
    today = rome_date(now)
    with ctx.uow() as uow:
        prison = PlacementRepository.of(uow).prison("CC-TO")
        assert prison is not None
        references = [f"ATT-{today.year}-{n:06d}" for n in range(500_001, 500_001 + count)]
        data = {"prison": "CC-TO", "court": COURT_TO, "filed_on": today.isoformat()}
        ids = uow.session.scalars(
            insert(Case).returning(Case.id),
            [
                {"kind": "placement", "reference": r, "state": "at_court", "version": 1,
                 "data": data, "opened_at": now, "updated_at": now}
                for r in references
            ],
        ).all()  # fmt: skip
        uow.session.execute(
            insert(CaseEvent),
            [
                chained(r, {"case_id": i, "sequence": 1, "trigger": "open", "from_state": None,
                            "to_state": "at_court", "actor": "bench", "payload": {},
                            "legal_basis": "seed", "idempotency_key": None, "occurred_at": now,
                            "effective_at": now})
                for i, r in zip(ids, references, strict=True)
            ],
        )  # fmt: skip
        uow.session.execute(
            insert(Application),
            [
                {"case_id": i, "prison_id": prison.id, "office_id": prison.office_id,
                 "court": COURT_TO, "filed_on": today, "protocol_year": today.year,
                 "protocol_number": n, "protocol_at": now}
                for n, i in enumerate(ids, 1)
            ],
        )  # fmt: skip
        uow.commit()
    return references


def _figures(name: str, result: loadgen.Result) -> tuple[float, float]:
    latencies, errors = result.latencies_ms, result.errors
    p50, p99 = statistics.median(latencies), statistics.quantiles(latencies, n=100)[98]
    rate = len(latencies) / result.elapsed_s
    print(f"  {name:<34} {len(latencies):6d} req  {rate:6.1f}/s  p50 {p50:6.2f} ms  "
          f"p99 {p99:6.2f} ms  max {max(latencies):7.2f} ms  "
          f"errors {sum(errors.values())} {dict(errors) or ''}")  # fmt: skip
    return p50, p99


def _run(server: ApiServer, token: str, references: list[str]) -> None:
    today = rome_date(datetime.now(UTC)).isoformat()
    auth = {"Authorization": f"Bearer {token}"}
    health = [loadgen.Request("GET", "/health", {})] * (RATE * 10)
    floor = _figures("baseline GET /health", loadgen.run(HOST, server.port, health, RATE))
    every = [
        loadgen.Request(
            "POST", f"/v1/attestations/{r}/decision", {**auth, "Idempotency-Key": f"load-{n}"},
            {"outcome": "granted", "decided_on": today, "measure_start": today,
             "file_number": f"SIUS {n}/2026"} if n % 4 else
            {"outcome": "rejected", "decided_on": today, "file_number": f"SIUS {n}/2026"},
        )
        for n, r in enumerate(references[: RATE * (WARMUP + SECONDS)])
    ]  # fmt: skip
    warm, decisions = every[: RATE * WARMUP], every[RATE * WARMUP :]
    _figures(
        f"warm-up: {WARMUP} s of decisions (not counted)",
        loadgen.run(HOST, server.port, warm, RATE),
    )
    ours = _figures(
        "POST decision (1 in 4 a rejection)", loadgen.run(HOST, server.port, decisions, RATE)
    )
    print(f"  p99 ratio decision/health {ours[1] / floor[1]:.2f}; target p99 < 25 ms: "
          f"{'met' if ours[1] < 25 else 'NOT met'}")  # fmt: skip


def _measure(url: str, workers: int, folder: Path, label: str) -> None:
    db = make_engine(url)
    schema.upgrade(db)
    now = datetime.now(UTC)
    ctx = Context.build(db, FixedClock(now), PLACEMENTS)
    load_reference(ctx, years=(now.year - 1, now.year))
    references = seed_at_court(ctx, RATE * (WARMUP + SECONDS))
    token = registry.issue_token(ctx, COURT_TO).token
    print(f"court API under load, {label}, {workers} server process(es), {RATE}/s for "
          f"{SECONDS} s ({date.today()})")  # fmt: skip
    with ApiServer(url, folder / f"api-{workers}.log", workers=workers) as server:
        _run(server, token, references)
    db.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        _measure(f"sqlite:///{Path(folder) / 'api.db'}", 1, Path(folder), "SQLite")
        server = os.environ.get("MISURE_BENCH_POSTGRES_URL")
        if server:
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            name = f"misure_api_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(server).set(database=name).render_as_string(hide_password=False)
                _measure(url, 2, Path(folder), "PostgreSQL")
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()

"""Contention on one case over real HTTP on PostgreSQL (issue 11 item 4): twenty registries'
decisions at once queue on the case's row; one is applied, every other answer is one the
README and the OpenAPI schema document, and each late message is recorded once, repeats
counted on its event."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from services import engine, registry
from services.clock import FixedClock
from services.context import Context
from storage.database import make_engine
from tests.e2e.test_api import at_court, decision, now, post
from tests.support.apiserver import ApiServer
from tests.support.placements import COURT_TO, PLACEMENTS, load_reference

DOCUMENTED = {(200, None), (409, "late_decision")}


@pytest.mark.postgres
def test_twenty_concurrent_decisions_on_one_case_queue(postgres_url: str, tmp_path: Path) -> None:
    db = make_engine(postgres_url)
    ctx = Context.build(db, FixedClock(now()), PLACEMENTS)
    load_reference(ctx)
    (case,) = at_court(ctx)
    token = registry.issue_token(ctx, COURT_TO).token
    # 15 keys of their own, half granting and half rejecting; 5 sends of one key
    sends = [(f"k-{n}", decision("granted" if n % 2 else "rejected")) for n in range(15)]
    sends += [("k-same", decision())] * 5
    answers: list[tuple[str, int, dict[str, Any]]] = []
    barrier = threading.Barrier(len(sends))

    def send(key: str, body: dict[str, Any]) -> None:
        barrier.wait()
        status, answer = post(server, case, body, token, key)
        answers.append((key, status, answer))

    with ApiServer(postgres_url, tmp_path / "api.log", workers=2) as server:
        threads = [threading.Thread(target=send, args=sent) for sent in sends]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(answers) == len(sends)
    assert {(status, answer.get("error")) for _, status, answer in answers} <= DOCUMENTED
    assert Counter(status for _, status, _ in answers)[200] in (1, 5)  # the winner's key
    same = [(status, answer) for key, status, answer in answers if key == "k-same"]
    assert all(given == same[0] for given in same)  # one key, one answer

    history = engine.describe(ctx, case).history
    decided = [e for e in history if e.trigger in ("grant", "reject")]
    assert len(decided) == 1
    late_keys = {key for key, status, _ in answers if status == 409}
    late_events = [e for e in history if e.trigger == "late_decision"]
    assert len(late_events) <= 2  # one per distinct message: a grant, a rejection
    assert sum(1 + e.repeats for e in late_events) == len(late_keys)
    db.dispose()

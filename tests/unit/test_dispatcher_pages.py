"""The dispatcher's publication of case pages: a case whose page fails waits, longer after each
failure up to the jobs' backoff, while the other cases go on; once published it waits no more.
A fake round stands in for the publication (flows/pages.py, tested on a Prefect server in
tests/flows/test_desk_flows.py); the clock is the dispatcher's monotonic one."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

import pytest

from flows import dispatch
from flows.dispatch import Dispatcher
from services.context import Context


class FakeRound:
    """Fails the pages of `failing`; records which cases each round was told to hold."""

    def __init__(self) -> None:
        self.failing: set[int] = set()
        self.held: list[set[int]] = []

    def __call__(
        self, ctx: Context, after: int, batch: int, held: Collection[int] = ()
    ) -> dict[str, Any]:
        self.held.append(set(held))
        failing = sorted(self.failing - set(held))
        return {
            "published": 1,
            "queues": 1,
            "failed": [f"PRA-{case}: artefatto rifiutato" for case in failing],
            "failed_cases": failing,
            "last": None,
        }


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(dispatch, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRound:
    import flows.pages

    found = FakeRound()
    monkeypatch.setattr(flows.pages, "publish_round", found)
    return found


def test_a_failing_page_waits_twice_as_long_each_time_up_to_the_backoff(
    clock: list[float], fake: FakeRound
) -> None:
    dispatcher = Dispatcher(backoff=30, page_backoff=10)
    ctx = cast(Context, None)
    fake.failing = {7}
    first = dispatcher.publish_pages(ctx)
    failure = "pagina non pubblicata: PRA-7: artefatto rifiutato"
    assert first[-1] == f"{failure} (nuovo tentativo tra 10 s)"
    waits = []
    for _ in range(40):  # a round every 2 s, as `misure dispatch` does
        clock[0] += 2
        lines = dispatcher.publish_pages(ctx)
        if any("PRA-7" in line for line in lines):
            waits.append(dispatcher.held[7][1])
    assert waits == [20, 30, 30]  # tried at 10, 30 and 60 s: 10 -> 20 -> 30 (the cap) -> 30
    assert sum(7 in held for held in fake.held) == 41 - 4  # held in every other round


def test_a_page_published_again_is_no_longer_held(clock: list[float], fake: FakeRound) -> None:
    dispatcher = Dispatcher(backoff=300, page_backoff=10)
    ctx = cast(Context, None)
    fake.failing = {7, 8}
    dispatcher.publish_pages(ctx)
    assert set(dispatcher.held) == {7, 8}
    fake.failing = {8}
    clock[0] += 10
    lines = dispatcher.publish_pages(ctx)
    assert set(dispatcher.held) == {8} and dispatcher.held[8][1] == 20
    assert lines[0] == "pagine pubblicate: pratiche 1, code 1"
    clock[0] += 2
    dispatcher.publish_pages(ctx)
    assert fake.held[-1] == {8}  # 7 is published: never held again

"""The outgoing protocol register under concurrent renderers and a crash (issue 15): four
renderer processes over the same notices on PostgreSQL, one of them killed with SIGKILL
mid-run, then a renderer that finishes what it held. Numbers are contiguous per office and
year, each given once, each to one notice whose document carries its fingerprint.

`make bench` runs the same over 2,000 notices (bench/protocol.py); here 200 keep `make test`
short (2,000 WeasyPrint renders take about four minutes on two cores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.clock import FixedClock
from tests.conftest import START
from tests.support.renderers import check_register, render_with, seed_notices

NOTICES = 200
RENDERERS = 4


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_numbers_stay_contiguous_under_four_renderers_and_a_sigkill(
    postgres_url: str, tmp_path: Path
) -> None:
    seed_notices(postgres_url, NOTICES, FixedClock(START))

    run = render_with(postgres_url, RENDERERS, tmp_path, kill_at=NOTICES // 5)

    assert run.killed
    check = check_register(postgres_url)
    assert check.registers == {("UFFICIO", 2026)}
    assert check.contiguous and len(check.numbers) == NOTICES == check.notices
    assert (check.twice, check.unnumbered, check.unsealed, check.pending) == ([], [], [], 0)

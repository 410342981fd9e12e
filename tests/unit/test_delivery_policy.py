"""The retry schedule of refused messages, and where `.eml` files go: pure, no database."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.delivery import DeliveryPolicy, EmlDirectory


@given(attempts=st.integers(1, 20), backoff=st.integers(1, 86400))
def test_the_wait_doubles_after_each_failed_attempt(attempts: int, backoff: int) -> None:
    policy = DeliveryPolicy(attempts=attempts, backoff_seconds=backoff)
    schedule = policy.schedule()

    assert len(schedule) == attempts - 1  # no wait after the last attempt: it is an incident
    assert all(policy.delay(n) == timedelta(seconds=backoff * 2 ** (n - 1)) for n in range(1, 21))
    if schedule:
        assert schedule[0] == timedelta(seconds=backoff)
    assert all(later == 2 * earlier for earlier, later in pairwise(schedule))
    assert sum(schedule, timedelta()) == timedelta(seconds=backoff * (2 ** (attempts - 1) - 1))


def test_the_default_schedule() -> None:
    assert [wait.total_seconds() for wait in DeliveryPolicy().schedule()] == [60, 120, 240, 480]


@pytest.mark.parametrize(("attempts", "backoff"), [(0, 60), (5, 0)])
def test_a_policy_that_never_tries_is_refused(attempts: int, backoff: int) -> None:
    with pytest.raises(ValueError):
        DeliveryPolicy(attempts, backoff)
    with pytest.raises(ValueError):
        DeliveryPolicy().delay(0)


@pytest.mark.parametrize(
    "message_id",
    ["<DEM-2026-000001.7.court@misure.invalid>", "<../../etc/passwd@x>", "<a/b\\c d@x>", "<.@.>"],
)
def test_an_eml_file_stays_in_its_folder(tmp_path: Path, message_id: str) -> None:
    message = EmailMessage()
    message["Message-ID"] = message_id
    target = EmlDirectory(tmp_path).file_for(message)
    assert target.parent == tmp_path
    assert target.suffix == ".eml" and not target.name.startswith(".")

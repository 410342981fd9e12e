"""Start several sides at a barrier, at once, on threads: what the race tests use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def race(*sides: Callable[[], Any]) -> list[Any]:
    """Run the sides at once; each result is its return value or the exception it raised."""
    barrier = threading.Barrier(len(sides))
    results: list[Any] = [None] * len(sides)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = sides[index]()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sides))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results

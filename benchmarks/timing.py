"""Wall-clock timing shared by the benchmark scripts (best of several runs, as ``timeit`` reports)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Call ``fn`` ``repeat`` times; return the least wall time in seconds and the last call's result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """The least wall time in seconds of ``repeat`` calls of ``fn``."""
    return timed(fn, repeat)[0]

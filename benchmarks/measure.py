"""Timing: server-side time of many calls (percentiles), and the queries of one call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Timing:
    """Milliseconds over ``count`` calls (after warm-up)."""

    count: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        ordered = sorted(samples)
        # Nearest-rank p95: with 50 samples, the 48th slowest; never interpolated below a sample.
        rank = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
        return cls(len(ordered), statistics.median(ordered), ordered[rank], ordered[-1])


def time_calls(call: Callable[[], object], *, iterations: int, warmup: int = 3) -> Timing:
    """Call ``warmup`` times untimed (caches, connections), then ``iterations`` timed."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing.of(samples)


def count_queries(call: Callable[[], object]) -> int:
    """The number of SQL queries one call makes (measured apart from the timed calls)."""
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)

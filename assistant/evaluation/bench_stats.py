"""Summaries of repeated measurements for ``assistant bench``: min / median / max, and p50 / p95."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """Repeated runs of one measure (seconds unless named otherwise)."""

    runs: int
    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float], digits: int = 3) -> Spread:
        if not values:
            raise ValueError("no measurements")
        return cls(len(values), round(min(values), digits), round(statistics.median(values), digits), round(max(values), digits))


@dataclass(frozen=True)
class Percentiles:
    """Latencies in milliseconds."""

    n: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of_seconds(cls, seconds: Sequence[float]) -> Percentiles:
        return cls.of_ms([s * 1000 for s in seconds])

    @classmethod
    def of_ms(cls, ms: Sequence[float]) -> Percentiles:
        if not ms:
            raise ValueError("no measurements")
        ordered = sorted(ms)
        p95 = statistics.quantiles(ordered, n=100, method="inclusive")[94] if len(ordered) > 1 else ordered[0]
        return cls(len(ordered), round(statistics.median(ordered), 2), round(p95, 2), round(ordered[-1], 2))

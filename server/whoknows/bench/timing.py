"""Latency samples and their summary figures (median, p95), in milliseconds."""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Latencies:
    """Samples in seconds; reported in milliseconds."""

    samples: list[float] = field(default_factory=list)

    def time(self, fn: Callable[[], object]) -> object:
        started = time.perf_counter()
        out = fn()
        self.samples.append(time.perf_counter() - started)
        return out

    def figures(self) -> dict[str, float]:
        ms = [s * 1000 for s in self.samples]
        return {
            "n": len(ms),
            "p50_ms": round(percentile(ms, 50), 2),
            "p95_ms": round(percentile(ms, 95), 2),
            "max_ms": round(max(ms, default=0.0), 2),
        }


def peak_rss_mb() -> float:
    """The process's high-water resident set size (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)

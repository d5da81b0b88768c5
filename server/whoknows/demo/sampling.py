"""Weighted draws that stay cheap at a million posts: running sums built once, one bisect per draw."""

from __future__ import annotations

import bisect
import itertools
import random


def cumulative(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def pick(rng: random.Random, cum: list[float]) -> int:
    """Index drawn with the weights whose running sums are `cum` (cheaper than rng.choices per call)."""
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def zipf(n: int, s: float) -> list[float]:
    """Rank weights 1, 1/2^s, 1/3^s, ...: a few things are talked about a lot, most rarely."""
    return [1.0 / (rank + 1) ** s for rank in range(n)]

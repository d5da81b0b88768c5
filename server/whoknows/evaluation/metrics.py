"""Ranking metrics of the evaluation protocol (section 3), as pure functions.

Kept apart from the harness so the numbers can be checked by hand: one score per
query, then a summary over a query set with a seeded bootstrap interval for MRR.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TypedDict

CUTOFF = 10
"""A method answers with at most this many usernames; MRR is MRR@10."""

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 20240101
_DIGITS = 4


@dataclass(frozen=True, slots=True)
class QueryScore:
    """The per-query numbers that the summary averages."""

    rr: float
    """1/rank of the first relevant user within the top 10, else 0."""
    p1: float
    """1 if the first user is relevant, else 0."""
    hit5: float
    """1 if a relevant user is in the top 5, else 0."""
    ndcg5: float
    """nDCG@5 with binary gains and a log2(rank + 1) discount."""


class MethodSummary(TypedDict):
    """One method's metrics over a query set; plain JSON once serialised."""

    mrr: float
    mrr_ci: list[float]
    p1: float
    hit5: float
    ndcg5: float
    mrr_answerable: float
    p1_answerable: float
    hit5_answerable: float
    ndcg5_answerable: float


def score_query(ranked: Sequence[str], relevant: Collection[str]) -> QueryScore:
    """Scores one ranked answer against the relevant usernames.

    Only the top 10 count (the metrics are @10 or less). A username repeated in
    the ranking earns its gain once, so a buggy method cannot push nDCG above 1.
    """
    wanted = set(relevant)
    hits: list[int] = []  # 1-based ranks of relevant users, first occurrence only
    seen: set[str] = set()
    for rank, user in enumerate(ranked[:CUTOFF], start=1):
        if user in wanted and user not in seen:
            hits.append(rank)
        seen.add(user)
    rr = 1.0 / hits[0] if hits else 0.0
    p1 = 1.0 if hits and hits[0] == 1 else 0.0
    hit5 = 1.0 if hits and hits[0] <= 5 else 0.0
    dcg = math.fsum(1.0 / math.log2(rank + 1) for rank in hits if rank <= 5)
    ideal = math.fsum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), 5) + 1))
    ndcg5 = dcg / ideal if ideal > 0 else 0.0
    return QueryScore(rr=rr, p1=p1, hit5=hit5, ndcg5=ndcg5)


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Linear-interpolation percentile (numpy's default), so results match common tools."""
    if not sorted_values:
        return 0.0
    position = pct / 100.0 * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def bootstrap_ci(
    values: Sequence[float],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 95.0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; the fixed seed makes reruns identical."""
    if not values or resamples <= 0:
        return (0.0, 0.0)
    rng = random.Random(seed)
    means = sorted(_mean(rng.choices(values, k=len(values))) for _ in range(resamples))
    tail = (100.0 - level) / 2.0
    return (percentile(means, tail), percentile(means, 100.0 - tail))


def summarize(
    scores: Sequence[QueryScore],
    answerable: Sequence[bool],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> MethodSummary:
    """Aggregates per-query scores: means over all queries and over answerable ones.

    `answerable[i]` says whether a relevant user of query i had posted before it
    was asked. Values are rounded to 4 decimals; an empty set gives zeros.
    """
    if len(scores) != len(answerable):
        raise ValueError(f"{len(scores)} scores but {len(answerable)} answerable flags")
    reachable = [score for score, flag in zip(scores, answerable) if flag]
    rrs = [score.rr for score in scores]
    low, high = bootstrap_ci(rrs, resamples=resamples, seed=seed)
    return MethodSummary(
        mrr=round(_mean(rrs), _DIGITS),
        mrr_ci=[round(low, _DIGITS), round(high, _DIGITS)],
        p1=round(_mean([s.p1 for s in scores]), _DIGITS),
        hit5=round(_mean([s.hit5 for s in scores]), _DIGITS),
        ndcg5=round(_mean([s.ndcg5 for s in scores]), _DIGITS),
        mrr_answerable=round(_mean([s.rr for s in reachable]), _DIGITS),
        p1_answerable=round(_mean([s.p1 for s in reachable]), _DIGITS),
        hit5_answerable=round(_mean([s.hit5 for s in reachable]), _DIGITS),
        ndcg5_answerable=round(_mean([s.ndcg5 for s in reachable]), _DIGITS),
    )

"""Metrics of the evaluation protocol, against numbers worked out by hand."""

from __future__ import annotations

import json
import math

import pytest

from whoknows.evaluation.metrics import QueryScore, bootstrap_ci, percentile, score_query, summarize

LOG2_3 = math.log2(3)  # discount at rank 2
LOG2_5 = math.log2(5)  # discount at rank 4


def test_first_relevant_at_rank_one() -> None:
    assert score_query(["a", "b", "c"], {"a"}) == QueryScore(rr=1.0, p1=1.0, hit5=1.0, ndcg5=1.0)


def test_first_relevant_at_rank_three() -> None:
    score = score_query(["x", "y", "a", "z"], ["a"])
    assert score.rr == pytest.approx(1 / 3)
    assert (score.p1, score.hit5) == (0.0, 1.0)
    assert score.ndcg5 == pytest.approx(0.5)  # 1/log2(4) over an ideal of 1


def test_relevant_at_rank_six_counts_for_mrr_only() -> None:
    score = score_query(["b", "c", "d", "e", "f", "a"], {"a"})
    assert score.rr == pytest.approx(1 / 6)
    assert (score.p1, score.hit5, score.ndcg5) == (0.0, 0.0, 0.0)


def test_relevant_at_rank_eleven_or_absent_scores_zero() -> None:
    eleven = [f"u{i}" for i in range(10)] + ["a"]
    assert score_query(eleven, {"a"}) == QueryScore(0.0, 0.0, 0.0, 0.0)
    assert score_query(["b", "c"], {"a"}) == QueryScore(0.0, 0.0, 0.0, 0.0)
    assert score_query([], {"a"}) == QueryScore(0.0, 0.0, 0.0, 0.0)
    assert score_query(["a"], set()) == QueryScore(0.0, 0.0, 0.0, 0.0)


def test_ndcg_with_two_relevant() -> None:
    score = score_query(["x", "a", "y", "b", "z"], {"a", "b"})
    expected = (1 / LOG2_3 + 1 / LOG2_5) / (1 + 1 / LOG2_3)
    assert score.ndcg5 == pytest.approx(expected)
    assert score.ndcg5 == pytest.approx(0.6509, abs=1e-4)
    assert score.rr == 0.5
    assert score_query(["b", "a"], {"a", "b"}).ndcg5 == pytest.approx(1.0)


def test_ideal_dcg_is_capped_at_five() -> None:
    relevant = {f"r{i}" for i in range(8)}
    assert score_query([f"r{i}" for i in range(5)], relevant).ndcg5 == pytest.approx(1.0)


def test_repeated_user_earns_once() -> None:
    score = score_query(["a", "a"], {"a", "b"})
    assert score.ndcg5 == pytest.approx(1 / (1 + 1 / LOG2_3))
    assert score.ndcg5 <= 1.0


def test_summary_means_over_all_and_answerable() -> None:
    scores = [
        score_query(["a"], {"a"}),  # rr 1
        score_query(["x", "y", "a"], {"a"}),  # rr 1/3
        score_query(["x"], {"a"}),  # rr 0
        score_query(["x", "a"], {"a"}),  # rr 1/2
    ]
    summary = summarize(scores, [True, True, False, True])
    assert summary["mrr"] == round((1 + 1 / 3 + 0 + 0.5) / 4, 4) == 0.4583
    assert summary["p1"] == 0.25
    assert summary["hit5"] == 0.75
    expected_ndcg = (1 + 0.5 + 0 + 1 / LOG2_3) / 4
    assert summary["ndcg5"] == round(expected_ndcg, 4)
    assert summary["mrr_answerable"] == round((1 + 1 / 3 + 0.5) / 3, 4) == 0.6111
    assert summary["p1_answerable"] == round(1 / 3, 4)
    assert summary["hit5_answerable"] == 1.0
    json.dumps(summary)  # plain JSON
    assert {"mrr", "mrr_ci", "p1", "hit5", "ndcg5", "mrr_answerable"} <= set(summary)


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    scores = [score_query(["x"] * (i % 4) + ["a"], {"a"}) for i in range(40)]
    flags = [True] * 40
    first = summarize(scores, flags)
    assert summarize(scores, flags) == first
    low, high = first["mrr_ci"]
    assert 0.0 <= low < first["mrr"] < high <= 1.0
    other = summarize(scores, flags, seed=7)
    assert other["mrr"] == first["mrr"] and other["mrr_ci"] != first["mrr_ci"]


def test_bootstrap_of_constant_values_is_a_point() -> None:
    assert bootstrap_ci([0.5] * 10) == (0.5, 0.5)
    assert bootstrap_ci([]) == (0.0, 0.0)


def test_percentile_interpolates() -> None:
    assert percentile([0.0, 1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([0.0, 10.0], 25) == 2.5
    assert percentile([0.0, 10.0], 100) == 10.0
    assert percentile([3.0], 2.5) == 3.0


def test_empty_query_set() -> None:
    summary = summarize([], [])
    assert summary["mrr_ci"] == [0.0, 0.0]
    assert all(value == 0.0 for key, value in summary.items() if key != "mrr_ci")


def test_no_answerable_queries() -> None:
    summary = summarize([score_query(["a"], {"a"})], [False])
    assert summary["mrr"] == 1.0 and summary["mrr_answerable"] == 0.0


def test_flags_must_match_scores() -> None:
    with pytest.raises(ValueError, match="1 scores but 2"):
        summarize([score_query(["a"], {"a"})], [True, False])

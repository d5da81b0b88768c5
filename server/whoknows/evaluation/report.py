"""The evaluation's results side by side: one row per query set, whoknows beside the three baselines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

BASELINES = ("popularity", "combmnz", "recent")


def table_rows(results: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A Markdown table: MRR@10 of each method (whoknows with its 95% interval), the ratio to the best
    baseline and the share of the cards' evidence on topic."""
    yield "| corpus | kind | queries | whoknows | popularity | combmnz | recent | ratio to best | evidence on topic |"
    yield "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    for result in results:
        for kind, block in result["by_kind"].items():
            methods = block["methods"]
            best = max(methods[m]["mrr"] for m in BASELINES)
            ours = methods["whoknows"]
            low, high = ours["mrr_ci"]
            ratio = f"{ours['mrr'] / best:.2f} ×" if best > 0 else "—"
            evidence = block["evidence"]
            yield (
                f"| {result['corpus']} | {kind} | {block['queries']} ({block['answerable']} answerable) "
                f"| **{ours['mrr']:.3f}** [{low:.3f}, {high:.3f}] "
                + " ".join(f"| {methods[m]['mrr']:.3f}" for m in BASELINES)
                + f" | {ratio} | {evidence['on_topic']:.3f} of {evidence['items']} |"
            )

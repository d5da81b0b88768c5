"""The benchmark's workspace: the `bench` preset of the demo generator, cached by scale and seed.

The bulk-export JSONL is what `whoknows import` reads; the summary beside it (JSON) keeps the topic
phrases and held-out questions, so a cached file does not have to be generated again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..demo import TopicTruth, WorkspaceSummary, generate

_SCALE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_scale(text: str) -> int:
    """'100k' -> 100000, '1M' -> 1000000, '2500' -> 2500."""
    match = _SCALE.match(text)
    if not match:
        raise ValueError(f"scale must be a number of posts like 100k or 1M, got {text!r}")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    posts = int(float(match.group(1)) * factor)
    if posts < 1_000:
        raise ValueError("scale must be at least 1000 posts")
    return posts


def label(posts: int) -> str:
    if posts % 1_000_000 == 0:
        return f"{posts // 1_000_000}M"
    if posts % 1_000 == 0:
        return f"{posts // 1_000}k"
    return str(posts)


@dataclass(frozen=True)
class Workspace:
    path: Path
    summary: WorkspaceSummary
    generate_seconds: float
    """0.0 when the cached file was used."""


def _summary_from(obj: dict[str, Any]) -> WorkspaceSummary:
    def tuples(d: dict[str, Any]) -> dict[str, Any]:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}

    topics = tuple(TopicTruth(**tuples(t)) for t in obj.pop("topics"))
    return WorkspaceSummary(topics=topics, **tuples(obj))


def cached_workspace(folder: Path, posts: int, seed: int) -> Workspace:
    """The generated workspace for (posts, seed), generated once into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"workspace-{label(posts)}-seed{seed}.jsonl"
    meta = path.with_suffix(".summary.json")
    if path.is_file() and meta.is_file():
        return Workspace(path, _summary_from(json.loads(meta.read_text(encoding="utf-8"))), 0.0)
    started = time.monotonic()
    partial = path.with_suffix(".partial")
    summary = generate(partial, preset="bench", posts=posts, seed=seed)
    os.replace(partial, path)
    # Written last: a summary beside the file means the file is complete.
    meta.write_text(json.dumps(dataclasses.asdict(summary)), encoding="utf-8")
    return Workspace(path, summary, time.monotonic() - started)

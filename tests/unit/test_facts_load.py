"""The store's bulk load of the facts table (`FactsTable.load`, used when the store opens) gives the table that
adding the same posts one by one gives: the same facts, threads and channel timelines, including a reply read
before its root and a root named by replies that never arrives."""

from __future__ import annotations

import random

from whoknows.core.facts import FactsTable

Row = tuple[str, str, str, str, int, bool, bool, bool, int, int]


def rows(seed: int) -> list[Row]:
    rng = random.Random(seed)
    out: list[Row] = []
    roots: list[str] = []
    for i in range(400):
        post_id = f"p{i:03d}"
        root = rng.choice(roots) if roots and rng.random() < 0.6 else ""
        if rng.random() < 0.05:
            root = f"p{i + 1 + rng.randrange(5):03d}"  # a reply read before its root (same millisecond, or clock skew)
        if rng.random() < 0.02:
            root = "missing-root"  # its root was never kept (deleted, or in a channel not indexed)
        if not root:
            roots.append(post_id)
        out.append((post_id, f"c{rng.randrange(4)}", f"u{rng.randrange(9)}", root, 1_000 + i * 10 + rng.randrange(30),
                    rng.random() < 0.3, rng.random() < 0.2, rng.random() < 0.1, rng.randrange(3), rng.randrange(2)))
    return out


def one_by_one(posts: list[Row]) -> FactsTable:
    table = FactsTable()
    for post_id, channel_id, user_id, root_id, at, question, asks, content_free, endorse, accept in posts:
        table.add(post_id, channel_id, user_id, root_id, at, question=question, asks=asks, content_free=content_free,
                  endorsements=endorse, accepts=accept)
    return table


def test_the_bulk_load_reads_back_as_adding_one_by_one() -> None:
    for seed in range(5):
        posts = rows(seed)
        loaded, added = FactsTable(), one_by_one(posts)
        loaded.load(iter(posts))
        ids = [p[0] for p in posts] + ["missing-root"]
        assert loaded.get(ids) == added.get(ids)
        assert loaded.replies(ids) == added.replies(ids)
        assert [loaded.alive(i) for i in ids] == [added.alive(i) for i in ids]
        for post_id in ids[::7]:
            assert loaded.following(post_id, within_ms=500, limit=20) == added.following(post_id, within_ms=500, limit=20)
        assert len(loaded) == len(added) == len(posts)

"""The tantivy engine on its own: the same analysis as Whoosh, hidden channels and the author filter,
operations on one post folded inside a batch, and an index on disk that survives a reopen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from whoknows.core.index import IndexedPost, index_exists, open_index
from whoknows.core.index.tantivy_engine import TantivyIndex
from whoknows.core.index.whoosh_engine import WhooshIndex


@pytest.fixture
def index() -> Iterator[TantivyIndex]:
    ix = TantivyIndex()
    ix.put(IndexedPost("p1", "town", "alice", "Postgres autovacuum never finishes"), replace=False)
    ix.put(IndexedPost("p2", "vault", "bob", "postgres replication password rotation"), replace=False)
    ix.put(IndexedPost("p3", "town", "bob", "kubernetes ingress timeouts"), replace=False)
    ix.commit()
    yield ix
    ix.close()


def found(ix: TantivyIndex, text: str, **options: object) -> list[str]:
    return sorted(h.post_id for h in ix.search(ix.terms(text), limit=10, **options))  # type: ignore[arg-type]


def test_terms_are_whooshs_terms() -> None:
    text = "How do I rotate the Postgres replication passwords without downtime?"
    whoosh = WhooshIndex()
    try:
        assert TantivyIndex().terms(text) == whoosh.terms(text) == ["rotat", "postgr", "replic", "password", "without", "downtim"]
    finally:
        whoosh.close()


def test_hidden_channels_are_masked_and_the_author_filter_keeps_the_score(index: TantivyIndex) -> None:
    assert found(index, "postgres") == ["p1", "p2"]
    assert found(index, "postgres", exclude_channels={"vault"}) == ["p1"]
    assert found(index, "postgres", exclude_channels={"vault", "town"}) == []
    assert found(index, "postgres", author="bob") == ["p2"]
    assert found(index, "ingress", author="alice") == [], "the filter never adds the author's other posts"
    plain = {h.post_id: h.score for h in index.search(["postgr"], limit=10)}
    filtered = {h.post_id: h.score for h in index.search(["postgr"], limit=10, author="bob")}
    assert filtered == {"p2": plain["p2"]}


def test_no_terms_or_no_room_finds_nothing(index: TantivyIndex) -> None:
    assert index.search([], limit=10) == []
    assert index.search(["postgr"], limit=0) == []


def test_operations_on_one_post_inside_a_batch_are_folded(index: TantivyIndex) -> None:
    index.put(IndexedPost("p4", "town", "carol", "terraform state lock"), replace=False)
    index.put(IndexedPost("p4", "town", "carol", "terraform plan drift"), replace=True)  # an edit before the commit
    index.put(IndexedPost("p1", "town", "alice", "vacuum tuning notes"), replace=True)
    index.delete("p2")
    index.put(IndexedPost("p5", "town", "dave", "helm chart"), replace=False)
    index.delete("p5")  # created and deleted inside the batch: never indexed
    index.commit()

    assert found(index, "terraform drift") == ["p4"] and found(index, "lock") == []
    assert found(index, "postgres") == [], "the edit replaced p1's text, the delete removed p2"
    assert found(index, "vacuum") == ["p1"] and found(index, "helm") == []
    assert index.stats().documents == 3


def test_document_frequencies_count_the_committed_posts(index: TantivyIndex) -> None:
    assert index.document_frequencies(["postgr", "ingress", "absent"]) == (3, {"postgr": 2, "ingress": 1, "absent": 0})


def test_an_index_on_disk_is_found_again_after_a_reopen(tmp_path: Path) -> None:
    folder = tmp_path / "index-tantivy"
    assert not index_exists("tantivy", folder)
    first = open_index("tantivy", folder)
    first.put(IndexedPost("p1", "town", "alice", "postgres autovacuum"), replace=False)
    first.commit()
    first.close()

    assert index_exists("tantivy", folder)
    again = TantivyIndex(folder)
    try:
        assert [h.post_id for h in again.search(["postgr"], limit=5)] == ["p1"]
        assert again.post_ids() == {"p1"} and again.stats().size_bytes > 0
    finally:
        again.close()


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown index engine"):
        open_index("elasticsearch")

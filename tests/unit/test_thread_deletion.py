"""Deleting a thread's root on Mattermost deletes its replies too, and reports only the root's deletion: the
replies must leave the store and the index with it (the soak found them left behind, answerable)."""

from __future__ import annotations

from pathlib import Path

from whoknows.core.events import ChannelUpdated, PostCreated, PostDeleted
from whoknows.service.repair import indexed_ids
from whoknows.storage.store import INDEX_DIR, open_store


def test_deleting_a_root_removes_its_replies_and_nothing_else(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.pipeline.apply([ChannelUpdated("c", "t", "town", "O"), PostCreated("root", "c", "u", "kafka lag?", 1),
                              PostCreated("r1", "c", "v", "kafka lag is the consumer", 2, root_id="root"),
                              PostCreated("r2", "c", "w", "kafka rebalancing too", 3, root_id="root"),
                              PostCreated("other", "c", "v", "kafka elsewhere", 4)])
        store.pipeline.flush()
        store.pipeline.apply([PostDeleted("root", 5)])
        store.pipeline.flush()
        conv = store.conversation
        assert [p for p in ("root", "r1", "r2", "other") if conv.has_post(p)] == ["other"]
        assert {h.post_id for h in store.index.search(store.index.terms("kafka"), limit=10)} == {"other"}
    assert indexed_ids(tmp_path / INDEX_DIR) == {"other"}


def test_deleting_a_reply_leaves_its_thread(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.pipeline.apply([ChannelUpdated("c", "t", "town", "O"), PostCreated("root", "c", "u", "kafka lag?", 1),
                              PostCreated("r1", "c", "v", "kafka lag is the consumer", 2, root_id="root")])
        store.pipeline.apply([PostDeleted("r1", 5)])
        store.pipeline.flush()
        assert store.conversation.has_post("root") and not store.conversation.has_post("r1")

"""The disk holding the index fills up while the bot commits: it says so once, keeps answering from the last
good index, loses nothing, and makes the waiting posts searchable by itself once space is back.

No root tricks: the index's files are opened on /dev/full, where every write fails with ENOSPC as on a full disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from whoknows.service.backfill import Checkpointed
from whoknows.core.events import ChannelUpdated, PostCreated, PostDeleted
from whoknows.service.runtime import Runtime
from whoknows.app.settings import load_from, manifest_path
from whoknows.storage.state import Checkpoint, ServiceState
from whoknows.storage.store import INDEX_DIR, open_store

DEV_FULL = Path("/dev/full")
pytestmark = pytest.mark.skipif(not DEV_FULL.exists(), reason="needs /dev/full")

Switch = Callable[[bool], None]


@pytest.fixture(params=["writes", "creates"])
def disk_full(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Switch]:
    """`disk_full(True)` fills the disk: new index files fail on their first write, or cannot even be created."""
    real = FileStorage.create_file
    full = False
    opened: list[BinaryIO] = []  # Whoosh drops the files it could not close: closed here, not by the garbage collector

    def create_file(self: FileStorage, name: str, *args: Any, **kwargs: Any) -> Any:
        if not full:
            return real(self, name, *args, **kwargs)
        if request.param == "creates":
            raise OSError(errno.ENOSPC, "No space left on device", name)
        opened.append(DEV_FULL.open("wb"))
        return StructFile(opened[-1], name=name)

    def switch(on: bool) -> None:
        nonlocal full
        full = on

    monkeypatch.setattr(FileStorage, "create_file", create_file)
    yield switch
    for file in opened:
        with contextlib.suppress(OSError):
            file.close()


def found(store: Any, words: str) -> set[str]:
    return {h.post_id for h in store.index.search(store.index.terms(words), limit=10)}


def test_a_failed_commit_keeps_the_last_good_index_and_is_retried(tmp_path: Path, disk_full: Switch) -> None:
    with open_store(tmp_path) as store:
        store.pipeline.apply([ChannelUpdated("c", "t", "town", "O"), PostCreated("p1", "c", "u", "grafana panels", 1)])
        store.pipeline.flush()
        disk_full(True)
        store.pipeline.apply([PostCreated("p2", "c", "u", "kafka lag", 2), PostDeleted("p1", 3)])
        with pytest.raises(OSError) as failed:
            store.pipeline.flush()
        assert failed.value.errno == errno.ENOSPC
        assert found(store, "grafana kafka") == {"p1"}  # the last good index still answers
        assert store.conversation.has_post("p2") and not store.conversation.has_post("p1")
        with pytest.raises(OSError):
            store.pipeline.flush()  # still full: fails the same way, no lock left behind
        disk_full(False)
        store.pipeline.flush()
        assert found(store, "grafana kafka") == {"p2"}  # nothing was lost while the disk was full


def settings() -> Any:
    return load_from(manifest_path(), {"WHOKNOWS_MATTERMOST_URL": "http://mm.invalid", "WHOKNOWS_BOT_TOKEN": "t" * 26,
                                       "WHOKNOWS_HTTP_PORT": "0"})


async def test_the_bot_reports_a_full_disk_once_and_catches_up_when_space_is_back(
        tmp_path: Path, disk_full: Switch, caplog: pytest.LogCaptureFixture) -> None:
    rt = Runtime(settings(), tmp_path)
    with open_store(tmp_path) as store:
        rt.attach(store, ServiceState.in_folder(tmp_path), {"u"})  # no Mattermost here to introduce the author
        rt.writer.disk_retry_s = 0.05
        loop = asyncio.create_task(rt.writer.run())
        try:
            await rt.submit([ChannelUpdated("c", "t", "town", "O"), PostCreated("p1", "c", "u", "grafana panels", 1)])
            await rt.drained()
            disk_full(True)
            with caplog.at_level(logging.INFO, "whoknows"):
                for i in range(3):  # a backfill goes on while the disk is full
                    await rt.submit([PostCreated(f"k{i}", "c", "u", f"kafka lag {i}", 2 + i), Checkpointed("c", Checkpoint(9, f"k{i}", False))])
                    await rt.drained()
                assert found(rt.store, "kafka grafana") == {"p1"}  # answers from the last good index meanwhile
                assert rt.state.checkpoint("c") == Checkpoint(0, "", False)  # not past posts that are not searchable
                errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
                assert len(errors) == 1 and errors[0].exc_info is None, [r.getMessage() for r in errors]
                assert str(tmp_path / INDEX_DIR) in errors[0].getMessage() and "full" in errors[0].getMessage()
                disk_full(False)  # the admin frees some space: no new event needed
                await rt.wait_for(lambda: rt.writer.unwritable is None, 5.0)
            assert found(rt.store, "kafka") == {"k0", "k1", "k2"}
            assert rt.state.checkpoint("c") == Checkpoint(9, "k2", False)
            assert [r.levelno for r in caplog.records if "space" in r.getMessage()] == [logging.ERROR, logging.INFO]
        finally:
            loop.cancel()
            with pytest.raises(asyncio.CancelledError):
                await loop
            rt.state.close()
            await rt.rest.close()

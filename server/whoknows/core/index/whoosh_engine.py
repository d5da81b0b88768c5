"""The embedded text index engine: Whoosh (the `whoosh-reloaded` distribution, pinned), on disk or in RAM.

One writer at a time (Whoosh allows one per index): writes are buffered and applied in one writer per
commit, and the searcher is refreshed after each commit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from .analysis import ANALYZER  # first: it checks the installed whoosh before anything imports it
from .base import Hit, IndexStats
from .buffered import BufferedIndex

from whoosh import fields, index, query, scoring  # noqa: E402
from whoosh.filedb.filestore import FileStorage, RamStorage  # noqa: E402

SCHEMA = fields.Schema(
    post_id=fields.ID(stored=True, unique=True),
    channel_id=fields.ID(),
    user_id=fields.ID(),
    text=fields.TEXT(analyzer=ANALYZER, phrase=False),
)


TIER_WIDTH = 8
"""Segments of one size tier (the same power of ten of documents) are merged once there are this many."""


class PrivateRamStorage(RamStorage):  # type: ignore[misc]
    """RAM storage whose scratch files go to a folder of its own.

    Whoosh's RamStorage puts a writer's scratch files in <tmp>/MAIN.tmp, shared by every RAM index of
    every process, and a finishing writer deletes them: two evaluations at once crash each other.
    """

    def __init__(self) -> None:
        super().__init__()
        self.scratch = tempfile.mkdtemp(prefix="whoknows-ram-")

    def temp_storage(self, name: str | None = None) -> Any:
        return FileStorage(os.path.join(self.scratch, name or "scratch.tmp")).create()

    def close_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def _tier(segment: Any) -> int:
    return len(str(max(1, segment.doc_count_all())))


def merge_tiers(writer: Any, segments: list[Any]) -> list[Any]:
    """Merge policy: merges only segments of about the same size, the smallest full tier first.

    Frequent small commits (live posts, the evaluation's per-query commits) would otherwise pile up
    segments, and every search pays for each one. Merging a small commit into a large segment (as a
    "keep at most N segments" policy does) rewrites that segment on the hot path: seconds per batch.
    Here a post is merged about once per tier, and a live commit only ever merges small segments.
    """
    from whoosh.reading import SegmentReader

    tiers: dict[int, list[Any]] = {}
    for seg in segments:
        tiers.setdefault(_tier(seg), []).append(seg)
    for tier in sorted(tiers):
        group = tiers[tier]
        if len(group) >= TIER_WIDTH:
            for seg in group:
                writer.add_reader(SegmentReader(writer.storage, writer.schema, seg))
            return [seg for seg in segments if _tier(seg) != tier]
    return segments


class _View:
    """A searcher and the channel masks made for it (document numbers belong to one searcher).

    `users` counts the searches holding it; a view replaced by a commit is closed by whoever lets it go last.
    """

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.channel_docs: dict[str, frozenset[int]] = {}
        self.masks: dict[frozenset[str], set[int]] = {}
        self.users = 0
        self.replaced = False

    def mask(self, hidden: frozenset[str]) -> set[int]:
        """The documents of the hidden channels, as a set Whoosh can mask with directly.

        Built from per-channel document sets cached for the current searcher: a query mask (an OR over
        channel terms) would be rebuilt by walking every hidden post on every request.
        """
        mask = self.masks.get(hidden)
        if mask is None:
            mask = set()
            for channel in hidden:
                docs = self.channel_docs.get(channel)
                if docs is None:
                    docs = frozenset(self.searcher.docs_for_query(query.Term("channel_id", channel)))
                    self.channel_docs[channel] = docs
                mask.update(docs)
            if len(self.masks) >= 64:
                self.masks.clear()
            self.masks[hidden] = mask
        return mask


class WhooshIndex(BufferedIndex):
    """PostIndex on Whoosh. `path=None` keeps the index in RAM (tests, evaluation)."""

    def __init__(self, path: Path | None = None, *, limitmb: int = 256) -> None:
        self._ram: PrivateRamStorage | None = None
        if path is None:
            self._ram = PrivateRamStorage()
            self._ix = self._ram.create_index(SCHEMA)
        else:
            path.mkdir(parents=True, exist_ok=True)
            storage = FileStorage(str(path))
            self._ix = storage.open_index() if index.exists_in(str(path)) else storage.create_index(SCHEMA)
        self._path = path
        self._limitmb = limitmb
        super().__init__()
        self._views = threading.Lock()
        self._view = _View(self._ix.searcher(weighting=scoring.BM25F()))

    def commit(self) -> None:
        if not self._pending:
            return
        # The write lock is held here, not by the writer: when making or committing a writer fails (a full
        # disk), Whoosh keeps its lock, and every later commit would fail with LockError until a restart.
        lock = self._ix.lock("WRITELOCK")
        if not lock.acquire(False):
            raise index.LockError("the index is locked by another writer")
        try:
            writer = self._ix.writer(limitmb=self._limitmb, _lk=False)
            try:
                for post_id, (op, item) in self._pending.operations.items():
                    if item is None:
                        writer.delete_by_term("post_id", post_id)
                        continue
                    doc = {"post_id": item.post_id, "channel_id": item.channel_id, "user_id": item.user_id, "text": item.text}
                    if op == "update":
                        writer.update_document(**doc)
                    else:
                        writer.add_document(**doc)
                writer.commit(mergetype=merge_tiers)
            except BaseException:
                if not writer.is_closed:
                    with contextlib.suppress(Exception):  # closes its files; the first failure is the one to report
                        writer.cancel()
                raise
        finally:
            lock.release()
        self._pending.clear()
        self._refresh()

    def _refresh(self) -> None:
        # A new searcher, not Searcher.refresh(): in Whoosh 2.7 refresh() fails when the old reader was
        # empty, and after a merge its reader reuse can keep counting the merged-away segments.
        # The commit may run on the writer's thread while requests search: the new view is swapped in whole
        # (searcher and the masks made for it), and the one it replaces is closed once no search holds it,
        # however many commits happen during one slow search.
        fresh = _View(self._ix.searcher(weighting=scoring.BM25F()))
        with self._views:
            old, self._view = self._view, fresh
            old.replaced = True
            unused = old.users == 0
        if unused:
            old.searcher.close()

    @contextlib.contextmanager
    def _held(self) -> Iterator[_View]:
        """The current view, kept open until the caller is done with it."""
        with self._views:
            view = self._view
            view.users += 1
        try:
            yield view
        finally:
            with self._views:
                view.users -= 1
                last = view.replaced and view.users == 0
            if last:
                view.searcher.close()

    def document_frequencies(self, terms: Collection[str]) -> tuple[int, dict[str, int]]:
        with self._held() as view:
            s = view.searcher
            return s.doc_count(), {t: s.doc_frequency("text", t) for t in terms}

    def search(
        self,
        terms: Sequence[str],
        *,
        limit: int,
        exclude_channels: Collection[str] = (),
        author: str | None = None,
    ) -> list[Hit]:
        if not terms:
            return []
        q = query.Or([query.Term("text", t) for t in dict.fromkeys(terms)])
        flt = query.Term("user_id", author) if author else None
        with self._held() as view:  # one searcher for the whole search, whatever a commit swaps meanwhile
            mask = view.mask(frozenset(exclude_channels)) if exclude_channels else None
            results = view.searcher.search(q, limit=limit, mask=mask, filter=flt)
            stored = view.searcher.stored_fields
            return [Hit(stored(docnum)["post_id"], float(score)) for docnum, score in results.items()]

    def stats(self) -> IndexStats:
        size = 0
        if self._path is not None:
            size = sum(f.stat().st_size for f in self._path.iterdir() if f.is_file())
        with self._held() as view:
            return IndexStats(view.searcher.doc_count(), len(self._ix._segments()), size)

    def close(self) -> None:
        self._view.searcher.close()
        self._ix.close()
        if self._ram is not None:
            self._ram.close_scratch()


def index_exists(path: Path) -> bool:
    return path.is_dir() and index.exists_in(os.fspath(path))


def read_post_ids(path: Path) -> set[str]:
    """Every post id in the index on disk (start-up repair compares them with the store)."""
    ix = index.open_dir(str(path))
    try:
        with ix.reader() as reader:
            return {str(fields["post_id"]) for fields in reader.all_stored_fields()}
    finally:
        ix.close()

"""Keeping the text index true to the conversation store across crashes, and rebuilding both from Mattermost.

The store commits before the index does, so a process killed between the two leaves posts the index lacks
(a re-read page changes nothing in the store, so they would never come back). At start-up `prepare`
compares the two and repairs the index from the store (all of it when the index was made with another text
analysis, core.index.analysis.ANALYSIS_VERSION); when the index is missing or cannot be read it
wipes every post known locally and forgets the backfill cursors, so the start reads the whole history
from Mattermost again before anything is served from a wrong index. `whoknows rebuild` does that on demand.
People's choices (opt-outs, "Not helpful") and channel switches are kept.
"""

from __future__ import annotations

import gc
import logging
import os
import warnings
from enum import Enum
from pathlib import Path

from .. import messages
from ..core.index import DEFAULT_ENGINE, ENGINES, IndexedPost, IndexServer, IndexUnavailable, drop_index, engine_folder, entry, open_index, outdated_analysis
from ..core.pipeline import MAX_INDEXED_CHARS
from ..errors import StartupError
from ..core.changes import changed_posts
from ..storage.state import ServiceState
from ..storage.store import Store, has_store, open_conversation, open_state, open_store_database, refuse_newer_store, store_url_from_env

log = logging.getLogger("whoknows.rebuild")
STOPPED_CLEANLY = "stopped-cleanly"
"""A marker file: present only between a clean stop and the next start."""
_DERIVED_TABLES = ("posts", "reactions", "activity")


class Outcome(Enum):
    FRESH = "fresh"
    INTACT = "intact"
    REPAIRED = "repaired"
    WIPED = "wiped"


class DamagedIndex(Exception):
    """The index on disk cannot be read (its text names what Whoosh raised)."""


def indexed_ids(path: Path, engine: str = DEFAULT_ENGINE, server: IndexServer | None = None) -> set[str]:
    """Every post id in the index on disk; DamagedIndex when it cannot be read."""
    read = entry(engine).post_ids
    with warnings.catch_warnings():
        # Whoosh leaves a file open when it cannot parse it; it is closed here, once the failure is dropped.
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return read(path, server)
        except IndexUnavailable as error:  # the server is away, the index may be fine: never wiped for that
            raise StartupError(messages.index_unavailable(str(error))) from None
        except Exception as error:  # any failure to read means the same: damaged
            failure = type(error).__name__
        gc.collect()
    raise DamagedIndex(failure)


def wipe(data: Path, server: IndexServer | None = None, store_url: str | None = None) -> None:
    """Drops the index (also the `server`'s, when given) and every post in the store, and forgets the backfill
    cursors (never in a newer folder or store). `store_url` None: $WHOKNOWS_STORE_URL, as open_store."""
    store_url = store_url_from_env(os.environ) if store_url is None else store_url
    refuse_newer_store(data, store_url)
    for engine in ENGINES:
        drop_index(engine, data / engine_folder(engine), server)
    if has_store(data, store_url):
        conversation = open_conversation(data, store_url)
        try:
            conversation.begin()
            for table in _DERIVED_TABLES:
                conversation.db.execute(f"DELETE FROM {table}")
            conversation.commit()
        finally:
            conversation.close()
    state = open_state(data, store_url)
    try:
        state.db.execute("DELETE FROM checkpoints")
    finally:
        state.close()
    (data / STOPPED_CLEANLY).unlink(missing_ok=True)


def _repair(data: Path, indexed: set[str], clean: bool, engine: str, server: IndexServer | None, store_url: str) -> bool:
    """Puts the store's posts the index lacks, drops what the store no longer has; after a crash also
    re-puts edited posts (an edit may have reached the store only). True when something changed."""
    db = open_store_database(data, store_url)
    try:
        rows = db.execute("SELECT post_id, channel_id, user_id, message, edit_at > create_at FROM posts").fetchall()
        known = {r[0] for r in rows}
        if clean and known == indexed:
            return False
        index = open_index(engine, data / engine_folder(engine), server)
        changed = False
        try:
            for post_id in indexed - known:
                index.delete(post_id)
                changed = True
            for post_id, channel_id, user_id, message, edited in rows:
                if post_id not in indexed or (edited and not clean):
                    index.put(IndexedPost(post_id, channel_id, user_id, message[:MAX_INDEXED_CHARS]), replace=post_id in indexed)
                    changed = True
            index.commit()
        finally:
            index.close()
        if changed:
            log.warning("the index missed %d post(s) and kept %d deleted one(s); repaired from the store",
                        len(known - indexed), len(indexed - known))
        return changed
    finally:
        db.close()


def prepare(data: Path, engine: str = DEFAULT_ENGINE, server: IndexServer | None = None, store_url: str | None = None) -> Outcome:
    """Run before the store is opened: makes the index agree with the store, or wipes both. A folder (or store) written by
    a newer whoknows is refused first (SchemaTooNew), untouched: not even its clean-stop mark is taken.
    `store_url` None: $WHOKNOWS_STORE_URL, as open_store."""
    store_url = store_url_from_env(os.environ) if store_url is None else store_url
    refuse_newer_store(data, store_url)
    # A shared index (in a server, with a shared store) may have been written by another process since this one
    # stopped, and that one may have crashed: this folder's mark says nothing about it.
    clean = (data / STOPPED_CLEANLY).exists() and not (store_url and entry(engine).shared)
    (data / STOPPED_CLEANLY).unlink(missing_ok=True)
    if not has_store(data, store_url):
        return Outcome.FRESH
    index_dir = data / engine_folder(engine)
    remade = False
    try:
        indexed = indexed_ids(index_dir, engine, server)
    except DamagedIndex as error:  # missing or damaged: the answer is the same
        if not store_url:
            log.warning("the index in %s is missing or damaged (%s); rebuilding it from Mattermost", index_dir, error)
            wipe(data, server, store_url)
            return Outcome.WIPED
        # The PostgreSQL store did not go with the folder: it holds every post, so the index is made again from it.
        log.warning("the index in %s is missing or damaged (%s); indexing every post again from the store", index_dir, error)
        drop_index(engine, index_dir, server)
        indexed, clean, remade = set(), False, True
    old = None if remade else outdated_analysis(index_dir)
    if old is not None:  # the terms mean something else now: index every post again, from the store
        log.warning("the index in %s was made with text analysis version %d; indexing its posts again from the store",
                    index_dir, old)
        drop_index(engine, index_dir, server)
        indexed = set()
    changed = _repair(data, indexed, clean and old is None, engine, server, store_url)
    return Outcome.REPAIRED if changed else Outcome.INTACT


def take_over(store: Store, state: ServiceState, data: Path, engine: str, server: IndexServer | None, store_url: str) -> None:
    """A follower taking the lead (blocking): the leader it replaces may have died between the store's commit and the
    shared index's. Every post changed after the last change the index is known to hold (the writer's mark) is put
    into the index again, or dropped from it: a few batches, whatever the store's size. Without a mark, or when the
    change log no longer reaches back to it, the whole index is compared with the store (`prepare`)."""
    mark = state.indexed_through()
    db = store.conversation.db
    ids = changed_posts(db, mark) if mark is not None else None
    if ids is None:
        prepare(data, engine, server, store_url)
        return
    found: dict[str, tuple[str, str, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update((r[0], (r[1], r[2], r[3])) for r in db.execute(
            f"SELECT post_id, channel_id, user_id, message FROM posts WHERE post_id IN ({','.join('?' * len(chunk))})", tuple(chunk)))
    for post_id in ids:
        if post_id in found:
            channel_id, user_id, message = found[post_id]
            store.index.put(IndexedPost(post_id, channel_id, user_id, message[:MAX_INDEXED_CHARS]), replace=True)
        else:
            store.index.delete(post_id)
    store.index.commit()
    log.info("took over: %d post(s) changed since the shared index's last known commit were indexed again", len(ids))


def mark_stopped(data: Path) -> None:
    """Called after a clean stop, once the index has been flushed and closed."""
    if data.is_dir():
        (data / STOPPED_CLEANLY).touch()


__all__ = ["DamagedIndex", "Outcome", "indexed_ids", "mark_stopped", "prepare", "take_over", "wipe"]

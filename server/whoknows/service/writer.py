"""The one task that owns the pipeline: applies queued events in small batches, then makes them searchable.

Everything that changes the index goes through `submit` (live events, backfill pages, use cases' events);
`drained` waits until all of it is applied and searchable, so nobody sleeps to wait for work. While the
index cannot be written (its disk is full, or its server, OpenSearch, cannot be reached) the store keeps the
posts and the commit is retried; checkpoints and live posts wait for the commit that makes their posts
searchable. The index commit itself runs on a worker thread while this task waits for it, so requests are
answered during a commit; the store's changes are made on the event loop.

In a replica that does not lead (several processes on one PostgreSQL store) the writer relays instead: its events go
to the leader through the store's inbox (service.relay), and a batch counts as applied once the leader has applied it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeAlias

from .. import messages
from ..core.events import Event, PostCreated, PostDeleted, PostEdited, UserUpdated
from ..core.index import IndexUnavailable
from ..storage.state import ServiceState
from ..storage.store import Store
from .backfill import Checkpointed
from .relay import Inbox


class Live:
    """A root post that just arrived live: after it is applied, it may get an inline suggestion."""

    def __init__(self, post: PostCreated) -> None:
        self.post = post


Item: TypeAlias = Event | Checkpointed | Live
log = logging.getLogger("whoknows.runtime")

DISK_RETRY_S = 10.0
"""While the index cannot be written, how often the bot tries its commit again (without waiting for new events)."""


def changed(items: Sequence[Item]) -> list[str]:
    """The posts that these items delete or edit."""
    return [i.post_id for i in items if isinstance(i, (PostDeleted, PostEdited))]


def no_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def passing(error: BaseException) -> bool:
    """A commit failure that passes by itself: the disk full, or the index's server away."""
    return no_space(error) or isinstance(error, IndexUnavailable)


class Writer:
    def __init__(self, store: Store, state: ServiceState, index_dir: Path, *, batch_events: int, batch_milliseconds: int,
                 lookup_users: Callable[[Sequence[str]], Awaitable[list[UserUpdated]]], known_users: set[str]) -> None:
        self.store = store
        self.state = state
        self.index_dir = index_dir
        self.batch_events = batch_events
        self.batch_milliseconds = batch_milliseconds
        self._lookup_users = lookup_users
        self.known_users = known_users
        self.on_live: Callable[[PostCreated], None] = lambda post: None
        """Called with each live root post once it is searchable (the inline suggestion decides there)."""
        self.on_applied: Callable[[Sequence[Event]], None] = lambda events: None
        """Called with every applied batch's events (the learning threads observe them)."""
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._submitted = 0
        self._applied = 0
        self._changed = asyncio.Condition()
        self.unwritable: Exception | None = None
        """Set while the index cannot be written (no space, its server away): the store keeps the posts, the commit is retried."""
        self.disk_retry_s = DISK_RETRY_S
        self._held: list[Item] = []
        """Checkpoints and live posts waiting for the index commit that makes their posts searchable."""
        self.withheld = store.engine.withheld
        """Posts whose deletion or edit was submitted: left out of every answer until their batch is searchable."""
        self._unreleased: list[str] = []
        self._thread_of: dict[str, list[str]] = {}
        """The replies withheld with a root whose deletion was heard, released with it."""
        self.relay: Inbox | None = None
        """Set while another process leads: batches go to its inbox instead of the pipeline (None: this one applies)."""

    async def submit(self, items: Sequence[Item]) -> None:
        """Queues items for the pipeline's owner, introducing unknown authors first. A deletion or an edit is withheld
        at once, before anything else can answer (an answer never waits for the batch)."""
        heard = changed(items)
        for item in items:  # a root's deletion takes its thread with it: its replies are withheld too
            if isinstance(item, PostDeleted):
                replies = self.store.conversation.facts.replies([item.post_id]).get(item.post_id, [])
                self._thread_of.setdefault(item.post_id, []).extend(replies)
                heard += replies
        self.withheld.hear(heard)
        authors = {i.user_id for i in items if isinstance(i, PostCreated) and i.user_id not in self.known_users}
        if authors:
            await self.introduce_all(sorted(authors))
        for item in items:
            self._submitted += 1
            self._queue.put_nowait(item)

    @property
    def submitted(self) -> int:
        """How many items have been submitted so far (heard, whether applied or not)."""
        return self._submitted

    async def introduce(self, user_id: str) -> None:
        """Makes sure a person is known by name (a caller who never posted), applied before returning."""
        if user_id and user_id not in self.known_users:
            await self.introduce_all([user_id])
            await self.drained()

    async def introduce_all(self, user_ids: Sequence[str]) -> None:
        events = await self._lookup_users(user_ids)
        self.known_users.update(u.user_id for u in events)
        for event in events:
            self._submitted += 1
            self._queue.put_nowait(event)

    def learned_user(self, user_id: str) -> None:
        self.known_users.add(user_id)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                batch: list[Item] = [await asyncio.wait_for(self._queue.get(), self.disk_retry_s if self.unwritable else None)]
            except TimeoutError:
                batch = []  # the index could not be written and nothing new came: try the commit again
            deadline = loop.time() + self.batch_milliseconds / 1000
            while batch and len(batch) < self.batch_events:
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), max(0.0, deadline - loop.time())))
                except TimeoutError:
                    break
            try:
                if self.relay is not None:
                    await self._relay(self.relay, batch)
                else:
                    await self._apply(batch)
            except Exception:  # the index or the state failed: log it, keep the loop (the next batch may succeed)
                log.exception("error %s: cannot apply a batch of %d item(s)", uuid.uuid4().hex[:8], len(batch))
            self._applied += len(batch)
            async with self._changed:
                self._changed.notify_all()

    async def _apply(self, batch: list[Item]) -> None:
        events = [i for i in batch if not isinstance(i, (Checkpointed, Live))]
        pipeline = self.store.pipeline
        try:
            pipeline.apply(events)
        except Exception as error:  # one bad event never stops the loop: apply one by one, log the failing ones
            if not passing(error):  # (a full disk or an absent server fails the index commit, after the store's: the flush retries it)
                for event in events:
                    try:
                        pipeline.apply([event])
                    except Exception:
                        log.exception("error %s: cannot apply %r", uuid.uuid4().hex[:8], event)
        self._unreleased += self._releases(events)
        if not await self._flush():
            self._held += [i for i in batch if isinstance(i, (Checkpointed, Live))]
            self.on_applied(events)
            return
        self.withheld.applied(self._unreleased)
        self._unreleased = []
        log_of = self.store.conversation.changes
        if log_of is not None and log_of.last is not None and events:  # replicas: how far the shared index is known to be
            self.state.save_indexed_through(log_of.last)
        batch, self._held = [*self._held, *batch], []
        for item in batch:
            if isinstance(item, Checkpointed):
                self.state.save_checkpoint(item.channel_id, item.checkpoint)
            elif isinstance(item, Live):
                self.on_live(item.post)
        self.on_applied(events)  # the learning threads observe what was just applied (reactions, edits, deletions)

    def _releases(self, events: Sequence[Event]) -> list[str]:
        """The posts withheld for these events, to release once they are searchable (a deleted root's replies too)."""
        return changed(events) + [r for e in events if isinstance(e, PostDeleted) for r in self._thread_of.pop(e.post_id, [])]

    async def _relay(self, inbox: Inbox, batch: list[Item]) -> None:
        """Hands the batch's events to the leader and waits until it has applied them (or this process leads now,
        and applies the rest of its inbox itself). Checkpoints and live posts are the leader's: backfill and inline
        suggestions run there."""
        events = [i for i in batch if not isinstance(i, (Checkpointed, Live))]
        ids = inbox.put(events) if events else []
        while ids and self.relay is not None and not inbox.applied(ids):
            await asyncio.sleep(inbox.poll_s)
        self.withheld.applied(self._releases(events))

    async def _flush(self) -> bool:
        """Makes what was applied searchable; False while the index cannot be written (said once, then retried).
        The index commit (analysis, segment writes, a new searcher) runs on a thread of its own, so requests
        keep being answered meanwhile; the store's transaction was committed on the loop just before."""
        try:
            await asyncio.to_thread(self.store.pipeline.flush)
        except (OSError, IndexUnavailable) as error:
            if not passing(error):
                raise
            if self.unwritable is None:
                log.error("%s", messages.disk_full(self.index_dir, error.strerror or "") if isinstance(error, OSError)
                          else messages.index_server_away(str(error)))
            self.unwritable = error
            return False
        if self.unwritable is not None:
            was, self.unwritable = self.unwritable, None
            log.info("%s", messages.disk_space_back(self.index_dir) if isinstance(was, OSError) else messages.index_server_back())
        return True

    async def drained(self, timeout: float | None = 30.0) -> None:
        """Waits until everything submitted so far has been applied and is searchable (None: however long it takes)."""
        target = self._submitted
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self._applied >= target), timeout)

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Waits until `condition` holds after some applied batch (for tests: no sleeping)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

"""History backfill and catch-up: a channel's posts read over REST and applied through the one pipeline.

Resumable: after each page the cursor goes through the pipeline queue as a checkpoint, saved only once
the page before it is applied. A channel whose history is done is later caught up with `since`, which
also brings edits and deletions made while the bot was away. Mattermost's `since` answer holds at most
SINCE_LIMIT changes, in no set order: a fuller answer may have left some out, so that channel's whole
history is read again, and what it no longer has is deleted here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from ..adapters.mattermost_events import decode_post
from ..adapters.mattermost_rest import SINCE_LIMIT, MattermostRest
from ..core.events import Event, PostDeleted
from ..storage.state import Checkpoint, ServiceState

log = logging.getLogger("whoknows.backfill")


@dataclass(frozen=True, slots=True)
class Checkpointed:
    """Queued after a page's events: the pipeline's owner saves it once they are applied."""

    channel_id: str
    checkpoint: Checkpoint


Submit = Callable[[Sequence[Event | Checkpointed]], Awaitable[None]]


def page_posts(page: dict[str, Any]) -> list[dict[str, Any]]:
    """A posts answer ({order, posts}) as a list, oldest first."""
    posts: dict[str, dict[str, Any]] = page.get("posts") or {}
    ordered = [posts[i] for i in page.get("order") or [] if i in posts]
    seen = {p["id"] for p in ordered}
    ordered += [p for i, p in posts.items() if i not in seen]
    return sorted(ordered, key=lambda p: (int(p.get("create_at") or 0), str(p.get("id"))))


def _updated(post: dict[str, Any]) -> int:
    return int(post.get("update_at") or 0)


def _older_than(page: dict[str, Any]) -> str:
    """The cursor of the next, older page, from the page's own posts (its `order`): the answer also carries the other
    posts of their threads, older roots and newer replies, which are applied but must not move the cursor (an older
    root skipped the history between; a newer reply on the last page asked for the same page forever).

    Mattermost pages by "CreateAt < the given post's": posts sharing the oldest post's millisecond would be skipped,
    so the next page starts after the newest post of an older millisecond and re-reads the tied ones (applying a post
    twice changes nothing). Empty when the page has no posts of its own: the history is done."""
    posts: dict[str, dict[str, Any]] = page.get("posts") or {}
    own = sorted((posts[i] for i in page.get("order") or [] if i in posts), key=lambda p: (int(p.get("create_at") or 0), str(p.get("id"))))
    if not own:
        return ""
    oldest = int(own[0].get("create_at") or 0)
    newer = [p for p in own if int(p.get("create_at") or 0) > oldest]
    return str(newer[0]["id"] if newer else own[0]["id"])


class Backfill:
    def __init__(self, rest: MattermostRest, state: ServiceState, submit: Submit, bot_id: str, *,
                 kept: Callable[[str], Collection[str]] = lambda channel_id: (),
                 live_since: Callable[[str], int] = lambda channel_id: 0) -> None:
        """`kept`: the ids of the posts kept here for a channel. `live_since`: how far live events already queued have
        brought the channel (0: they do not follow it), so the checkpoint this queues never falls behind them."""
        self.rest = rest
        self.state = state
        self.submit = submit
        self.bot_id = bot_id
        self.kept = kept
        self.live_since = live_since
        self.checkpoint: Checkpoint | None = None
        """The channel's checkpoint as this run left it queued, once its history is done (where live events go on)."""

    def _events(self, posts: Sequence[dict[str, Any]]) -> list[Event | Checkpointed]:
        return [e for p in posts for e in decode_post(p, self.bot_id)]

    async def channel(self, channel_id: str, label: str = "") -> int:
        """Brings one channel up to date; returns how many posts were read."""
        cp = self.state.checkpoint(channel_id)
        if cp.history_done and cp.since > 0:
            return await self._catch_up(channel_id, cp, label or channel_id)
        return await self._history(channel_id, cp, label or channel_id)

    async def _done(self, channel_id: str, items: Sequence[Event | Checkpointed], since: int, history_before: str) -> None:
        self.checkpoint = Checkpoint(max(since, self.live_since(channel_id)), history_before, True)
        await self.submit([*items, Checkpointed(channel_id, self.checkpoint)])

    async def _catch_up(self, channel_id: str, cp: Checkpoint, label: str) -> int:
        posts = page_posts(await self.rest.posts_since(channel_id, cp.since))
        since = max([cp.since, *map(_updated, posts)])
        changed = sum(1 for p in posts if _updated(p) > cp.since)
        if changed >= SINCE_LIMIT:
            log.warning("caught up %s: %d posts changed since the last run, as many as one answer holds; reading its "
                        "whole history again", label, changed)
            return await self._read_again(channel_id, cp, since, label)
        await self._done(channel_id, self._events(posts), since, cp.history_before)
        if posts:
            log.info("caught up %s: %d posts changed since the last run", label, len(posts))
        return len(posts)

    async def _read_again(self, channel_id: str, cp: Checkpoint, since: int, label: str) -> int:
        """Every page of the channel's history, newest first; then what is kept here but no longer there was deleted
        while we were away (history pages leave deleted posts out). No checkpoint until the end: an interrupted
        run starts over."""
        kept = set(self.kept(channel_id))  # before reading: a post that arrives meanwhile is not judged by pages read before it
        seen: set[str] = set()
        before, total = "", 0
        while posts := page_posts(page := await self.rest.posts_before(channel_id, before)):
            if not before:
                since = max([since, *map(_updated, posts)])
            seen.update(str(p.get("id")) for p in posts)
            total += len(posts)
            await self.submit(self._events(posts))
            if not (cursor := _older_than(page)):  # only thread context: nothing older is left
                break
            before = cursor
        gone = sorted(kept - seen)
        await self._done(channel_id, [PostDeleted(post_id, since) for post_id in gone], since, cp.history_before)
        log.info("caught up %s from its whole history: %d posts read, %d deleted while away", label, total, len(gone))
        return total

    async def _history(self, channel_id: str, cp: Checkpoint, label: str) -> int:
        before, since, total = cp.history_before, cp.since, 0
        while posts := page_posts(page := await self.rest.posts_before(channel_id, before)):
            if not before:  # the newest page: changes after it arrive live, or by catch-up next time
                since = max([since, *map(_updated, posts)])
            total += len(posts)
            if not (cursor := _older_than(page)):  # only thread context: nothing older is left
                await self.submit(self._events(posts))
                break
            before = cursor
            await self.submit([*self._events(posts), Checkpointed(channel_id, Checkpoint(since, before, False))])
            log.info("backfill %s: %d posts so far", label, total)
        await self._done(channel_id, [], since, before)
        log.info("backfill %s: done, %d posts", label, total)
        return total

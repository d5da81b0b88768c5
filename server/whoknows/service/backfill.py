"""History backfill and catch-up: a channel's posts read over REST and applied through the one pipeline.

Resumable: after each page the cursor goes through the pipeline queue as a checkpoint, saved only once
the page before it is applied. A channel whose history is done is later caught up with `since`, which
also brings edits and deletions made while the bot was away.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..adapters.mattermost_events import decode_post
from ..adapters.mattermost_rest import MattermostRest
from ..core.events import Event
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


class Backfill:
    def __init__(self, rest: MattermostRest, state: ServiceState, submit: Submit, bot_id: str) -> None:
        self.rest = rest
        self.state = state
        self.submit = submit
        self.bot_id = bot_id

    def _events(self, posts: Sequence[dict[str, Any]]) -> list[Event | Checkpointed]:
        return [e for p in posts for e in decode_post(p, self.bot_id)]

    async def channel(self, channel_id: str, label: str = "") -> int:
        """Brings one channel up to date; returns how many posts were read."""
        cp = self.state.checkpoint(channel_id)
        if cp.history_done and cp.since > 0:
            return await self._catch_up(channel_id, cp, label)
        return await self._history(channel_id, cp, label)

    async def _catch_up(self, channel_id: str, cp: Checkpoint, label: str) -> int:
        posts = page_posts(await self.rest.posts_since(channel_id, cp.since))
        since = max([cp.since, *(int(p.get("update_at") or 0) for p in posts)])
        await self.submit([*self._events(posts), Checkpointed(channel_id, Checkpoint(since, cp.history_before, True))])
        if posts:
            log.info("caught up %s: %d posts changed since the last run", label or channel_id, len(posts))
        return len(posts)

    async def _history(self, channel_id: str, cp: Checkpoint, label: str) -> int:
        before, since, total = cp.history_before, cp.since, 0
        while True:
            page = await self.rest.posts_before(channel_id, before)
            posts = page_posts(page)
            if not posts:
                break
            if not before:  # the newest page: changes after it arrive live, or by catch-up next time
                since = max([since, *(int(p.get("update_at") or 0) for p in posts)])
            # Mattermost pages by "CreateAt < the given post's": posts sharing the oldest post's millisecond
            # would be skipped, so the next page starts after the newest post of an older millisecond and
            # re-reads the tied ones (applying a post twice changes nothing).
            oldest = int(posts[0].get("create_at") or 0)
            newer = [p for p in posts if int(p.get("create_at") or 0) > oldest]
            before = newer[0]["id"] if newer else posts[0]["id"]
            total += len(posts)
            await self.submit([*self._events(posts), Checkpointed(channel_id, Checkpoint(since, before, False))])
            log.info("backfill %s: %d posts so far", label or channel_id, total)
        await self.submit([Checkpointed(channel_id, Checkpoint(since, before, True))])
        log.info("backfill %s: done, %d posts", label or channel_id, total)
        return total

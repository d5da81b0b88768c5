"""Bot posts that must land exactly once, whatever the server answers.

Mattermost can fail a write that did no harm to retry (a reply racing a person's reply into a brand-new thread gets
500, `threads_pkey` duplicate key, and nothing is saved) or that did land (the answer was lost). So each such post
carries an idempotency key in its props: after a 5xx the thread is searched for the key, and only a post that is not
there is sent again, a little later. Nothing is lost to a passing failure, nothing is posted twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from ..errors import ChatError
from .ports import JSON, Services

log = logging.getLogger("whoknows.posting")
ATTEMPTS = 4
RETRY_S = 0.25
"""The wait before the second try; it grows by as much each time (the racing write needs a moment to settle)."""


def bot_post_with(posts: Sequence[JSON], bot_id: str, prop: str, value: str) -> JSON | None:
    """The bot's live post among `posts` that carries this idempotency key."""
    for post in posts:
        props = post.get("props") or {}
        if post.get("user_id") == bot_id and not post.get("delete_at") and isinstance(props, dict) and props.get(prop) == value:
            return post
    return None


async def reply_once(svc: Services, channel_id: str, message: str, *, root_id: str, prop: str, value: str) -> JSON:
    """Replies in the thread of `root_id` once: retried after a 5xx, unless the reply is found there by its key."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await svc.chat.create_post(channel_id, message, root_id=root_id, props={prop: value})
        except ChatError as error:
            if error.status < 500 or attempt == ATTEMPTS:
                raise
            log.warning("a reply under %s failed with HTTP %d (try %d of %d); looking for it before trying again",
                        root_id, error.status, attempt, ATTEMPTS)
        landed = bot_post_with(await svc.chat.thread(root_id), svc.presence.bot_id, prop, value)
        if landed is not None:
            return landed
        await asyncio.sleep(RETRY_S * attempt)
    raise AssertionError("unreachable")


__all__ = ["ATTEMPTS", "bot_post_with", "reply_once"]

"""Bot mode: a websocket that stays open and carries nothing is noticed, and what it did not bring is read over REST.

After a Mattermost restart the bot's new connection can be accepted, greeted ("hello") and kept alive by pings, and
still receive no event at all: without this the bot would stay deaf until its own restart. Every `every_s`, one
REST call per team lists the bot's channels with the time of each one's last post. A post made between the two
previous looks (so at least `every_s` ago) in an indexed channel whose checkpoint follows the stream, and newer than
anything the stream brought there, is a post the stream did not deliver: the connection is replaced and every
channel caught up. (Only posts made between two looks count, so a busy channel, whose newest post is always a
moment old, is judged by an older one, and a channel's own creation time is never taken for a post.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .. import messages
from ..adapters.mattermost_rest import MattermostError, MattermostRest
from ..app.ports import Presence
from ..storage.state import Checkpoint

log = logging.getLogger("whoknows.runtime")

EVERY_S = 10.0
"""How often the channel list is looked at: a post the stream has not brought after one to two of these is missed.
(One REST call per team each time; at 30 s a deaf stream after a Mattermost restart went unnoticed for up to 90 s
after the bot's own start, and the soak's catch-up window is 90 s.)"""


class StreamWatch:
    def __init__(self, rest: MattermostRest, presence: Presence, follows: dict[str, Checkpoint],
                 renew: Callable[[], Awaitable[None]], *, every_s: float | None = None) -> None:
        self.rest, self.presence, self.follows = rest, presence, follows
        self.renew = renew
        """Replaces the connection and catches every channel up (the runtime's)."""
        self.every_s = EVERY_S if every_s is None else every_s
        self.renewed = 0
        self._seen: dict[str, tuple[int | None, int]] = {}
        """Channel id -> its last post time at the look before the previous one (None: not seen then), and at the previous."""

    async def missed(self) -> list[str]:
        """The names of the indexed channels with a post the stream has not brought (empty: it is keeping up)."""
        p, out = self.presence, []
        for team_id in list(p.teams):
            for channel in await self.rest.my_channels(team_id):
                cid, last = str(channel.get("id", "")), int(channel.get("last_post_at") or 0)
                older, before = self._seen[cid] if cid in self._seen else (None, None)
                self._seen[cid] = (before, last)
                followed = self.follows.get(cid)
                if (older is not None and before is not None and before > older and cid in p.indexed
                        and followed is not None and followed.since < before):
                    out.append(str(channel.get("name") or cid))
        return out

    async def run(self) -> None:
        await self.presence.backfilled.wait()
        try:
            await self.missed()  # the first look only takes note of where each channel is
        except (MattermostError, OSError) as error:
            log.debug("stream check: %s", type(error).__name__)
        while True:
            await asyncio.sleep(self.every_s)
            try:
                missed = await self.missed()
            except (MattermostError, OSError) as error:  # Mattermost is away: the websocket's own retries cover that
                log.debug("stream check: %s", type(error).__name__)
                continue
            if missed:
                log.warning("%s", messages.stream_deaf(missed))
                self.renewed += 1
                await self.renew()


__all__ = ["StreamWatch"]

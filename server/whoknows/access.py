"""Which channels a person can read, asked of Mattermost and cached briefly.

Public channels of the teams they belong to, plus the private channels (among those the bot indexes)
they are a member of. Membership events clear a person's entry at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from .adapters.mattermost_rest import MattermostRest
from .core.events import ChannelUpdated


class ReadableChannels:
    def __init__(self, rest: MattermostRest, channels: Mapping[str, ChannelUpdated], teams: Callable[[], list[str]], ttl_s: float) -> None:
        self.rest = rest
        self.channels = channels
        self.teams = teams
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def forget(self, user_id: str | None = None) -> None:
        if user_id is None:
            self._cache.clear()
        else:
            self._cache.pop(user_id, None)

    async def of(self, user_id: str) -> frozenset[str]:
        hit = self._cache.get(user_id)
        now = time.monotonic()
        if hit and now - hit[0] < self.ttl_s:
            return hit[1]
        teams = self.teams()
        member_of = await asyncio.gather(*(self.rest.is_team_member(t, user_id) for t in teams))
        my_teams = {t for t, ok in zip(teams, member_of) if ok}
        readable = {c.channel_id for c in self.channels.values() if c.type == "O" and c.team_id in my_teams}
        private = [c.channel_id for c in self.channels.values() if c.type == "P" and c.team_id in my_teams]
        members = await asyncio.gather(*(self.rest.channel_member(c, user_id) for c in private))
        readable |= {c for c, m in zip(private, members) if m is not None}
        result = frozenset(readable)
        self._cache[user_id] = (now, result)
        return result

"""Which channels a person can read, asked of Mattermost and cached briefly; who is a channel admin.

Public channels of the teams they belong to, plus the private channels (among those the bot indexes)
they are a member of. Membership events clear a person's entry at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..clock import Clock
from ..core.events import ChannelUpdated


class Membership(Protocol):
    """What the check asks the chat server (the REST adapter implements it)."""

    async def is_team_member(self, team_id: str, user_id: str) -> bool: ...

    async def channel_member(self, channel_id: str, user_id: str) -> dict[str, Any] | None: ...


class ReadableChannels:
    """The permission check (app.ports.Permissions)."""

    def __init__(self, rest: Membership, channels: Mapping[str, ChannelUpdated], teams: Callable[[], list[str]], ttl_s: float,
                 clock: Clock) -> None:
        self.rest = rest
        self.channels = channels
        self.teams = teams
        self.ttl_ms = ttl_s * 1000
        self.clock = clock
        self._cache: dict[str, tuple[int, frozenset[str]]] = {}

    def forget(self, user_id: str | None = None) -> None:
        if user_id is None:
            self._cache.clear()
        else:
            self._cache.pop(user_id, None)

    async def of(self, user_id: str) -> frozenset[str]:
        hit = self._cache.get(user_id)
        now = self.clock()
        if hit and 0 <= now - hit[0] < self.ttl_ms:
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

    async def is_channel_admin(self, channel_id: str, user_id: str) -> bool:
        member = await self.rest.channel_member(channel_id, user_id) or {}
        return "channel_admin" in str(member.get("roles", "")).split() or bool(member.get("scheme_admin"))

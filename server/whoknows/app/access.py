"""Which channels a person can read, asked of Mattermost and cached briefly; who is a channel admin.

Bot mode: public channels of the teams they belong to, plus the private channels (among those the bot indexes)
they are a member of. Plugin mode: the server's own read check (`can_read`) for every channel the bot knows.
Membership events clear a person's entry at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from ..clock import Clock
from ..core.events import ChannelUpdated


CHECKS_AT_ONCE = 16
"""How many read checks run at once when a person's channels are asked of the server."""


class Membership(Protocol):
    """What the check asks the chat server (the REST adapter implements it)."""

    async def is_team_member(self, team_id: str, user_id: str) -> bool: ...

    async def channel_member(self, channel_id: str, user_id: str) -> dict[str, Any] | None: ...

    async def users(self, user_ids: Sequence[str]) -> list[dict[str, Any]]: ...


class ReadableChannels:
    """The permission check (app.ports.Permissions)."""

    def __init__(self, rest: Membership, channels: Mapping[str, ChannelUpdated], teams: Callable[[], list[str]], ttl_s: float,
                 clock: Clock, can_read: Callable[[str, str], Awaitable[bool]] | None = None) -> None:
        self.rest = rest
        self.can_read = can_read
        """When set (plugin mode), the server's own check for (user, channel) decides, channel by channel."""
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
        if self.can_read is not None:
            result = await self._asked(user_id)
            self._cache[user_id] = (now, result)
            return result
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

    async def _asked(self, user_id: str) -> frozenset[str]:
        assert self.can_read is not None
        check, limit = self.can_read, asyncio.Semaphore(CHECKS_AT_ONCE)
        known = [c.channel_id for c in self.channels.values() if c.type in ("O", "P")]

        async def one(channel_id: str) -> bool:
            async with limit:
                return await check(user_id, channel_id)

        answers = await asyncio.gather(*(one(c) for c in known))
        return frozenset(c for c, ok in zip(known, answers) if ok)

    async def is_channel_admin(self, channel_id: str, user_id: str) -> bool:
        member = await self.rest.channel_member(channel_id, user_id) or {}
        return "channel_admin" in str(member.get("roles", "")).split() or bool(member.get("scheme_admin"))

    async def is_system_admin(self, user_id: str) -> bool:
        found = await self.rest.users([user_id])
        return bool(found) and "system_admin" in str(found[0].get("roles", "")).split()


class TeamScoped:
    """The permission check narrowed to one team's channels (bot mode's slash command: the caller named in a request
    cannot be verified, so a reply shows nothing outside the team whose command token came with it)."""

    def __init__(self, inner: ReadableChannels, team_id: str) -> None:
        self.inner = inner
        self.team_id = team_id

    async def of(self, user_id: str) -> frozenset[str]:
        channels = self.inner.channels
        return frozenset(c for c in await self.inner.of(user_id) if c in channels and channels[c].team_id == self.team_id)

    async def is_channel_admin(self, channel_id: str, user_id: str) -> bool:
        return await self.inner.is_channel_admin(channel_id, user_id)

    def forget(self, user_id: str | None = None) -> None:
        self.inner.forget(user_id)

    async def is_system_admin(self, user_id: str) -> bool:
        return await self.inner.is_system_admin(user_id)

"""The production permission path, in process: `app.access.ReadableChannels` (bot mode's check, with its cache
and its time to live) asking a stand-in for Mattermost that answers from the store's memberships.

The bench's requests go through the slash command's own entry (`app.commands.command`: parse, permissions,
card, buttons), so what is timed is what the service does for a person, minus Mattermost's own HTTP round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..app.access import ReadableChannels
from ..app.ports import Presence
from ..clock import Clock
from ..core.events import ChannelUpdated
from ..storage.store import Store


class StoreMembership:
    """What Mattermost would answer about memberships, from the store (everyone belongs to every team)."""

    def __init__(self, store: Store) -> None:
        self.db = store.conversation.db

    async def is_team_member(self, team_id: str, user_id: str) -> bool:
        return True

    async def channel_member(self, channel_id: str, user_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT 1 FROM members WHERE channel_id=? AND user_id=?", (channel_id, user_id)).fetchone()
        return {"roles": "channel_user"} if row else None

    async def users(self, user_ids: Sequence[str]) -> list[dict[str, Any]]:
        return []


def production_permissions(store: Store, presence: Presence, ttl_s: float, clock: Clock) -> ReadableChannels:
    """The permission check the service uses, over the store's channels (filled into `presence`)."""
    for channel_id, team_id, name, kind in store.conversation.db.execute("SELECT channel_id, team_id, name, type FROM channels"):
        presence.channels[channel_id] = ChannelUpdated(channel_id, team_id, name, kind)
        presence.teams.setdefault(team_id, team_id)
    return ReadableChannels(StoreMembership(store), presence.channels, lambda: list(presence.teams), ttl_s, clock)

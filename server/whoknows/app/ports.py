"""What a use case is handed: a small typed services object instead of the whole runtime.

The service (the composition root) builds one `Services` at start-up from the real parts: the REST adapter
is the chat port, the runtime's pipeline owner is the event feed. Tests build one from fakes of the same
protocols. Nothing here does any work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..clock import Clock
from ..core.events import ChannelUpdated, Event
from ..storage.state import ServiceState
from ..storage.store import Store
from .settings import Settings

JSON = dict[str, Any]


class Chat(Protocol):
    """What the use cases send to (and read back from) the chat server. Failures raise errors.ChatError."""

    async def create_post(self, channel_id: str, message: str, *, root_id: str = "", props: JSON | None = None,
                          file_ids: Sequence[str] = ()) -> JSON: ...

    async def ephemeral(self, user_id: str, channel_id: str, message: str, *, root_id: str = "", props: JSON | None = None) -> None: ...

    async def patch_post(self, post_id: str, message: str) -> JSON: ...

    async def delete_post(self, post_id: str) -> None: ...

    async def pin(self, post_id: str, pinned: bool = True) -> None: ...

    async def posts_before(self, channel_id: str, before: str) -> JSON: ...

    async def thread(self, root_id: str) -> list[JSON]: ...

    async def upload_file(self, channel_id: str, name: str, content: bytes, mime: str) -> str: ...

    async def user_by_username(self, username: str) -> JSON | None:
        """The person with this username ({"id", "username", ...}), or None when the server knows nobody by it."""
        ...


class Permissions(Protocol):
    """Who may read and change what, as the chat server says (app.access.ReadableChannels)."""

    async def of(self, user_id: str) -> frozenset[str]:
        """The channels this person can read now."""
        ...

    async def is_channel_admin(self, channel_id: str, user_id: str) -> bool: ...

    async def is_system_admin(self, user_id: str) -> bool: ...

    def forget(self, user_id: str | None = None) -> None: ...


class Feed(Protocol):
    """The one event path: what a use case changes goes in as core events, applied by the one writer."""

    async def submit(self, items: Sequence[Event]) -> None: ...

    async def drained(self, timeout: float = 30.0) -> None:
        """Returns once everything submitted so far is applied and searchable."""
        ...

    async def introduce(self, user_id: str) -> None:
        """Makes sure a person is known by name (a caller who never posted), applied before returning."""
        ...


@dataclass
class Presence:
    """The bot's place in the workspace, filled in by the service as it discovers it."""

    bot_id: str = ""
    callback_url: str = ""
    """Where Mattermost reaches the bot's endpoints (known once the HTTP port is bound)."""
    teams: dict[str, str] = field(default_factory=dict)
    """team id -> name"""
    channels: dict[str, ChannelUpdated] = field(default_factory=dict)
    indexed: set[str] = field(default_factory=set)
    backfilled: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Services:
    settings: Settings
    store: Store
    state: ServiceState
    chat: Chat
    permissions: Permissions
    feed: Feed
    clock: Clock
    presence: Presence = field(default_factory=Presence)


__all__ = ["Chat", "Feed", "JSON", "Permissions", "Presence", "Services"]

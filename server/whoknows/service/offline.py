"""The use cases without a chat server: the local store stands in for Mattermost's view of who can read
what, events are applied at once, and posts are kept in a list. The benchmark runs the chat requests'
own functions over these (and tests may too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..app.ports import JSON, Services
from ..app.settings import Settings, load_from, manifest_path
from ..clock import Clock
from ..core.events import Event
from ..storage.state import ServiceState
from ..storage.store import Store


class StorePermissions:
    """Readable channels from the store's memberships (what Mattermost would say, as far as the store knows)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def of(self, user_id: str) -> frozenset[str]:
        return frozenset(self.store.conversation.readable_channels(user_id))

    async def is_channel_admin(self, channel_id: str, user_id: str) -> bool:
        return False

    async def is_system_admin(self, user_id: str) -> bool:
        return True  # whoever holds the data folder at a terminal runs the service

    def forget(self, user_id: str | None = None) -> None:
        return None


class DirectFeed:
    """Applies and flushes at once: nothing is queued, so `drained` has nothing to wait for."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def submit(self, items: Sequence[Event]) -> None:
        self.store.pipeline.apply(items)
        self.store.pipeline.flush()

    async def drained(self, timeout: float = 30.0) -> None:
        return None

    async def introduce(self, user_id: str) -> None:
        return None


class KeptPosts:
    """A chat port that keeps what would be posted."""

    def __init__(self) -> None:
        self.posts: list[JSON] = []

    async def create_post(self, channel_id: str, message: str, *, root_id: str = "", props: JSON | None = None,
                          file_ids: Sequence[str] = ()) -> JSON:
        post = {"id": f"kept{len(self.posts)}", "channel_id": channel_id, "message": message, "root_id": root_id, "props": props or {}}
        self.posts.append(post)
        return post

    async def ephemeral(self, user_id: str, channel_id: str, message: str, *, root_id: str = "", props: JSON | None = None) -> None:
        await self.create_post(channel_id, message, root_id=root_id, props=props)

    async def patch_post(self, post_id: str, message: str) -> JSON:
        return {"id": post_id, "message": message}

    async def delete_post(self, post_id: str) -> None:
        return None

    async def pin(self, post_id: str, pinned: bool = True) -> None:
        return None

    async def posts_before(self, channel_id: str, before: str) -> JSON:
        return {"order": [], "posts": {}}

    async def thread(self, root_id: str) -> list[JSON]:
        return []

    async def upload_file(self, channel_id: str, name: str, content: bytes, mime: str) -> str:
        return f"file{len(content)}"

    async def user_by_username(self, username: str) -> JSON | None:
        return None


def offline_settings(env: Mapping[str, str] | None = None) -> Settings:
    """plugin.json's defaults, with a placeholder server (nothing is called)."""
    return load_from(manifest_path(), {"WHOKNOWS_MATTERMOST_URL": "http://localhost:8065", "WHOKNOWS_BOT_TOKEN": "offline", **(env or {})})


def offline_services(store: Store, clock: Clock, *, settings: Settings | None = None, state: ServiceState | None = None,
                     **overrides: Any) -> Services:
    """Services over a local store; the caller closes `state` (a RAM one when not given)."""
    return Services(settings or offline_settings(), store, state or ServiceState(":memory:"), overrides.get("chat") or KeptPosts(),
                    overrides.get("permissions") or StorePermissions(store), overrides.get("feed") or DirectFeed(store), clock)

"""A thin, typed async client for the few Mattermost REST endpoints the bot uses (API v4, bearer token).

Answers stay raw JSON (`JSON` below): decoding into core events is `mattermost_events`' job.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias
from urllib.parse import quote

import httpx

from ..clock import Clock, wall_clock
from ..errors import ChatError
from .retry import MAX_ATTEMPTS, backoff_delay, retryable

log = logging.getLogger("whoknows.rest")
JSON: TypeAlias = dict[str, Any]
PAGE = 200
SINCE_LIMIT = 1000
"""The most changed posts Mattermost puts in one `since` answer for a channel (its store's LIMIT, in no set order):
an answer that holds this many may have left some out."""


class MattermostError(ChatError):
    def __init__(self, method: str, path: str, status: int, detail: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {detail[:300]}", status)


class MattermostRest:
    def __init__(self, url: str, token: str, *, timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, rng: random.Random | None = None,
                 clock: Clock = wall_clock) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=f"{self.url}/api/v4", headers={"Authorization": f"Bearer {token}"}, timeout=timeout, transport=transport
        )
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.retries = 0
        """How many requests were repeated after a 429 or 5xx (for the log and the tests)."""

    async def close(self) -> None:
        await self._client.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, repeated (bounded, with backoff) while Mattermost answers 429 or a passing 5xx."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = await self._client.request(method, path, **kwargs)
            except httpx.TransportError as error:  # no answer at all: a chat error like any other, never a trace
                raise MattermostError(method, path, 0, f"no answer from {self.url}: {type(error).__name__}") from error
            if not retryable(response.status_code, method) or attempt == MAX_ATTEMPTS:
                return response
            headers = response.headers
            delay = backoff_delay(attempt, headers.get("Retry-After"), headers.get("X-Ratelimit-Reset"), self._clock() / 1000, self._rng)
            log.warning("Mattermost answered %s to %s %s; retrying in %.1f s (%d of %d)",
                        response.status_code, method, path, delay, attempt, MAX_ATTEMPTS - 1)
            self.retries += 1
            await self._sleep(delay)
        raise AssertionError("unreachable")

    async def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = await self._send(method, path, json=body, params=params)
        if response.is_error:
            raise MattermostError(method, path, response.status_code, response.text)
        return response.json() if response.content else None

    async def exists(self, path: str) -> bool:
        """True on 200, False on 403/404 (how membership checks answer)."""
        response = await self._send("GET", path)
        if response.status_code in (403, 404):
            return False
        if response.is_error:
            raise MattermostError("GET", path, response.status_code, response.text)
        return True

    # -- people, teams, channels ------------------------------------------------------------

    async def me(self) -> JSON:
        result: JSON = await self.call("GET", "/users/me")
        return result

    async def users(self, user_ids: Sequence[str]) -> list[JSON]:
        result: list[JSON] = await self.call("POST", "/users/ids", list(user_ids)) if user_ids else []
        return result

    async def user_by_username(self, username: str) -> JSON | None:
        """The person with this username, or None when the server knows nobody by it."""
        response = await self._send("GET", f"/users/username/{quote(username, safe='')}")
        if response.status_code in (400, 403, 404):
            return None
        if response.is_error:
            raise MattermostError("GET", "/users/username", response.status_code, response.text)
        result: JSON = response.json()
        return result

    async def my_teams(self) -> list[JSON]:
        result: list[JSON] = await self.call("GET", "/users/me/teams")
        return result

    async def team(self, team_id: str) -> JSON:
        result: JSON = await self.call("GET", f"/teams/{team_id}")
        return result

    async def my_channels(self, team_id: str) -> list[JSON]:
        """Channels of the team the bot is a member of (public, private, and its DMs/GMs)."""
        result: list[JSON] = await self.call("GET", f"/users/me/teams/{team_id}/channels")
        return result

    async def _paged(self, path: str) -> list[JSON]:
        """Every item of a list endpoint that pages with `page` and `per_page`."""
        out: list[JSON] = []
        page = 0
        while True:
            batch: list[JSON] = await self.call("GET", path, params={"page": page, "per_page": PAGE})
            out.extend(batch)
            if len(batch) < PAGE:
                return out
            page += 1

    async def public_channels(self, team_id: str) -> list[JSON]:
        return await self._paged(f"/teams/{team_id}/channels")

    async def channel(self, channel_id: str) -> JSON:
        result: JSON = await self.call("GET", f"/channels/{channel_id}")
        return result

    async def join(self, channel_id: str, user_id: str) -> None:
        await self.call("POST", f"/channels/{channel_id}/members", {"user_id": user_id})

    async def channel_member(self, channel_id: str, user_id: str) -> JSON | None:
        response = await self._send("GET", f"/channels/{channel_id}/members/{user_id}")
        if response.status_code in (403, 404):
            return None
        if response.is_error:
            raise MattermostError("GET", "/channels/members", response.status_code, response.text)
        result: JSON = response.json()
        return result

    async def channel_members(self, channel_id: str) -> list[JSON]:
        return await self._paged(f"/channels/{channel_id}/members")

    async def is_team_member(self, team_id: str, user_id: str) -> bool:
        return await self.exists(f"/teams/{team_id}/members/{user_id}")

    # -- posts ------------------------------------------------------------------------------

    async def plugin_config(self) -> JSON:
        """Plugin mode only: the configuration the plugin last pushed ({plugin}/service/v1/config, LINK.md)."""
        response = await self._send("GET", f"{self.url}/v1/config")
        if response.is_error:
            raise MattermostError("GET", "/v1/config", response.status_code, response.text)
        result: JSON = response.json()
        return result

    async def can_read(self, user_id: str, channel_id: str) -> bool:
        """Plugin mode only: the server's own read check for that person ({plugin}/service/v1/can_read, LINK.md)."""
        response = await self._send("GET", f"{self.url}/v1/can_read", params={"user_id": user_id, "channel_id": channel_id})
        if response.is_error:
            raise MattermostError("GET", "/v1/can_read", response.status_code, response.text)
        return bool(response.json().get("can_read"))

    async def posts_before(self, channel_id: str, before: str) -> JSON:
        """One page of a channel's history, newest first, older than `before` (empty: the newest page)."""
        params: dict[str, Any] = {"per_page": PAGE}
        if before:
            params["before"] = before
        result: JSON = await self.call("GET", f"/channels/{channel_id}/posts", params=params)
        return result

    async def posts_since(self, channel_id: str, since: int) -> JSON:
        """Posts created, edited or deleted after `since` (ms), deleted ones included: at most SINCE_LIMIT of them, in no
        set order (plus the roots of changed replies), so a fuller answer is not the whole story."""
        result: JSON = await self.call("GET", f"/channels/{channel_id}/posts", params={"since": since})
        return result

    async def create_post(self, channel_id: str, message: str, *, root_id: str = "", props: JSON | None = None,
                          file_ids: Sequence[str] = ()) -> JSON:
        body: JSON = {"channel_id": channel_id, "message": message, "root_id": root_id}
        if props:
            body["props"] = props
        if file_ids:
            body["file_ids"] = list(file_ids)
        result: JSON = await self.call("POST", "/posts", body)
        return result

    async def ephemeral(self, user_id: str, channel_id: str, message: str, *, root_id: str = "", props: JSON | None = None) -> None:
        post: JSON = {"channel_id": channel_id, "message": message, "root_id": root_id, "props": props or {}}
        await self.call("POST", "/posts/ephemeral", {"user_id": user_id, "post": post})

    async def thread(self, root_id: str) -> list[JSON]:
        """A thread's posts (root included), as REST returns them."""
        result: JSON = await self.call("GET", f"/posts/{root_id}/thread")
        return list((result.get("posts") or {}).values())

    async def patch_post(self, post_id: str, message: str) -> JSON:
        result: JSON = await self.call("PUT", f"/posts/{post_id}/patch", {"message": message})
        return result

    async def delete_post(self, post_id: str) -> None:
        await self.call("DELETE", f"/posts/{post_id}")

    async def pin(self, post_id: str, pinned: bool = True) -> None:
        await self.call("POST", f"/posts/{post_id}/{'pin' if pinned else 'unpin'}")

    async def upload_file(self, channel_id: str, name: str, content: bytes, mime: str) -> str:
        """Uploads one file for a post in the channel; returns its file id (then pass it in `file_ids`)."""
        response = await self._send("POST", "/files", data={"channel_id": channel_id}, files={"files": (name, content, mime)})
        if response.is_error:
            raise MattermostError("POST", "/files", response.status_code, response.text)
        return str(response.json()["file_infos"][0]["id"])

    # -- slash commands ---------------------------------------------------------------------

    async def commands(self, team_id: str) -> list[JSON]:
        result: list[JSON] = await self.call("GET", "/commands", params={"team_id": team_id, "custom_only": "true"})
        return result

    async def create_command(self, command: JSON) -> JSON:
        result: JSON = await self.call("POST", "/commands", command)
        return result

    async def update_command(self, command: JSON) -> JSON:
        result: JSON = await self.call("PUT", f"/commands/{command['id']}", command)
        return result

    async def delete_command(self, command_id: str) -> None:
        await self.call("DELETE", f"/commands/{command_id}")

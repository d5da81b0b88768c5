"""The Mattermost websocket, kept alive: authenticates with the bot token, and after a drop reconnects with
`connection_id` and `sequence_number` so the server replays what was missed. When the server cannot
replay (the hello brings a new connection id: it restarted, or we were away too long), `on_gap` runs so
the caller can catch up over REST.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from ..clock import Clock, wall_clock
from .retry import backoff_delay

log = logging.getLogger("whoknows.websocket")

Frame = dict[str, Any]
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


class MattermostWebsocket:
    def __init__(
        self,
        url: str,
        token: str,
        on_frame: Callable[[Frame], Awaitable[None]],
        on_gap: Callable[[], Awaitable[None]],
        clock: Clock = wall_clock,
    ) -> None:
        self.url = url.replace("http://", "ws://", 1).replace("https://", "wss://", 1).rstrip("/") + "/api/v4/websocket"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._on_frame = on_frame
        self._on_gap = on_gap
        self.connection_id = ""
        self.next_seq = 0
        self.connected = asyncio.Event()
        self.resumed = 0
        """How many reconnects the server replayed (for the log and the tests)."""
        self.gaps = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._rng = random.Random()
        self._clock = clock

    async def run(self) -> None:
        """Reconnects forever, with jittered exponential backoff, never before the server's Retry-After."""
        attempt = 0
        async with aiohttp.ClientSession() as session:
            while True:
                hints: Any = {}
                try:
                    await self._session(session)
                    attempt = 0
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # a dropped or refused connection: try again, never give up
                    if isinstance(error, aiohttp.WSServerHandshakeError):
                        hints = error.headers or {}
                    failure = f"{type(error).__name__}: {error}"
                else:
                    failure = ""
                attempt += 1
                delay = backoff_delay(attempt, hints.get("Retry-After"), hints.get("X-Ratelimit-Reset"), self._clock() / 1000, self._rng,
                                      base=FIRST_BACKOFF_S, cap=MAX_BACKOFF_S)
                if failure:
                    log.warning("websocket: %s; reconnecting in %.1f s", failure, delay)
                self.connected.clear()
                await asyncio.sleep(delay)

    async def renew(self) -> None:
        """A new connection instead of this one, which is not resumed (its stream carried nothing: what it missed is
        read over REST by the caller)."""
        self.connection_id = ""
        await self.drop()

    async def drop(self) -> None:
        """Cuts the current connection as a network failure would (the loop reconnects)."""
        ws = self._ws
        if ws is not None and ws._response.connection is not None:
            ws._response.connection.transport.abort()  # type: ignore[union-attr]

    async def _session(self, session: aiohttp.ClientSession) -> None:
        params = {"connection_id": self.connection_id, "sequence_number": str(self.next_seq)} if self.connection_id else {}
        async with session.ws_connect(self.url, headers=self._headers, params=params, heartbeat=30.0) as ws:
            self._ws = ws
            log.debug("websocket connected (%s)", "resuming" if params else "new")
            try:
                first = True
                if params:  # resuming: the stream continues where it stopped
                    self.connected.set()
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    frame: Frame = json.loads(message.data)
                    if frame.get("event") == "hello":
                        await self._hello(frame)
                    elif first and params:
                        self.resumed += 1  # replayed without a new hello
                    first = False
                    if "seq" in frame:
                        self.next_seq = int(frame["seq"]) + 1
                    await self._on_frame(frame)
            finally:
                self._ws = None
        log.info("websocket closed; reconnecting")

    async def _hello(self, frame: Frame) -> None:
        new_id = str((frame.get("data") or {}).get("connection_id", ""))
        had = self.connection_id
        self.connection_id = new_id
        if had and new_id == had:
            self.resumed += 1
            log.info("websocket resumed connection %s", new_id)
        elif had:
            self.gaps += 1
            log.info("websocket could not resume (new connection %s); catching up over REST", new_id)
            await self._on_gap()
        self.connected.set()

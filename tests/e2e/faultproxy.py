"""A fault-injecting HTTP proxy in front of the real Mattermost server, for the end-to-end tests.

It forwards REST and websocket traffic unchanged, except that it can be told to answer matching requests
with an error instead: N times, or for T seconds (429 comes with Mattermost's rate-limit headers); or to let
the request reach the server and lose its answer (`landed`: the server acted, the caller sees the error).
It can also hold matching requests until the test lets them go (`hold`), to keep the bot at a known point.
Every request is recorded with its time, so a test can check when the bot came back.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade", "content-length", "host",
                         "proxy-connection", "te", "trailer"})


@dataclass
class Fault:
    """Answers requests whose path and query match `pattern` with `status`, while it lasts."""

    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    count: int | None = None
    until: float | None = None
    served: int = 0
    method: str | None = None
    """Only requests with this method (any when None)."""
    landed: bool = False
    """The request is forwarded (the server acts on it), and its answer replaced by the error."""

    def active(self, now: float) -> bool:
        return (self.count is None or self.served < self.count) and (self.until is None or now < self.until)


@dataclass
class Hold:
    """Matching requests wait until `release` is set; `arrived` is set by the first one."""

    pattern: re.Pattern[str]
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class Seen:
    at: float
    """time.monotonic() when the proxy answered."""
    method: str
    path: str
    query: str
    status: int
    retry_after: float = 0.0


@dataclass
class FaultProxy:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)
    _deaf: set[web.WebSocketResponse] = field(default_factory=set)

    async def start(self) -> str:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # -- telling it what to break ----------------------------------------------------------------

    def fail(self, pattern: str, status: int, *, count: int | None = None, seconds: float | None = None,
             headers: dict[str, str] | None = None, method: str | None = None, landed: bool = False) -> Fault:
        """Matching requests get `status`, `count` times or for `seconds` (the first active fault that matches wins)."""
        until = time.monotonic() + seconds if seconds is not None else None
        fault = Fault(re.compile(pattern), status, dict(headers or {}), count, until, method=method, landed=landed)
        self.faults.append(fault)
        return fault

    def rate_limit(self, pattern: str, *, retry_after: int = 1, count: int | None = None, seconds: float | None = None,
                   reset_only: bool = False) -> Fault:
        """429 the way Mattermost's rate limiter answers it (headers in whole seconds)."""
        headers = {"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": str(retry_after)}
        if not reset_only:
            headers["Retry-After"] = str(retry_after)
        return self.fail(pattern, 429, count=count, seconds=seconds, headers=headers)

    def hold(self, pattern: str) -> Hold:
        """Requests whose path and query match wait (then pass unchanged) until the hold's `release` is set."""
        held = Hold(re.compile(pattern))
        self.holds.append(held)
        return held

    async def cut_websockets(self) -> int:
        """Closes every websocket it carries, as a network cut would; returns how many."""
        sockets = list(self._sockets)
        for ws in sockets:
            await ws.close()
        return len(sockets)

    def deafen(self) -> int:
        """The websockets it carries now stay open and answer pings, but bring nothing more from the server (as a
        connection a restarting Mattermost accepted can); later connections are not affected. Returns how many."""
        self._deaf |= self._sockets
        return len(self._sockets)

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    # -- serving -----------------------------------------------------------------------------------

    def _fault(self, request: web.Request) -> Fault | None:
        now = time.monotonic()
        for fault in self.faults:
            if fault.active(now) and fault.pattern.search(request.path_qs) and fault.method in (None, request.method):
                fault.served += 1
                return fault
        return None

    def _record(self, request: web.Request, status: int, headers: dict[str, str] | None = None) -> None:
        hints = [float(v) for k, v in (headers or {}).items() if k.lower() in ("retry-after", "x-ratelimit-reset")]
        self.seen.append(Seen(time.monotonic(), request.method, request.path, request.query_string, status, max(hints, default=0.0)))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        for held in self.holds:
            if held.pattern.search(request.path_qs) and not held.release.is_set():
                held.arrived.set()
                await held.release.wait()
        fault = self._fault(request)
        if fault is not None:
            body = await request.read()
            if fault.landed:
                assert self._session is not None
                headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
                async with self._session.request(request.method, self.upstream + request.path_qs, headers=headers, data=body,
                                                 allow_redirects=False) as answer:
                    await answer.read()
            self._record(request, fault.status, fault.headers)
            return web.json_response({"id": "faultproxy", "message": "injected", "status_code": fault.status},
                                     status=fault.status, headers=fault.headers)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            async with self._session.request(request.method, self.upstream + request.path_qs, headers=headers,
                                             data=await request.read(), allow_redirects=False) as answer:
                body = await answer.read()
                out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
                self._record(request, answer.status)
                return web.Response(status=answer.status, body=body, headers=out)
        except aiohttp.ClientConnectionError:
            return self._unreachable(request)

    def _unreachable(self, request: web.Request) -> web.StreamResponse:
        """The server is down (restarting): the caller's connection closes without an answer, as it would."""
        self._record(request, 0)
        if request.transport is not None:
            request.transport.close()
        raise web.HTTPServiceUnavailable()  # not sent: the connection is already closed

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        url = self.upstream.replace("http://", "ws://", 1) + request.path_qs
        headers = {k: v for k, v in request.headers.items() if k.lower() == "authorization"}
        try:
            upstream = await self._session.ws_connect(url, headers=headers)
        except aiohttp.WSServerHandshakeError as error:
            self._record(request, error.status)
            return web.Response(status=error.status)
        except aiohttp.ClientConnectionError:
            return self._unreachable(request)
        self._record(request, 101)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)

        async def pump(source: aiohttp.ClientWebSocketResponse | web.WebSocketResponse,
                       sink: aiohttp.ClientWebSocketResponse | web.WebSocketResponse) -> None:
            async for message in source:
                if sink in self._deaf:
                    continue
                if message.type == aiohttp.WSMsgType.TEXT:
                    await sink.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                else:
                    break

        tasks = [asyncio.create_task(pump(upstream, ws)), asyncio.create_task(pump(ws, upstream))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await upstream.close()
            await ws.close()
            self._sockets.discard(ws)
            self._deaf.discard(ws)
        return ws


def assert_retry_after_honoured(seen: list[Seen]) -> int:
    """No request reached a path before the wait its last 429/503 hint asked for; returns how many hints were checked."""
    checked = 0
    for i, hinted in enumerate(seen):
        if not hinted.retry_after:
            continue
        later = [s for s in seen[i + 1:] if s.path == hinted.path]
        if later:
            checked += 1
            early = later[0].at - hinted.at
            assert early >= hinted.retry_after, f"{later[0].method} {hinted.path} came back after {early:.2f} s, told {hinted.retry_after:.0f} s"
    return checked

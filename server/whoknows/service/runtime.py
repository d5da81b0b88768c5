"""The composition root: builds the bot's parts from its settings and runs them as one process (discovery,
history backfill, the live websocket, the HTTP endpoints, the one writer, the learning threads).

Use cases get a small `Services` (app.ports), never this object; it is what tests and the CLI start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .. import messages
from ..adapters import http
from ..adapters import mattermost_events as mme
from ..adapters.mattermost_rest import MattermostError, MattermostRest
from ..adapters.mattermost_ws import MattermostWebsocket
from ..app import buttons, commands
from ..app.access import ReadableChannels
from ..app.digests import Digests
from ..app.learning import Learning
from ..app.ports import Presence, Services
from ..app.settings import Settings
from ..app.suggestions import suggest, wanted
from ..clock import Clock, wall_clock
from ..core.events import PostCreated, UserUpdated
from ..errors import StartupError
from ..storage.state import ServiceState
from ..storage.store import INDEX_DIR, Store, open_store
from .live import LiveEvents
from .registration import register_commands
from .repair import Outcome, mark_stopped, prepare
from .writer import Item, Writer, no_space

log = logging.getLogger("whoknows.runtime")

TOKEN_CHECK_S = 60.0
"""How often the bot checks that its token still works (a revoked token stops it)."""


class Runtime:
    def __init__(self, settings: Settings, data: Path, *, clock: Clock = wall_clock) -> None:
        self.settings = settings
        self.data = data
        self.clock = clock
        self.rest = MattermostRest(settings.mattermost_url, settings.bot_token, clock=self._now)
        self.presence = Presence()
        self.readable = ReadableChannels(self.rest, self.presence.channels, lambda: list(self.presence.teams),
                                         settings.readable_cache_seconds, self._now)
        self.http_port = 0
        self.tasks: list[asyncio.Task[None]] = []
        self._exits = ExitStack()
        self._http: http.Server | None = None
        self.store: Store
        self.state: ServiceState
        self.writer: Writer
        self.services: Services
        self.learning: Learning
        self.digests: Digests
        self.live: LiveEvents
        self.ws = MattermostWebsocket(settings.mattermost_url, settings.bot_token, self._on_frame, self._catch_up_all, clock=self._now)
        self.token_check_s = TOKEN_CHECK_S
        self.fatal: str | None = None
        """Why the bot must stop (its token was revoked); run_forever raises it as one clear message."""
        self._fatal = asyncio.Event()

    def _now(self) -> int:
        """The one clock, read through the services once they exist (tests may hand them another)."""
        return self.services.clock() if hasattr(self, "services") else self.clock()

    # -- composition ----------------------------------------------------------------------------

    def attach(self, store: Store, state: ServiceState, known_users: set[str] | None = None) -> None:
        """Builds the writer and the use cases over an open store and state (start does this; tests too)."""
        self.store, self.state = store, state
        s = self.settings
        self.writer = Writer(store, state, self.data / INDEX_DIR, batch_events=s.batch_events, batch_milliseconds=s.batch_milliseconds,
                             lookup_users=self._lookup_users, known_users=known_users if known_users is not None else set())
        self.services = Services(s, store, state, self.rest, self.readable, self.writer, self.clock, self.presence)
        self.learning = Learning(self.services)
        self.digests = Digests(self.services, self.learning)
        self.writer.on_live = self._on_live
        self.writer.on_applied = self.learning.notice
        self.live = LiveEvents(s, self.rest, state, self.writer, self.presence, self.readable, self.spawn)

    def use_cases(self) -> commands.UseCases:
        return commands.UseCases(self.services, self.learning, self.digests)

    async def _lookup_users(self, user_ids: Sequence[str]) -> list[UserUpdated]:
        try:
            users = await self.rest.users(user_ids)
        except MattermostError:
            log.exception("cannot look up %d people", len(user_ids))
            return []
        return [mme.decode_user(u) for u in users]

    def _on_live(self, post: PostCreated) -> None:
        if wanted(self.services, post, self.services.clock()):
            self.spawn(suggest(self.services, post))

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        engine = self.settings.index_engine
        if prepare(self.data, engine) is Outcome.WIPED:
            log.warning("reading the whole history again: /%s answers from what has been read so far", self.settings.command_trigger)
        store = self._exits.enter_context(open_store(self.data, opted_out_by_default=self.settings.opted_out_by_default,
                                                     extra_endorsing=frozenset({self.settings.learning_emoji}), engine=engine))
        store.site_url = self.settings.mattermost_url
        state = ServiceState.in_folder(self.data)
        self._exits.callback(state.close)
        self.attach(store, state, {r[0] for r in store.conversation.db.execute("SELECT user_id FROM users")})
        try:
            me = await self.rest.me()
        except (MattermostError, OSError) as error:
            raise StartupError(messages.cannot_reach(self.settings.mattermost_url, str(getattr(error, "status", type(error).__name__)))) from None
        self.presence.bot_id = me["id"]
        self.spawn(self.writer.run())
        self._http = await http.serve(self.settings.http_host, self.settings.http_port, http.Endpoints(
            command_token=self.state.command_token,
            command=lambda form: commands.command(self.use_cases(), form),
            action=lambda body: buttons.action(self.services, body),
            trigger=self.settings.command_trigger,
        ))
        self.http_port = self._http.port
        self.presence.callback_url = self.settings.callback(self.http_port)
        teams = await self.rest.my_teams()
        self.presence.teams.update({t["id"]: t["name"] for t in teams})
        await self.writer.submit([mme.decode_team(t) for t in teams])
        await register_commands(self.rest, self.state, self.settings, self.presence)
        await self.live.discover_channels()
        self.spawn(self.ws.run())
        self.spawn(self._watch_token())
        await asyncio.wait_for(self.ws.connected.wait(), 30.0)
        self.spawn(self.live.initial_backfill())
        self.spawn(self.learning.run())
        self.spawn(self.digests.run())
        log.info("whoknows is running as @%s on %d team(s), %d channel(s) indexed", me["username"], len(self.presence.teams),
                 len(self.presence.indexed))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.rest.close()
        try:
            self._exits.close()
        except OSError as error:
            if not no_space(error):
                raise
            log.error("stopping without a clean mark: %s", messages.disk_full(self.data / INDEX_DIR, error.strerror or ""))
            return  # the next start repairs the index from the store
        mark_stopped(self.data)

    async def run_forever(self) -> None:
        await self.start()
        try:
            await self._fatal.wait()
        finally:
            await self.stop()
        raise StartupError(self.fatal or "stopped")

    async def _watch_token(self) -> None:
        """A revoked token stops the bot with one message; a server that is down is only waited for."""
        while True:
            await asyncio.sleep(self.token_check_s)
            try:
                await self.rest.me()
            except MattermostError as error:
                if error.status == 401:
                    self.fatal = messages.cannot_reach(self.settings.mattermost_url, f"HTTP {error.status}")
                    log.error("stopping: %s", self.fatal)
                    self._fatal.set()
                    return
            except Exception as error:  # unreachable for now: the websocket loop reconnects when it is back
                log.debug("token check: %s", type(error).__name__)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.create_task(coro))

    async def _on_frame(self, frame: dict[str, Any]) -> None:
        await self.live.on_frame(frame)

    async def _catch_up_all(self) -> None:
        await self.live.catch_up_all()

    # -- what tests and the CLI look at ---------------------------------------------------------

    async def submit(self, items: Sequence[Item]) -> None:
        await self.writer.submit(items)

    async def drained(self, timeout: float = 30.0) -> None:
        await self.writer.drained(timeout)

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        await self.writer.wait_for(condition, timeout)

    @property
    def backfilled(self) -> asyncio.Event:
        return self.presence.backfilled

    @property
    def indexed(self) -> set[str]:
        return self.presence.indexed

    @property
    def channels(self) -> dict[str, Any]:
        return self.presence.channels

    @property
    def bot_id(self) -> str:
        return self.presence.bot_id

"""The composition root: builds the bot's parts from its settings and runs them as one process (discovery,
history backfill, the live websocket, the HTTP endpoints, the one writer, the learning threads).

Use cases get a small `Services` (app.ports), never this object; it is what tests and the CLI start.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import json
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .. import messages
from ..adapters import http, plugin_http
from ..adapters import mattermost_events as mme
from ..adapters.mattermost_rest import MattermostError, MattermostRest
from ..adapters.mattermost_ws import MattermostWebsocket
from ..app import buttons, commands
from ..app.access import ReadableChannels, TeamScoped
from ..app.digests import Digests
from ..app.learning import Learning
from ..app.ports import Presence, Services
from ..app.settings import Settings, manifest_path
from ..app.suggestions import suggest, wanted
from ..clock import Clock, wall_clock
from ..core.events import PostCreated, UserUpdated
from ..core.index import IndexServer, entry
from ..errors import StartupError, StopToRestart
from ..storage.state import ServiceState
from ..storage.store import INDEX_DIR, Store, open_state, open_store
from .decisions import Decisions
from .live import LiveEvents
from .plugin import PluginLink
from .relay import Inbox, drain
from .replicas import Replica
from .registration import check_reachable, register_commands, register_team, withdraw_commands
from .repair import Outcome, mark_stopped, prepare
from .stream_watch import StreamWatch
from .writer import Item, Writer, no_space

log = logging.getLogger("whoknows.runtime")

STOP_ROUNDS, STOP_WAIT_S = 3, 5.0
"""How often stop cancels the tasks still running, and how long it waits each time."""
TOKEN_CHECK_S = 60.0
"""How often the bot checks that its token still works (a revoked token stops it)."""


class Runtime:
    def __init__(self, settings: Settings, data: Path, *, clock: Clock = wall_clock, manifest: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        """`manifest` and `env` are what the settings were loaded from: plugin mode loads pushed settings over them."""
        self.settings = settings
        self.data = data
        self.clock = clock
        self.rest = MattermostRest(settings.mattermost_url, settings.bot_token, clock=self._now)
        self.presence = Presence()
        self.plugin = settings.mode == "plugin"
        self.readable = ReadableChannels(self.rest, self.presence.channels, lambda: list(self.presence.teams),
                                         settings.readable_cache_seconds, self._now, self.rest.can_read if self.plugin else None)
        self.link: PluginLink | None = None
        if self.plugin:
            loaded = manifest if manifest is not None else json.loads(manifest_path().read_text(encoding="utf-8"))
            self.link = PluginLink(self, loaded, env if env is not None else {})
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
        self.reachable: bool | None = None
        """Bot mode: whether Mattermost could call the slash command at start (None: not checked)."""
        self.fatal: str | None = None
        """Why the bot must stop (its token was revoked); run_forever raises it as one clear message."""
        self.replica: Replica | None = None
        """Set with a PostgreSQL store, which several processes may share (one leads)."""
        self.restart: str | None = None
        """Why the service must stop though nothing needs fixing (it lost the lead): run_forever raises StopToRestart."""
        self._fatal = asyncio.Event()
        self.ready = False
        """Start-up has finished; until then the endpoints answer "whoknows is starting"."""
        self.stopping: str | None = None
        """Why a stop was asked for (a signal's name); run_forever then returns instead of raising."""
        self._starting: asyncio.Task[None] | None = None
        self.username = ""
        self.stream_watch: StreamWatch | None = None
        """Bot mode, once started: notices a websocket that carries nothing."""
        self.decisions = Decisions()
        """Finished inline-suggestion decisions: `decisions.wait(post_id)` (tests wait there, not on drained())."""

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

    def apply_settings(self, settings: Settings) -> None:
        """New settings (plugin mode: from the System Console) for everything that reads them."""
        self.settings = self.services.settings = self.live.settings = settings
        self.readable.ttl_ms = settings.readable_cache_seconds * 1000
        self.store.site_url = settings.site_url
        self.writer.batch_events, self.writer.batch_milliseconds = settings.batch_events, settings.batch_milliseconds

    async def _bot_command(self, form: dict[str, str]) -> dict[str, Any] | None:
        """Bot mode's slash command. The token proves only which team's command was called, and any admin of that team
        can read it: so the caller must belong to the team (and the channel), and the reply shows only that team's
        channels. None: refused."""
        team_id, user_id, channel_id = form.get("team_id", ""), form.get("user_id", ""), form.get("channel_id", "")
        channel = self.presence.channels.get(channel_id)
        if not user_id or team_id not in self.presence.teams or not await self.rest.is_team_member(team_id, user_id):
            return None
        if channel is not None and (channel.team_id != team_id or
                                    (channel.type == "P" and await self.rest.channel_member(channel_id, user_id) is None)):
            return None
        scoped = dataclasses.replace(self.services, permissions=TeamScoped(self.readable, team_id))
        return await commands.command(commands.UseCases(scoped, self.learning, self.digests), form)

    async def _lookup_users(self, user_ids: Sequence[str]) -> list[UserUpdated]:
        try:
            users = await self.rest.users(user_ids)
        except MattermostError:
            log.exception("cannot look up %d people", len(user_ids))
            return []
        return [mme.decode_user(u) for u in users]

    def _on_live(self, post: PostCreated) -> None:
        if wanted(self.services, post, self.services.clock()):
            self.spawn(self.decisions.track(post.post_id, suggest(self.services, post)))
        else:
            self.decisions.finish(post.post_id)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listens first: a busy port stops here, before the slash command is touched, and from here on a command gets
        "whoknows is starting" instead of Mattermost's "failed". Whatever fails later stops what had begun."""
        try:
            await self._listen()
            await self._start()
        except BaseException:
            await self.stop()
            raise
        self.ready = True
        log.info("whoknows is running as @%s in %s mode on %d team(s), %d channel(s) indexed, listening on %s:%d",
                 self.username, self.settings.mode, len(self.presence.teams), len(self.presence.indexed),
                 self.settings.http_host, self.http_port)

    async def _listen(self) -> None:
        s = self.settings
        try:
            if self.link is not None:
                self._http = await plugin_http.serve(s.http_host, s.http_port,
                                                     dataclasses.replace(self.link.endpoints(), starting=lambda: not self.ready,
                                                                         standing_by=lambda: self._replica_is("standing_by"),
                                                                         following=lambda: self._replica_is("following")))
            else:
                self._http = await http.serve(s.http_host, s.http_port, http.Endpoints(
                    command_token=lambda team_id: self.state.command_token(team_id),
                    command=self._bot_command,
                    action=lambda body: buttons.action(self.services, body),
                    trigger=s.command_trigger,
                    starting=lambda: not self.ready,
                ))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise StartupError(messages.cannot_listen(s.http_host, s.http_port, error.strerror or type(error).__name__)) from None
            # The command an earlier run registered would reach the program holding the port (bot mode; the plugin
            # registers its own command, which calls the plugin).
            note = "" if self.link is not None else await withdraw_commands(self.rest, s, s.callback(s.http_port) + "/command")
            raise StartupError(messages.port_taken(s.http_host, s.http_port, note)) from None
        self.http_port = self._http.port

    def _replica_is(self, what: str) -> bool:
        return self.replica is not None and bool(getattr(self.replica, what))

    async def _start(self) -> None:
        engine = self.settings.index_engine
        server = self.settings.index_server()
        url = self.settings.store_url
        leading = True
        if url:  # several processes may share a PostgreSQL store: the one that leads applies events
            self.replica = Replica(url, answers=self.plugin and entry(engine).shared)
            self._exits.callback(self.replica.close)  # the last thing closed: the store and the index are shut first
            leading = await self.replica.begin()
        if leading and prepare(self.data, engine, server, url) is Outcome.WIPED:
            log.warning("reading the whole history again: /%s answers from what has been read so far", self.settings.command_trigger)
        store = self._exits.enter_context(open_store(self.data, opted_out_by_default=self.settings.opted_out_by_default,
                                                     extra_endorsing=frozenset({self.settings.learning_emoji}), engine=engine,
                                                     server=server, store_url=url))
        store.site_url = self.settings.site_url
        state = open_state(self.data, url)
        self._exits.callback(state.close)
        self.attach(store, state, {r[0] for r in store.conversation.db.execute("SELECT user_id FROM users")})
        if not leading:
            self.writer.relay = Inbox(state.db, self.clock)
        try:
            me = await self.rest.me()
        except (MattermostError, OSError) as error:
            status = getattr(error, "status", None)
            why = "no answer" if status == 0 else f"HTTP {status}" if status is not None else type(error).__name__
            raise StartupError(messages.cannot_reach(self.settings.mattermost_url, why)) from None
        self.presence.bot_id, self.username = me["id"], str(me["username"])
        self.spawn(self.writer.run())
        self.presence.callback_url = self.link.actions_url if self.link is not None else self.settings.callback(self.http_port)
        teams = await self.rest.my_teams()
        self.presence.teams.update({t["id"]: t["name"] for t in teams})
        await self.writer.submit([mme.decode_team(t) for t in teams])
        if self.link is not None:  # the plugin registers /whoknows itself; its settings are the System Console's
            await self.link.fetch_config()
        else:
            await register_commands(self.rest, self.state, self.settings, self.presence)
            self.live.on_team = self._register_on
        await self.live.discover_channels()
        if self.link is None:
            await self._check_command()
        self.spawn(self._watch_token())
        if self.link is None:  # bot mode (which always leads); plugin mode has no websocket: events come from the hooks
            self.spawn(self.ws.run())
            await asyncio.wait_for(self.ws.connected.wait(), 30.0)
            self.stream_watch = StreamWatch(self.rest, self.presence, self.live.follows, self._renew_stream)
            self.spawn(self.stream_watch.run())
        if leading:
            self._lead()
        else:
            self.spawn(self._follow_then_lead(engine, server))

    def _lead(self) -> None:
        """What only the process that applies events does."""
        if self.link is not None:
            self.spawn(self.link.run())
        self.spawn(self.live.initial_backfill())
        self.spawn(self.learning.run())
        self.spawn(self.digests.run())
        if self.replica is not None:  # the followers' events, and the lead watched: once lost, this process stops
            self.spawn(drain(Inbox(self.state.db, self.clock), self.writer))
            self.spawn(self.replica.watch(self._stop_to_restart))

    async def _follow_then_lead(self, engine: str, server: IndexServer | None) -> None:
        """A follower: keeps its facts in step until it leads, then applies events from then on."""
        assert self.replica is not None
        await self.replica.take_lead(self.store, self.state, self.writer, self.data, engine, server)
        self._lead()

    def _stop_to_restart(self, reason: str) -> None:
        self.restart = reason
        self._fatal.set()

    async def _check_command(self) -> None:
        """Once, on the first team with a registered command and a public channel the bot indexes."""
        for team_id in self.presence.teams:
            here = [c for c in self.presence.indexed if self.presence.channels[c].team_id == team_id and self.presence.channels[c].type == "O"]
            if here and self.state.command_token(team_id):
                self.reachable = await check_reachable(self.rest, self.settings, self.presence, sorted(here)[0])
                return

    async def _register_on(self, team_id: str, team_name: str) -> None:
        await register_team(self.rest, self.state, self.settings, self.presence, team_id, team_name)

    async def stop(self) -> None:
        # A task may swallow one cancellation (a chat call cancelled inside the HTTP client's pool): cancel again, bounded.
        for _ in range(STOP_ROUNDS):
            pending = [t for t in self.tasks if not t.done()]
            if not pending:
                break
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=STOP_WAIT_S)
        for task in self.tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved, so asyncio does not log it at exit
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
        if hasattr(self, "store"):  # never in a folder start-up refused or did not reach (a newer release's)
            mark_stopped(self.data)

    async def run_forever(self) -> None:
        """Until `stop_soon` (returns) or a fatal problem (raised as StartupError), during start-up too."""
        self._starting = asyncio.create_task(self.start())
        try:
            await self._starting
        except asyncio.CancelledError:
            if self.stopping is None:
                raise
            return  # start stopped what it had begun
        try:
            await self._fatal.wait()
        finally:
            await self.stop()
        if self.restart is not None:
            raise StopToRestart(self.restart)
        if self.fatal is not None or self.stopping is None:
            raise StartupError(self.fatal or "stopped")

    def stop_soon(self, reason: str) -> None:
        """Asks run_forever to stop cleanly (a signal): start-up is cancelled, or the running service stopped."""
        log.info("%s", messages.stopping(reason))
        self.stopping = reason
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        self._fatal.set()

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

    async def _renew_stream(self) -> None:
        await self.live.catch_up_all()  # first: no checkpoint follows the new stream until its channel is read
        await self.ws.renew()

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

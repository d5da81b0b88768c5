"""The bot's one process: discovery, history backfill, the live websocket, the HTTP endpoints, and the one
task that owns the pipeline (applies queued events in small batches, then makes them searchable)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeAlias

from . import messages
from .access import ReadableChannels
from .adapters import mattermost_events as mme
from .adapters.mattermost_rest import MattermostError, MattermostRest
from .adapters.mattermost_ws import Frame, MattermostWebsocket
from .backfill import Backfill, Checkpointed
from .core.events import ChannelMemberAdded, ChannelMemberRemoved, ChannelUpdated, Event, PostCreated, UserUpdated
from .errors import StartupError
from .learning import Learning
from .settings import Settings
from .state import ServiceState
from .store import INDEX_DIR, Store, open_store

log = logging.getLogger("whoknows.runtime")


class Live:
    """A root post that just arrived live: after it is applied, it may get an inline suggestion."""

    def __init__(self, post: PostCreated) -> None:
        self.post = post


Item: TypeAlias = Event | Checkpointed | Live


TOKEN_CHECK_S = 60.0
"""How often the bot checks that its token still works (a revoked token stops it)."""
DISK_RETRY_S = 10.0
"""While the index's disk is full, how often the bot tries its commit again (without waiting for new events)."""


def no_space(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def now_ms() -> int:
    return int(time.time() * 1000)


class Runtime:
    def __init__(self, settings: Settings, data: Path) -> None:
        self.settings = settings
        self.data = data
        self.rest = MattermostRest(settings.mattermost_url, settings.bot_token)
        self.bot_id = ""
        self.bot_username = ""
        self.teams: dict[str, str] = {}  # team id -> name
        self.channels: dict[str, ChannelUpdated] = {}
        self.indexed: set[str] = set()
        self.readable = ReadableChannels(self.rest, self.channels, lambda: list(self.teams), settings.readable_cache_seconds)
        self.http_port = 0
        self.backfilled = asyncio.Event()
        self._known_users: set[str] = set()
        self._queue: asyncio.Queue[Item] = asyncio.Queue()
        self._submitted = 0
        self._applied = 0
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._exits = ExitStack()
        self.store: Store
        self.state: ServiceState
        self.learning: Learning
        self.ws = MattermostWebsocket(settings.mattermost_url, settings.bot_token, self._on_frame, self._catch_up_all)
        self._http_stop: Callable[[], object] | None = None
        self.token_check_s = TOKEN_CHECK_S
        self.fatal: str | None = None
        """Why the bot must stop (its token was revoked); run_forever raises it as one clear message."""
        self._fatal = asyncio.Event()
        self.disk_full: OSError | None = None
        """Set while the index cannot be written for lack of space: the store keeps the posts, the commit is retried."""
        self.disk_retry_s = DISK_RETRY_S
        self._held: list[Item] = []
        """Checkpoints and live posts waiting for the index commit that makes their posts searchable."""

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        from .adapters import http
        from .rebuild import Outcome, prepare
        from .registration import register_commands

        engine = self.settings.index_engine
        if prepare(self.data, engine) is Outcome.WIPED:
            log.warning("reading the whole history again: /%s answers from what has been read so far", self.settings.command_trigger)
        self.store = self._exits.enter_context(open_store(self.data, opted_out_by_default=self.settings.opted_out_by_default,
                                                          extra_endorsing=frozenset({self.settings.learning_emoji}), engine=engine))
        self.store.site_url = self.settings.mattermost_url
        self.state = ServiceState.in_folder(self.data)
        self._exits.callback(self.state.close)
        self.learning = Learning(self)
        self._known_users = {r[0] for r in self.store.conversation.db.execute("SELECT user_id FROM users")}
        try:
            me = await self.rest.me()
        except (MattermostError, OSError) as error:
            raise StartupError(messages.cannot_reach(self.settings.mattermost_url, str(getattr(error, "status", type(error).__name__)))) from None
        self.bot_id, self.bot_username = me["id"], me["username"]
        self._spawn(self._apply_loop())
        self.http_port = await http.serve(self)
        teams = await self.rest.my_teams()
        self.teams = {t["id"]: t["name"] for t in teams}
        await self.submit([mme.decode_team(t) for t in teams])
        await register_commands(self)
        await self._discover_channels()
        self._spawn(self.ws.run())
        self._spawn(self._watch_token())
        await asyncio.wait_for(self.ws.connected.wait(), 30.0)
        self._spawn(self._initial_backfill())
        self._spawn(self.learning.run())
        log.info("whoknows is running as @%s on %d team(s), %d channel(s) indexed", self.bot_username, len(self.teams), len(self.indexed))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        from .adapters import http

        await http.shutdown(self)
        await self.rest.close()
        try:
            self._exits.close()
        except OSError as error:
            if not no_space(error):
                raise
            log.error("stopping without a clean mark: %s", messages.disk_full(self.data / INDEX_DIR, error.strerror or ""))
            return  # the next start repairs the index from the store
        from .rebuild import mark_stopped

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

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coro))

    # -- the one pipeline -------------------------------------------------------------------

    async def submit(self, items: Sequence[Item]) -> None:
        """Queues items for the pipeline's owner, introducing unknown authors first."""
        authors = {i.user_id for i in items if isinstance(i, PostCreated) and i.user_id not in self._known_users}
        if authors:
            await self._introduce(sorted(authors))
        for item in items:
            self._submitted += 1
            self._queue.put_nowait(item)

    async def introduce(self, user_id: str) -> None:
        """Makes sure a person is known by name (a caller who never posted), applied before returning."""
        if user_id and user_id not in self._known_users:
            await self._introduce([user_id])
            await self.drained()

    async def _introduce(self, user_ids: Sequence[str]) -> None:
        try:
            users = await self.rest.users(user_ids)
        except MattermostError:
            log.exception("cannot look up %d people", len(user_ids))
            return
        events = [mme.decode_user(u) for u in users]
        self._known_users.update(u.user_id for u in events)
        for event in events:
            self._submitted += 1
            self._queue.put_nowait(event)

    async def _apply_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                batch: list[Item] = [await asyncio.wait_for(self._queue.get(), self.disk_retry_s if self.disk_full else None)]
            except TimeoutError:
                batch = []  # the disk was full and nothing new came: try the index commit again
            deadline = loop.time() + self.settings.batch_milliseconds / 1000
            while batch and len(batch) < self.settings.batch_events:
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), max(0.0, deadline - loop.time())))
                except TimeoutError:
                    break
            try:
                self._apply(batch)
            except Exception:  # the index or the state failed: log it, keep the loop (the next batch may succeed)
                log.exception("error %s: cannot apply a batch of %d item(s)", uuid.uuid4().hex[:8], len(batch))
            self._applied += len(batch)
            async with self._changed:
                self._changed.notify_all()

    def _apply(self, batch: list[Item]) -> None:
        events = [i for i in batch if not isinstance(i, (Checkpointed, Live))]
        pipeline = self.store.pipeline
        try:
            pipeline.apply(events)
        except Exception as error:  # one bad event never stops the loop: apply one by one, log the failing ones
            if not no_space(error):  # (a full disk fails the index commit, after the store's: the flush retries it)
                for event in events:
                    try:
                        pipeline.apply([event])
                    except Exception:
                        log.exception("error %s: cannot apply %r", uuid.uuid4().hex[:8], event)
        if not self._flush():
            self._held += [i for i in batch if isinstance(i, (Checkpointed, Live))]
            self.learning.notice(events)
            return
        batch, self._held = [*self._held, *batch], []
        for item in batch:
            if isinstance(item, Checkpointed):
                self.state.save_checkpoint(item.channel_id, item.checkpoint)
            elif isinstance(item, Live):
                from .suggestions import suggest, wanted

                if wanted(self, item.post, now_ms()):
                    self._spawn(suggest(self, item.post))
        self.learning.notice(events)  # the learning threads observe what was just applied (reactions, edits, deletions)

    def _flush(self) -> bool:
        """Makes what was applied searchable; False while the index's disk is full (said once, then retried)."""
        try:
            self.store.pipeline.flush()
        except OSError as error:
            if not no_space(error):
                raise
            if self.disk_full is None:
                log.error("%s", messages.disk_full(self.data / INDEX_DIR, error.strerror or ""))
            self.disk_full = error
            return False
        if self.disk_full is not None:
            self.disk_full = None
            log.info("%s", messages.disk_space_back(self.data / INDEX_DIR))
        return True

    async def drained(self, timeout: float = 30.0) -> None:
        """Waits until everything submitted so far has been applied and is searchable."""
        target = self._submitted
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self._applied >= target), timeout)

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Waits until `condition` holds after some applied batch (for tests: no sleeping)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    # -- live events ------------------------------------------------------------------------

    async def _on_frame(self, frame: Frame) -> None:
        try:
            for item in mme.decode_event(frame, self.bot_id):
                await self._ingest(item)
        except Exception:
            log.exception("error %s: cannot handle websocket event %s", uuid.uuid4().hex[:8], frame.get("event"))

    async def _ingest(self, item: mme.Decoded) -> None:
        match item:
            case mme.Hello():
                return
            case mme.NeedUser(user_id=user_id):
                await self._introduce([user_id])
            case mme.NeedChannel(channel_id=cid) | mme.BotAdded(channel_id=cid):
                channel = mme.decode_channel(await self.rest.channel(cid))
                if channel is not None:
                    await self._learn_channel(channel)
                    if isinstance(item, mme.BotAdded) and cid in self.indexed:
                        self._spawn(self._backfill_one(cid))
            case ChannelMemberAdded(user_id=uid) | ChannelMemberRemoved(user_id=uid):
                self.readable.forget(uid)
                await self.submit([item])
            case ChannelUpdated():
                await self._learn_channel(item)
            case PostCreated():
                if item.channel_id not in self.channels:
                    channel = mme.decode_channel(await self.rest.channel(item.channel_id))
                    if channel is not None:
                        await self._learn_channel(channel)
                if item.channel_id in self.indexed:
                    await self.submit([item, Live(item)] if not item.root_id else [item])
            case UserUpdated():
                self._known_users.add(item.user_id)
                await self.submit([item])
            case _:
                await self.submit([item])

    async def _learn_channel(self, channel: ChannelUpdated) -> None:
        self.channels[channel.channel_id] = channel
        self.readable.forget()
        if channel.type in ("O", "P") and channel.team_id in self.teams and self.settings.indexes(channel.channel_id, channel.name):
            self.indexed.add(channel.channel_id)
        else:
            self.indexed.discard(channel.channel_id)
        await self.submit([channel])

    # -- discovery, backfill, catch-up ------------------------------------------------------

    async def _discover_channels(self) -> None:
        for team_id in self.teams:
            mine = {c["id"]: c for c in await self.rest.my_channels(team_id)}
            public = {c["id"]: c for c in await self.rest.public_channels(team_id)} if self.settings.join_public_channels else {}
            for cid, raw in {**public, **mine}.items():
                channel = mme.decode_channel(raw)
                if channel is None or channel.type in ("D", "G"):
                    continue
                await self._learn_channel(channel)
                if cid in self.indexed and cid not in mine and channel.type == "O":
                    try:
                        await self.rest.join(cid, self.bot_id)
                    except MattermostError:
                        log.warning("cannot join ~%s; its new posts will arrive only by catch-up", channel.name)

    async def _initial_backfill(self) -> None:
        for cid in sorted(self.indexed):
            await self._backfill_one(cid)
        await self.drained()
        self.backfilled.set()
        log.info("history is up to date in %d channel(s)", len(self.indexed))

    async def _backfill_one(self, channel_id: str) -> None:
        label = f"~{self.channels[channel_id].name}" if channel_id in self.channels else channel_id
        try:
            await Backfill(self.rest, self.state, self.submit, self.bot_id).channel(channel_id, label)
        except Exception:
            log.exception("error %s: backfill of %s stopped; it resumes at the next start", uuid.uuid4().hex[:8], label)

    async def _catch_up_all(self) -> None:
        """The websocket could not replay what we missed: read every channel's changes over REST."""
        self._spawn(self._initial_backfill())

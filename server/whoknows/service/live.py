"""Discovery and live events: which channels the bot sees and indexes, the websocket's frames decoded into
core events and submitted to the one writer, and the backfill of channels as they are found.

Live events move the same per-channel checkpoints as the catch-up (a `Checkpointed` after the change's events, saved
once they are searchable), so a restart does not read again what was heard live. Only in a channel that `follows`
the stream: caught up in this run, with no gap in the stream since (a gap, a plugin restart: `lost`, until the
channel is caught up again).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import uuid
from collections.abc import Callable, Collection, Coroutine
from typing import Any

from ..adapters import mattermost_events as mme
from ..adapters.mattermost_rest import MattermostError, MattermostRest
from ..adapters.mattermost_ws import Frame
from ..adapters.retry import backoff_delay
from ..app.engine_advice import engine_advice
from ..app.ports import Permissions, Presence
from ..app.settings import Settings
from ..errors import ChatError
from ..core.events import ChannelMemberAdded, ChannelMemberRemoved, ChannelUpdated, PostCreated, UserUpdated
from ..storage.state import Checkpoint, ServiceState
from .backfill import Backfill, Checkpointed
from .writer import Live, Writer

log = logging.getLogger("whoknows.runtime")
CATCH_UP_RETRY_S = 1.0
"""The first wait before a backfill interrupted by Mattermost being away is tried again (doubling, jittered)."""
CATCH_UP_RETRY_CAP_S = 30.0


def passing(status: int) -> bool:
    """A failure that passes by itself: no answer (a restart), rate limited, or a server error."""
    return status == 0 or status == 429 or status >= 500


class LiveEvents:
    def __init__(self, settings: Settings, rest: MattermostRest, state: ServiceState, writer: Writer, presence: Presence,
                 permissions: Permissions, spawn: Callable[[Coroutine[Any, Any, None]], None]) -> None:
        self.settings = settings
        self.rest = rest
        self.state = state
        self.writer = writer
        self.presence = presence
        self.permissions = permissions
        self.spawn = spawn
        self.on_team: Callable[[str, str], Coroutine[Any, Any, None]] | None = None
        """Bot mode: what to do first on a team the bot joined while running (register the command there)."""
        self.follows: dict[str, Checkpoint] = {}
        """Channels whose checkpoint follows the live stream -> that checkpoint as last queued."""
        self._epoch = 0
        """Bumped by `lost`: a catch-up that began before the stream had a gap does not make its channel follow it."""
        self._rng = random.Random()

    async def on_frame(self, frame: Frame) -> None:
        try:
            for item in mme.decode_event(frame, self.presence.bot_id):
                await self.ingest(item)
        except Exception:
            log.exception("error %s: cannot handle websocket event %s", uuid.uuid4().hex[:8], frame.get("event"))

    async def ingest(self, item: mme.Decoded) -> None:
        """One decoded event or note, from the websocket or the plugin's hooks (the same path)."""
        p, submit = self.presence, self.writer.submit
        match item:
            case mme.Hello():
                return
            case mme.Heard(channel_id=cid, at=at):
                await self._heard(cid, at)
            case mme.BotJoinedTeam(team_id=team_id):
                await self.join_team(team_id)
            case mme.NeedUser(user_id=user_id):
                await self.writer.introduce_all([user_id])
            case mme.NeedChannel(channel_id=cid) | mme.BotAdded(channel_id=cid):
                channel = mme.decode_channel(await self.rest.channel(cid))
                if channel is not None:
                    await self.learn_channel(channel)
                    if isinstance(item, mme.BotAdded) and cid in p.indexed:
                        self.spawn(self.backfill_one(cid))
            case ChannelMemberAdded(user_id=uid) | ChannelMemberRemoved(user_id=uid):
                self.permissions.forget(uid)
                await submit([item])
            case ChannelUpdated():
                await self.learn_channel(item)
            case PostCreated():
                if item.channel_id not in p.channels:
                    channel = mme.decode_channel(await self.rest.channel(item.channel_id))
                    if channel is not None:
                        await self.learn_channel(channel)
                if item.channel_id in p.indexed:
                    await submit([item, Live(item)] if not item.root_id else [item])
            case UserUpdated():
                self.writer.learned_user(item.user_id)
                await submit([item])
            case _:
                await submit([item])

    async def _heard(self, channel_id: str, at: int) -> None:
        """The channel's changes up to `at` are queued: its checkpoint may follow, saved once they are searchable."""
        cp = self.follows.get(channel_id)
        if cp is None or at <= cp.since or channel_id not in self.presence.indexed:
            return
        self.follows[channel_id] = cp = Checkpoint(at, cp.history_before, True)
        await self.writer.submit([Checkpointed(channel_id, cp)])

    def lost(self) -> None:
        """Some live events may have been missed: no checkpoint follows the stream until its channel is caught up."""
        self.follows.clear()
        self._epoch += 1

    async def learn_channel(self, channel: ChannelUpdated) -> None:
        p = self.presence
        p.channels[channel.channel_id] = channel
        self.permissions.forget()
        if channel.type in ("O", "P") and channel.team_id in p.teams and self.settings.indexes(channel.channel_id, channel.name):
            p.indexed.add(channel.channel_id)
        else:  # and if it comes back, what was said meanwhile is read by its catch-up, not skipped by live events
            p.indexed.discard(channel.channel_id)
            self.follows.pop(channel.channel_id, None)
        await self.writer.submit([channel])

    async def join_team(self, team_id: str) -> None:
        """A team the bot joined while running: known, its command registered, its channels discovered and read."""
        team = mme.decode_team(await self.rest.team(team_id))
        self.presence.teams[team_id] = team.name
        await self.writer.submit([team])
        if self.on_team is not None:
            await self.on_team(team_id, team.name)
        before = set(self.presence.indexed)
        await self.discover_channels([team_id])
        for cid in sorted(self.presence.indexed - before):
            self.spawn(self.backfill_one(cid))
        log.info("joined team %s: %d channel(s) indexed there", team.name, len(self.presence.indexed - before))

    async def discover_channels(self, teams: Collection[str] | None = None) -> set[str]:
        """Learns every channel the bot hears (in these teams, default all); returns their ids."""
        p, heard = self.presence, set[str]()
        for team_id in list(p.teams) if teams is None else teams:
            mine = {c["id"]: c for c in await self.rest.my_channels(team_id)}
            public = {c["id"]: c for c in await self.rest.public_channels(team_id)} if self.settings.join_public_channels else {}
            for cid, raw in {**public, **mine}.items():
                channel = mme.decode_channel(raw)
                if channel is None or channel.type in ("D", "G"):
                    continue
                heard.add(cid)
                await self.learn_channel(channel)
                if cid in p.indexed and cid not in mine and channel.type == "O":
                    try:
                        await self.rest.join(cid, p.bot_id)
                    except MattermostError:
                        log.warning("cannot join ~%s; its new posts will arrive only by catch-up", channel.name)
        return heard

    async def initial_backfill(self) -> None:
        p = self.presence
        for cid in sorted(p.indexed):
            await self.backfill_one(cid)
        # Unbounded: at 100k posts the writer can hold more than 30 s of work when the last page is read, and a
        # timeout here ended the task, so `backfilled` was never set.
        await self.writer.drained(timeout=None)
        p.backfilled.set()
        log.info("history is up to date in %d channel(s)", len(p.indexed))
        advice = engine_advice(self.settings, self.writer.store)
        if advice is not None:
            log.warning("%s", advice)

    async def backfill_one(self, channel_id: str) -> None:
        """Reads the channel's history or its changes since its checkpoint. While Mattermost is away or failing (a
        restart, a 5xx or 429 burst) it tries again from the saved checkpoint in this run: left for the next start,
        a long-lived process would never index what was said while its websocket was down."""
        p = self.presence
        label = f"~{p.channels[channel_id].name}" if channel_id in p.channels else channel_id
        for attempt in itertools.count(1):
            epoch = self._epoch
            backfill = Backfill(self.rest, self.state, self.writer.submit, p.bot_id, kept=self.kept_posts,
                                live_since=lambda cid: cp.since if (cp := self.follows.get(cid)) is not None else 0)
            try:
                await backfill.channel(channel_id, label)
            except ChatError as error:
                if not passing(error.status) or channel_id not in p.indexed:
                    log.warning("backfill of %s stopped: %s", label, error)
                    return
                delay = backoff_delay(attempt, None, None, 0.0, self._rng, base=CATCH_UP_RETRY_S, cap=CATCH_UP_RETRY_CAP_S)
                log.warning("backfill of %s interrupted (HTTP %s); trying again in %.1f s", label, error.status or "none", delay)
                await asyncio.sleep(delay)
                continue
            except Exception:
                log.exception("error %s: backfill of %s stopped; it resumes at the next start", uuid.uuid4().hex[:8], label)
                return
            if backfill.checkpoint is not None and epoch == self._epoch:
                self.follows[channel_id] = backfill.checkpoint
            return

    def kept_posts(self, channel_id: str) -> set[str]:
        """The ids of the posts of a channel in the local store."""
        rows = self.writer.store.conversation.db.execute("SELECT post_id FROM posts WHERE channel_id=?", (channel_id,))
        return {str(r[0]) for r in rows}

    async def catch_up_all(self) -> None:
        """The websocket could not replay what we missed: read every channel's changes over REST."""
        self.lost()
        self.spawn(self.initial_backfill())


__all__ = ["LiveEvents"]

"""Learning digests: on a schedule and on demand, a summary of the period posted into the learning thread,
with a chart of its topics attached.

Crash-safe: the period's run is saved as "posting" before anything is posted and "done" with the post id
after; a run found "posting" first looks in the thread for a post carrying its key before posting again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import replace
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import messages
from ..core.cards import quote, render
from ..core.excerpt import cut
from ..core.digest import Digest, assemble
from ..core.schedule import DAY_MS, latest_run, parse_schedule
from ..errors import UserError
from ..storage.learning_state import DigestRun
from .learning import PROP_DIGEST, Learning
from .ports import Services

log = logging.getLogger("whoknows.digests")
TICK_SECONDS = 60.0
MINUTE_MS = 60_000


def day_label(ms: int) -> str:
    d = datetime.fromtimestamp(ms / 1000)
    return f"{d:%a} {d.day} {d:%b}"


@dataclass(frozen=True, slots=True)
class DigestNow:
    """`digest`: this channel's digest, now."""


class Digests:
    def __init__(self, svc: Services, learning: Learning) -> None:
        self.svc = svc
        self.learning = learning
        self.schedule = parse_schedule(svc.settings.digest_schedule)
        self.after_post: Callable[[str], None] | None = None
        """Test hook, called with the new digest's post id before the run is saved as done (a crash there)."""
        self.wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._asked = asyncio.Lock()

    async def run(self) -> None:
        """The schedule: checks once a minute (or when woken) for due digests, once history is read."""
        await self.svc.presence.backfilled.wait()
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("error %s: scheduled digests", uuid.uuid4().hex[:8])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), TICK_SECONDS)
            self.wake.clear()

    async def tick(self) -> list[DigestRun]:
        """Posts every scheduled digest that is due and not posted yet; returns the runs it looked at."""
        now = self.svc.clock()
        due = latest_run(self.schedule, now)
        if due is None:
            return []
        runs = []
        for thread in self.learning.state.active_threads():
            if thread.created_at < due and thread.channel_id in self.svc.presence.indexed:
                key = f"{thread.channel_id}:scheduled:{due}"
                runs.append(await self.post(thread.channel_id, due - self.schedule.period_ms, due, key))
        return runs

    async def on_demand(self, channel_id: str, user_id: str) -> str:
        """`/whoknows digest`: the period up to now, posted now into the channel's learning thread (never a new one).
        Outside channel admins, at most one per channel every `OnDemandDigestMinutes`, said with the time left."""
        if channel_id not in self.svc.presence.indexed:
            raise UserError(messages.learning_not_here())
        thread = self.learning.state.thread(channel_id)
        if thread is None or thread.status != "active":
            raise UserError(messages.learning_none())
        async with self._asked:  # one at a time: two at once cannot both pass the limit
            now, key = self.svc.clock(), f"digest-asked:{channel_id}"
            last, interval = self.svc.state.last(key), int(self.svc.settings.on_demand_digest_minutes * MINUTE_MS)
            wait = 0 if last is None else last + interval - now
            if wait > 0 and not await self.svc.permissions.is_channel_admin(channel_id, user_id):
                raise UserError(messages.digest_too_soon(math.ceil(wait / MINUTE_MS), self.learning.link(channel_id, thread.root_id)))
            run = await self.post(channel_id, now - self.schedule.period_ms, now, f"{channel_id}:now:{now}")
            if run.status == "skipped":
                return messages.digest_nothing(self.schedule.period_ms // DAY_MS)
            self.svc.state.mark(key, now)
        return messages.digest_posted(self.learning.link(channel_id, run.post_id))

    def assemble(self, channel_id: str, start: int, end: int) -> Digest:
        conv = self.svc.store.conversation
        captured = {c.post_id: c.flagged_by for c in self.learning.state.captures_between(channel_id, start, end)}
        digest = assemble(conv, self.svc.store.index, channel_id, start, end, captured)
        people = conv.people(digest.people())
        hidden = frozenset(u for u, p in people.items() if p.opted_out or p.is_bot or p.deactivated)
        return assemble(conv, self.svc.store.index, channel_id, start, end, captured, hidden=hidden) if hidden else digest

    async def render(self, digest: Digest) -> tuple[str, bytes]:
        """The digest's text and its chart (empty bytes when the period had no topics; drawn off the loop)."""
        from .chart import render_topics

        conv = self.svc.store.conversation
        people = conv.people(digest.people())
        names = {u: p.display_name or p.username for u, p in people.items()}
        _, channel = conv.channel_team([digest.channel_id]).get(digest.channel_id, ("", digest.channel_id))
        link = self.learning.link
        period = messages.digest_period(day_label(digest.start), day_label(digest.end))
        text = render(
            "digest.md.j2", emoji=self.learning.emoji, channel=channel, period=period, posts=digest.posts,
            learned=[{"snippet": quote(cut(x.post.message, 120)), "author": names[x.post.user_id],
                      "flaggers": [people[u].username for u in x.flagged_by], "link": link(x.post.channel_id, x.post.post_id)}
                     for x in digest.learned],
            topics=[{"word": t.word, "posts": t.posts, "answerers": [names[u] for u, _ in t.answerers[:3]]} for t in digest.topics],
            helped=[{"helper": names[h.helper], "helped": names[h.helped], "answers": h.answers} for h in digest.helped],
            answered=[{"snippet": quote(cut(q.post.message, 120)), "asker": names[q.post.user_id],
                       "answerers": [names[u] for u in q.answerers], "link": link(q.post.channel_id, q.post.post_id)}
                      for q in digest.answered],
            new_voices=[names[u] for u in digest.new_voices],
        )
        chart = b""
        if digest.topics:
            chart = await asyncio.to_thread(render_topics, digest.topics, names, f"~{channel}: {messages.DIGEST_CHART_TITLE}")
        return text, chart

    async def post(self, channel_id: str, start: int, end: int, key: str) -> DigestRun:
        """Posts the digest of [start, end) once for `key`, however often it is asked or restarted."""
        state, chat = self.learning.state, self.svc.chat
        async with self._lock:
            run = state.digest(key)
            if run is not None and run.status in ("done", "skipped"):
                return run
            digest = self.assemble(channel_id, start, end)
            if run is None and digest.empty:
                run = DigestRun(key, channel_id, start, end, "", "skipped")
                state.put_digest(run)
                return run
            thread, _ = await self.learning.ensure_thread(channel_id)
            if run is not None:  # "posting": the last run may have posted before it could say so
                found = await self.learning.find_reply(thread.root_id, PROP_DIGEST, key)
                if found:
                    run = replace(run, post_id=found, status="done")
                    state.put_digest(run)
                    log.info("digest %s was already posted (%s); not posting it again", key, found)
                    return run
            run = DigestRun(key, channel_id, start, end, "", "posting")
            state.put_digest(run)
            text, chart = await self.render(digest)
            file_ids = [await chat.upload_file(channel_id, "learning-digest.png", chart, "image/png")] if chart else []
            props: dict[str, Any] = {PROP_DIGEST: key}
            post = await chat.create_post(channel_id, text, root_id=thread.root_id, props=props, file_ids=file_ids)
            if self.after_post is not None:
                self.after_post(str(post["id"]))
            run = replace(run, post_id=str(post["id"]), status="done")
            state.put_digest(run)
            log.info("digest %s posted in channel %s", key, channel_id)
            return run


__all__ = ["DigestNow", "Digests", "day_label"]

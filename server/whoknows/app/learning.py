"""Pinned team learning threads: one per channel, fed by reactions with the learning emoji.

The service hands every applied batch to `notice`; the captures, edits and deletions it cares about are
handled in order by one worker, through the chat port. Only `/whoknows learn` creates a channel's thread: a
reaction in a channel without one collects nothing, and its person is told so once (where the bot may post
ephemeral notes: always in plugin mode). Every bot post carries an idempotency key in its
props, and intent is saved before posting, so a restart never posts a capture twice (see learning_state).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from .. import messages
from ..core.cards import permalink, quote, render
from ..core.excerpt import cut
from ..core.conversation import PostFacts
from ..core.events import Event, PostDeleted, PostEdited, ReactionAdded
from ..core.schedule import parse_schedule
from ..errors import ChatError, UserError
from ..storage.learning_state import Capture, LearningState, Thread
from .ports import Services

log = logging.getLogger("whoknows.learning")
PROP_THREAD = "whoknows_learning_thread"
PROP_CAPTURE = "whoknows_capture"
PROP_DIGEST = "whoknows_digest"
RECENT_POSTS = 200
HINT_WITHIN_MS = 10 * 60_000
"""A reaction older than this when it is heard gets no note about a missing learning thread."""


@dataclass(frozen=True, slots=True)
class Learn:
    """`learn [title]` (the channel's learning thread) or `learn off` (retire it)."""

    title: str = ""
    off: bool = False


class Learning:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.state = LearningState(svc.state.db)
        self.emoji = svc.settings.learning_emoji
        self.since = self.state.since(svc.clock())
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._lock = asyncio.Lock()

    # -- the observer hook and its worker -----------------------------------------------------------

    def notice(self, events: Sequence[Event]) -> None:
        """Called by the runtime after a batch is applied: queues what may touch a learning thread."""
        for event in events:
            if isinstance(event, ReactionAdded) and event.emoji_name == self.emoji or isinstance(event, (PostEdited, PostDeleted)):
                self._queue.put_nowait(event)

    async def settled(self) -> None:
        """Waits until everything noticed so far is handled (for tests: no sleeping)."""
        await self._queue.join()

    async def run(self) -> None:
        """The worker: handles what `notice` queued, in order."""
        while True:
            event = await self._queue.get()
            try:
                match event:
                    case ReactionAdded():
                        await self._capture(event)
                    case PostEdited():
                        await self._follow(event.post_id)
                    case PostDeleted():
                        await self._forget(event.post_id)
            except Exception:  # one failing capture never stops the others
                log.exception("error %s: learning thread update for %r", uuid.uuid4().hex[:8], event)
            finally:
                self._queue.task_done()

    # -- threads ----------------------------------------------------------------------------------

    def link(self, channel_id: str, post_id: str) -> str:
        team, _ = self.svc.store.conversation.channel_team([channel_id]).get(channel_id, ("", ""))
        return permalink(self.svc.settings.site_url, team, post_id)

    def _root_text(self, channel_id: str, title: str) -> str:
        _, name = self.svc.store.conversation.channel_team([channel_id]).get(channel_id, ("", channel_id))
        schedule = parse_schedule(self.svc.settings.digest_schedule).describe()
        return render("learning_root.md.j2", title=quote(title), channel=name, emoji=self.emoji, schedule=schedule,
                      trigger=self.svc.settings.command_trigger)

    async def ensure_thread(self, channel_id: str, title: str = "") -> tuple[Thread, bool]:
        """The channel's active thread; created and pinned when there is none (True: just created)."""
        async with self._lock:
            known = self.state.thread(channel_id)
            if known is not None and known.status == "active":
                return known, False
            if known is not None and known.status == "creating":  # a previous run may have posted it already
                found = await self._find_recent(channel_id, PROP_THREAD, channel_id)
                if found:
                    thread = replace(known, root_id=found, status="active")
                    self.state.put_thread(thread)
                    await self.svc.chat.pin(found)
                    return thread, True
            title = title or (known.title if known is not None and known.status == "creating" else messages.LEARNING_TITLE)
            self.state.put_thread(Thread(channel_id, "", title, self.svc.clock(), "creating"))
            post = await self.svc.chat.create_post(channel_id, self._root_text(channel_id, title), props={PROP_THREAD: channel_id})
            thread = Thread(channel_id, str(post["id"]), title, self.svc.clock(), "active")
            self.state.put_thread(thread)
            await self.svc.chat.pin(thread.root_id)
            log.info("learning thread %s created in channel %s", thread.root_id, channel_id)
            return thread, True

    async def _find_recent(self, channel_id: str, prop: str, value: str) -> str:
        page = await self.svc.chat.posts_before(channel_id, "")
        return _bot_post_with(list((page.get("posts") or {}).values()), self.svc.presence.bot_id, prop, value)

    async def find_reply(self, root_id: str, prop: str, value: str) -> str:
        """The bot's post in a thread carrying this idempotency key, or ""."""
        return _bot_post_with(await self.svc.chat.thread(root_id), self.svc.presence.bot_id, prop, value)

    async def command(self, cmd: Learn, user_id: str, channel_id: str) -> str:
        """`/whoknows learn [title]` and `/whoknows learn off`."""
        if channel_id not in self.svc.presence.indexed:
            raise UserError(messages.learning_not_here())
        known = self.state.thread(channel_id)
        if known is None or known.status != "active":
            if cmd.off:
                raise UserError(messages.learning_none())
            thread, _ = await self.ensure_thread(channel_id, cmd.title)
            return messages.learning_created(self.link(channel_id, thread.root_id), self.emoji)
        link = self.link(channel_id, known.root_id)
        if cmd.off or cmd.title:
            if not await self._is_channel_admin(channel_id, user_id):
                raise UserError(messages.learning_not_admin(link))
            if cmd.off:
                with contextlib.suppress(ChatError):  # already unpinned or deleted by hand: retire all the same
                    await self.svc.chat.pin(known.root_id, False)
                self.state.put_thread(replace(known, status="retired"))
                return messages.learning_retired()
            self.state.put_thread(replace(known, title=cmd.title))
            await self.svc.chat.patch_post(known.root_id, self._root_text(channel_id, cmd.title))
            return messages.learning_retitled(link)
        with contextlib.suppress(ChatError):  # someone may have unpinned it by hand
            await self.svc.chat.pin(known.root_id)
        return messages.learning_exists(link)

    async def _is_channel_admin(self, channel_id: str, user_id: str) -> bool:
        return await self.svc.permissions.is_channel_admin(channel_id, user_id)

    # -- captures ---------------------------------------------------------------------------------

    async def _capture_text(self, facts: PostFacts, flagged_by: Sequence[str]) -> str:
        for user_id in flagged_by:
            await self.svc.feed.introduce(user_id)
        people = self.svc.store.conversation.people([facts.user_id, *flagged_by])
        author = people[facts.user_id]
        return render("learning_capture.md.j2", snippet=quote(cut(facts.message)), author=author.display_name or author.username,
                      username=author.username, flaggers=[people[u].username for u in flagged_by],
                      link=self.link(facts.channel_id, facts.post_id), emoji=self.emoji)

    async def _capture(self, r: ReactionAdded) -> None:
        if r.user_id == self.svc.presence.bot_id or (r.create_at and r.create_at < self.since):
            return  # the bot's own, or history from before learning threads existed here
        facts = self.svc.store.conversation.post_facts([r.post_id]).get(r.post_id)
        if facts is None or facts.channel_id not in self.svc.presence.indexed:
            return  # not indexed: direct messages, excluded channels, bots' posts
        known = self.state.thread(facts.channel_id)
        if known is None:  # only `/whoknows learn` makes a thread: a reaction elsewhere is just a reaction
            await self._no_thread(r, facts.channel_id)
            return
        if known.status == "retired":
            return
        capture = self.state.capture(r.post_id)
        if capture is not None and capture.status == "removed":
            return
        if capture is not None and capture.status == "done":
            if r.user_id not in capture.flagged_by:
                capture = replace(capture, flagged_by=(*capture.flagged_by, r.user_id))
                self.state.put_capture(capture)
                await self.svc.chat.patch_post(capture.reply_id, await self._capture_text(facts, capture.flagged_by))
            return
        thread, _ = await self.ensure_thread(facts.channel_id)
        if capture is None:
            capture = Capture(r.post_id, facts.channel_id, "", (r.user_id,), r.create_at or self.svc.clock(), "posting")
            self.state.put_capture(capture)
        else:
            found = await self.find_reply(thread.root_id, PROP_CAPTURE, r.post_id)
            if found:
                self.state.put_capture(replace(capture, reply_id=found, status="done"))
                return
        text = await self._capture_text(facts, capture.flagged_by)
        reply = await self.svc.chat.create_post(facts.channel_id, text, root_id=thread.root_id, props={PROP_CAPTURE: r.post_id})
        self.state.put_capture(replace(capture, reply_id=str(reply["id"]), status="done"))
        log.info("captured post %s into learning thread %s", r.post_id, thread.root_id)

    async def _no_thread(self, r: ReactionAdded, channel_id: str) -> None:
        """Says once to each person, quietly (an ephemeral note), that the emoji collects nothing in this channel;
        never for a reaction heard late (history read after a restart), and not where the bot may not post ephemerals."""
        key, now = f"learning-hint:{channel_id}:{r.user_id}", self.svc.clock()
        if self.svc.state.last(key) is not None or (r.create_at and now - r.create_at > HINT_WITHIN_MS):
            return
        self.svc.state.mark(key, now)
        try:
            note = messages.learning_no_thread(self.emoji, self.svc.settings.command_trigger)
            await self.svc.chat.ephemeral(r.user_id, channel_id, note)
        except ChatError as error:
            if error.status != 403:
                raise
            # Bot mode: a bot account may not post ephemerals unless an admin grants create_post_ephemeral. Then
            # nothing is said, as for any other reaction.
            log.info("no note about the missing learning thread in channel %s: the bot may not post ephemeral messages", channel_id)

    async def _follow(self, post_id: str) -> None:
        capture = self.state.capture(post_id)
        facts = self.svc.store.conversation.post_facts([post_id]).get(post_id)
        if capture is None or capture.status != "done" or facts is None:
            return
        await self.svc.chat.patch_post(capture.reply_id, await self._capture_text(facts, capture.flagged_by))

    async def _forget(self, post_id: str) -> None:
        capture = self.state.capture(post_id)
        if capture is None or capture.status == "removed":
            return
        reply_id = capture.reply_id
        thread = self.state.thread(capture.channel_id)
        if not reply_id and thread is not None and thread.root_id:
            reply_id = await self.find_reply(thread.root_id, PROP_CAPTURE, post_id)
        if reply_id:
            try:
                await self.svc.chat.delete_post(reply_id)
            except ChatError as error:
                if error.status != 404:
                    raise
        self.state.put_capture(replace(capture, status="removed"))
        log.info("post %s was deleted: its quote left the learning thread", post_id)


def _bot_post_with(posts: Sequence[dict[str, Any]], bot_id: str, prop: str, value: str) -> str:
    for post in posts:
        props = post.get("props") or {}
        if post.get("user_id") == bot_id and not post.get("delete_at") and props.get(prop) == value:
            return str(post["id"])
    return ""


__all__ = ["Learn", "Learning", "PROP_CAPTURE", "PROP_DIGEST", "PROP_THREAD"]

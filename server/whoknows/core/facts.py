"""Every post's facts the ranking reads, in compact columns in memory: author, channel, thread, time, role
flags, endorsements and acceptance, and each thread's replies and each channel's unthreaded posts in order.

The ranking looks up a few hundred hits and their threads per request; SQLite answers that at about 10 µs
a post (two B-tree descents each, in random order), which made the database most of a request's time. Here
a lookup is an array read. The conversation store fills the table when it opens and keeps it in step on
every change it commits (`Conversation` calls the writers below, after its own transaction commits), so the
table is never ahead of the store; posts' text stays in the database (it is read only for the evidence shown).

About 40 bytes a post plus the id map: ~170 MB at a million posts. Safe to read from one thread while the
one writer changes it from another: each change is a few single-element stores, and a post's "alive" flag
is set last.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Sequence

from .database import Database
from .records import PostFacts

ALIVE = 1
QUESTION = 2
ASKS = 4
CONTENT_FREE = 8
LINKED = 16
"""Already in its thread's reply list or its channel's timeline (a re-added post is not linked twice)."""


class _Timeline:
    """A channel's unthreaded posts by time (appended in order almost always; sorted when read if not)."""

    __slots__ = ("times", "slots", "ordered")

    def __init__(self) -> None:
        self.times = array("q")
        self.slots = array("i")
        self.ordered = True

    def append(self, at: int, slot: int) -> None:
        if self.times and at < self.times[-1]:
            self.ordered = False
        self.times.append(at)
        self.slots.append(slot)

    def sort(self) -> None:
        if not self.ordered:
            pairs = sorted(zip(self.times, self.slots))
            self.times = array("q", (t for t, _ in pairs))
            self.slots = array("i", (s for _, s in pairs))
            self.ordered = True


class FactsTable:
    def __init__(self) -> None:
        self._slot: dict[str, int] = {}
        self._ids: list[str] = []
        self._codes: dict[str, int] = {}
        self._names: list[str] = []
        self._channel = array("i")
        self._user = array("i")
        self._root = array("i")
        self._at = array("q")
        self._flags = bytearray()
        self._endorse = array("H")
        self._accepts = array("H")
        self._first = array("i")
        self._next = array("i")
        self._last = array("i")
        self._timelines: dict[int, _Timeline] = {}

    def __len__(self) -> int:
        return sum(1 for f in self._flags if f & ALIVE)

    def _code(self, name: str) -> int:
        code = self._codes.get(name)
        if code is None:
            code = self._codes[name] = len(self._names)
            self._names.append(name)
        return code

    def _slot_of(self, post_id: str) -> int:
        """The post's slot, made (empty, not alive) on first mention: a reply may name its root first."""
        slot = self._slot.get(post_id)
        if slot is None:
            slot = len(self._ids)
            self._ids.append(post_id)
            for column in (self._channel, self._user, self._root, self._first, self._next, self._last):
                column.append(-1)
            self._at.append(0)
            self._flags.append(0)
            self._endorse.append(0)
            self._accepts.append(0)
            self._slot[post_id] = slot
        return slot

    # -- writing (the conversation store, after its transaction commits) ---------------------

    def add(self, post_id: str, channel_id: str, user_id: str, root_id: str, create_at: int, *,
            question: bool, asks: bool, content_free: bool, endorsements: int = 0, accepts: int = 0) -> None:
        slot = self._slot_of(post_id)
        flags = self._flags[slot]
        if flags & ALIVE:
            return
        self._channel[slot] = self._code(channel_id)
        self._user[slot] = self._code(user_id)
        self._at[slot] = create_at
        self._endorse[slot] = min(endorsements, 65_535)
        self._accepts[slot] = min(accepts, 65_535)
        if not flags & LINKED:
            root = self._slot_of(root_id) if root_id else -1
            self._root[slot] = root
            self._link(slot, root, self._channel[slot], create_at)
        self._flags[slot] = ALIVE | LINKED | (QUESTION * question) | (ASKS * asks) | (CONTENT_FREE * content_free)

    def load(self, rows: Iterable[tuple[str, str, str, str, int, bool, bool, bool, int, int]]) -> None:
        """`add` for every row (post_id, channel_id, user_id, root_id, create_at, question, asks, content_free,
        endorsements, accepts), as the store opens: a post not seen before (nearly all of them, read in time order)
        takes one append per column, without the placeholder `add` writes first. A million posts load in 6.2 s instead
        of 9.5 (2-core machine), which a restart and a replica taking over both wait for."""
        slots, ids, codes = self._slot, self._ids, self._codes
        channel, user, root_of, first, after, last = self._channel, self._user, self._root, self._first, self._next, self._last
        at_column, flags, endorse_column, accept_column, link = self._at, self._flags, self._endorse, self._accepts, self._link
        for post_id, channel_id, user_id, root_id, at, question, asks, content_free, endorse, accept in rows:
            if post_id in slots:  # named earlier as the root of a reply read before it: the general path
                self.add(post_id, channel_id, user_id, root_id, at, question=question, asks=asks, content_free=content_free,
                         endorsements=endorse, accepts=accept)
                continue
            root = (slots[root_id] if root_id in slots else self._slot_of(root_id)) if root_id else -1
            c = codes[channel_id] if channel_id in codes else self._code(channel_id)
            slot = len(ids)
            ids.append(post_id)
            slots[post_id] = slot
            channel.append(c)
            user.append(codes[user_id] if user_id in codes else self._code(user_id))
            root_of.append(root)
            first.append(-1)
            after.append(-1)
            last.append(-1)
            at_column.append(at)
            endorse_column.append(min(endorse, 65_535))
            accept_column.append(min(accept, 65_535))
            link(slot, root, c, at)
            flags.append(ALIVE | LINKED | (QUESTION * question) | (ASKS * asks) | (CONTENT_FREE * content_free))

    def _link(self, slot: int, root: int, channel: int, at: int) -> None:
        """Puts a post at the end of its thread's replies (root >= 0), or of its channel's timeline."""
        if root >= 0:
            last = self._last[root]
            if last < 0:
                self._first[root] = slot
            else:
                self._next[last] = slot
            self._last[root] = slot
        else:
            timeline = self._timelines.get(channel)
            if timeline is None:
                timeline = self._timelines[channel] = _Timeline()
            timeline.append(at, slot)

    def edit(self, post_id: str, *, question: bool, asks: bool, content_free: bool) -> None:
        slot = self._slot.get(post_id)
        if slot is not None and self._flags[slot] & ALIVE:
            self._flags[slot] = ALIVE | LINKED | (QUESTION * question) | (ASKS * asks) | (CONTENT_FREE * content_free)

    def delete(self, post_id: str) -> None:
        slot = self._slot.get(post_id)
        if slot is not None:
            self._flags[slot] &= ~ALIVE & 0xFF

    def put(self, post_id: str, channel_id: str, user_id: str, root_id: str, create_at: int, question: bool, asks: bool,
            content_free: bool, endorsements: int, accepts: int) -> None:
        """A post as the store has it now (a replica following another's writes): added when not alive here, else
        its roles and reaction counts set (a post's author, channel, thread and time never change)."""
        slot = self._slot.get(post_id)
        if slot is None or not self._flags[slot] & ALIVE:
            self.add(post_id, channel_id, user_id, root_id, create_at, question=question, asks=asks, content_free=content_free,
                     endorsements=endorsements, accepts=accepts)
            return
        self._endorse[slot], self._accepts[slot] = min(endorsements, 65_535), min(accepts, 65_535)
        self.edit(post_id, question=question, asks=asks, content_free=content_free)

    def react(self, post_id: str, *, endorse: int, accept: int) -> None:
        """Counts one endorsing or accepting reaction more (+1) or less (-1)."""
        slot = self._slot.get(post_id)
        if slot is not None:
            self._endorse[slot] = min(max(self._endorse[slot] + endorse, 0), 65_535)
            self._accepts[slot] = min(max(self._accepts[slot] + accept, 0), 65_535)

    # -- reading -----------------------------------------------------------------------------

    def alive(self, post_id: str) -> bool:
        slot = self._slot.get(post_id)
        return slot is not None and bool(self._flags[slot] & ALIVE)

    def get(self, post_ids: Iterable[str]) -> dict[str, PostFacts]:
        """The facts of the posts that exist (unknown and deleted ones are left out), without their text
        (message ""): the ranking needs none; Conversation.messages reads it for what is shown."""
        out: dict[str, PostFacts] = {}
        slots, ids, names, flags_of = self._slot, self._ids, self._names, self._flags
        for post_id in post_ids:
            slot = slots.get(post_id)
            if slot is None:
                continue
            flags = flags_of[slot]
            if not flags & ALIVE:
                continue
            root = self._root[slot]
            root_id = root_user = ""
            if root >= 0:
                root_id = ids[root]
                if flags_of[root] & ALIVE:
                    root_user = names[self._user[root]]
            out[post_id] = PostFacts(post_id, names[self._channel[slot]], names[self._user[slot]], root_id, root_user, self._at[slot], "",
                                     self._endorse[slot], self._accepts[slot] > 0 and root_user != "", bool(flags & QUESTION),
                                     bool(flags & ASKS), bool(flags & CONTENT_FREE))
        return out

    def replies(self, root_ids: Sequence[str]) -> dict[str, list[str]]:
        """The live replies of each given thread root, oldest first (roots without any are left out)."""
        out: dict[str, list[str]] = {}
        for root_id in root_ids:
            root = self._slot.get(root_id)
            if root is None:
                continue
            found: list[tuple[int, str]] = []
            slot = self._first[root]
            while slot >= 0:
                if self._flags[slot] & ALIVE:
                    found.append((self._at[slot], self._ids[slot]))
                slot = self._next[slot]
            if found:
                found.sort()
                out[root_id] = [post_id for _, post_id in found]
        return out

    def following(self, post_id: str, *, within_ms: int, limit: int) -> list[str]:
        """Unthreaded posts by others right after a root post in its channel (at most `limit`, within the window)."""
        slot = self._slot.get(post_id)
        if slot is None or not self._flags[slot] & ALIVE or limit <= 0:
            return []
        timeline = self._timelines.get(self._channel[slot])
        if timeline is None:
            return []
        timeline.sort()
        at, user = self._at[slot], self._user[slot]
        out: list[str] = []
        times, slots = timeline.times, timeline.slots
        i = bisect.bisect_right(times, at)
        while i < len(times) and times[i] <= at + within_ms and len(out) < limit:
            other = slots[i]
            if self._flags[other] & ALIVE and self._user[other] != user:
                out.append(self._ids[other])
            i += 1
        return out


def reaction_counts(db: Database, endorsing: Sequence[str], accepting: Sequence[str],
                    post_ids: Sequence[str] | None = None) -> dict[str, tuple[int, int]]:
    """post id -> (endorsements, acceptances) its reactions give (the rules of Conversation.post_facts), for every
    post with a reaction, or only for `post_ids` (at most a few hundred: one statement)."""
    endorse_marks, accept_marks = ",".join("?" * len(endorsing)), ",".join("?" * len(accepting))
    only = f"WHERE x.post_id IN ({','.join('?' * len(post_ids))})" if post_ids is not None else ""
    return {post_id: (int(endorse or 0), int(accept or 0)) for post_id, endorse, accept in db.execute(
        f"""SELECT x.post_id,
              SUM(CASE WHEN x.user_id != p.user_id AND x.emoji_name IN ({endorse_marks}) THEN 1 ELSE 0 END),
              SUM(CASE WHEN r.user_id IS NOT NULL AND x.user_id = r.user_id AND x.user_id != p.user_id
                       AND x.emoji_name IN ({accept_marks}) THEN 1 ELSE 0 END)
            FROM reactions x JOIN posts p ON p.post_id = x.post_id
            LEFT JOIN posts r ON r.post_id = p.root_id AND p.root_id != '' {only} GROUP BY x.post_id""",
        (*endorsing, *accepting, *(post_ids or ())))}


POST_COLUMNS = "post_id, channel_id, user_id, root_id, create_at, is_question, asks, content_free"
"""What the table keeps of a post's row (with its reactions' counts)."""


def load_facts(db: Database, endorsing: Sequence[str], accepting: Sequence[str]) -> FactsTable:
    """The table of every post in the store, with the endorsements and acceptance its reactions give
    (the same rules as Conversation.post_facts), in time order."""
    reactions = reaction_counts(db, endorsing, accepting)
    table = FactsTable()
    none = (0, 0)
    table.load((post_id, channel_id, user_id, root_id, at, bool(question), bool(asks), bool(content_free), *reactions.get(post_id, none))
               for post_id, channel_id, user_id, root_id, at, question, asks, content_free in db.execute(
                   f"SELECT {POST_COLUMNS} FROM posts ORDER BY create_at, post_id"))
    return table

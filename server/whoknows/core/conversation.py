"""The conversation's structure beside the text index: who wrote which post where, threads, reactions, people.

Kept in SQL (a SQLite file by default, `:memory:` in tests and evaluation, or PostgreSQL) so the ranking can join
hits with thread roles, endorsements and activity without a second text engine. Activity is kept as
exponentially decayed counters so reading a person's recent activity costs O(1) at any moment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence

from .activity import count_activity, decayed
from .changes import CHANNEL, POST, ChangeLog, Changed, apply_changes
from .conversation_schema import open_database
from .database import Database
from .facts import FactsTable, load_facts
from .questions import is_question
from .records import Activity, Person, PostFacts, ends_with_question
from .substance import is_content_free
from .events import (
    ChannelMemberAdded,
    ChannelMemberRemoved,
    ChannelUpdated,
    PostCreated,
    PostDeleted,
    PostEdited,
    ReactionAdded,
    ReactionRemoved,
    SuggestionRejected,
    TeamUpdated,
    UserErased,
    UserOptedIn,
    UserOptedOut,
    UserUpdated,
)

# Reactions that say "this answer helped" when given by someone other than the author.
ENDORSING_EMOJI = frozenset(
    {"white_check_mark", "heavy_check_mark", "ballot_box_with_check", "+1", "thumbsup", "100", "pray", "raised_hands", "clap", "tada", "bulb", "star", "heart"}
)
# Reactions that mark the accepted answer when the thread's asker gives them.
ACCEPTING_EMOJI = frozenset({"white_check_mark", "heavy_check_mark", "ballot_box_with_check"})

class Conversation:
    """SQL store of the conversation's structure. Writes happen inside `apply`; reads are plain queries."""

    def __init__(self, path: str | Database = ":memory:", *, opted_out_by_default: bool = False, extra_endorsing: frozenset[str] = frozenset(),
                 change_log: bool = False) -> None:
        """`change_log`: record what each commit changes (core.changes), for replicas that follow this store."""
        # The configured learning emoji endorses too, whatever it is.
        self.endorsing = tuple(sorted(ENDORSING_EMOJI | extra_endorsing))
        """Every emoji that endorses a post here (the configured learning emoji included)."""
        self.accepting = _ACCEPT_ARGS
        """Every emoji that marks the accepted answer when the asker gives it."""
        self.db: Database = open_database(path)
        self.opted_out_by_default = opted_out_by_default
        self._channels: set[str] | None = None
        self._accepting = frozenset(ACCEPTING_EMOJI)
        self._endorsing = frozenset(self.endorsing)
        self.facts = load_facts(self.db, self.endorsing, self.accepting)
        """Every post's facts in memory, for the ranking (changed only after a transaction commits)."""
        self._deferred: list[Callable[[FactsTable], None]] | None = None
        self.changes = ChangeLog() if change_log else None

    def _later(self, change: Callable[[FactsTable], None], *posts: str) -> None:
        """Changes the facts table (of these posts) once the store's transaction commits (at once outside one)."""
        if self.changes is not None:
            for post_id in posts:
                self._touch(POST, post_id)
        if self._deferred is None:
            change(self.facts)
        else:
            self._deferred.append(change)

    def _touch(self, kind: str, key: str) -> None:
        if self.changes is not None:
            self.changes.touch(kind, key)
            if self._deferred is None:
                self.changes.write(self.db)

    def follow(self, changed: Changed) -> None:
        """Another process's committed changes to this store (a replica that does not lead), read by core.changes."""
        apply_changes(self.facts, changed)
        if self._channels is not None:
            self._channels |= changed.channels

    def reload(self, facts: FactsTable) -> None:
        """The whole table, loaded again (a follower that missed changes)."""
        self.facts, self._channels = facts, None

    def close(self) -> None:
        self.db.close()

    # -- writing -----------------------------------------------------------------------------

    def begin(self) -> None:
        self.db.begin()
        self._deferred = []

    def commit(self) -> None:
        if self.changes is not None:
            self.changes.write(self.db)
        self.db.commit()
        changes, self._deferred = self._deferred or [], None
        for change in changes:
            change(self.facts)

    def rollback(self) -> None:
        self.db.rollback()
        self._deferred = None
        if self.changes is not None:
            self.changes.discard()

    def add_post(self, e: PostCreated) -> bool:
        """Records a post; False if the id was already known (re-delivery), which changes nothing."""
        root_user = ""
        if e.root_id:
            row = self.db.execute("SELECT user_id FROM posts WHERE post_id=?", (e.root_id,)).fetchone()
            root_user = row[0] if row else ""
        is_answer = int(bool(e.root_id) and root_user != e.user_id)
        question = not e.root_id and is_question(e.message)
        asks, free = ends_with_question(e.message), is_content_free(e.message)
        cur = self.db.execute(
            "INSERT OR IGNORE INTO posts(post_id, channel_id, user_id, root_id, create_at, edit_at, message, is_answer, is_question, "
            "asks, content_free) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            (e.post_id, e.channel_id, e.user_id, e.root_id, e.create_at, e.create_at, e.message, is_answer, int(question), int(asks), int(free)),
        )
        if cur.rowcount == 0:
            return False
        self._later(lambda t: t.add(e.post_id, e.channel_id, e.user_id, e.root_id, e.create_at, question=question, asks=asks, content_free=free), e.post_id)
        if self._channels is not None:
            self._channels.add(e.channel_id)
        self._count_activity(e.user_id, e.create_at, is_answer, +1)
        return True

    def edit_post(self, e: PostEdited) -> tuple[str, str] | None:
        """Changes a post's text; (channel id, author) of the post, None if unknown or a newer edit is kept."""
        asks, free = ends_with_question(e.message), is_content_free(e.message)
        row = self.db.execute(
            "UPDATE posts SET message=?, edit_at=?, is_question=CASE WHEN root_id='' AND ?=1 THEN 1 ELSE 0 END, asks=?, content_free=? WHERE post_id=? AND edit_at<=? "
            "RETURNING is_question, channel_id, user_id",
            (e.message, e.edit_at, int(is_question(e.message)), int(asks), int(free), e.post_id, e.edit_at),
        ).fetchone()
        if row is None:
            return None
        question = bool(row[0])
        self._later(lambda t: t.edit(e.post_id, question=question, asks=asks, content_free=free), e.post_id)
        return str(row[1]), str(row[2])

    def delete_post(self, e: PostDeleted) -> list[str]:
        """The posts that leave: the post, and its replies when it is a thread's root (Mattermost deletes the
        whole thread but reports only the root's deletion)."""
        gone = [r[0] for r in self.db.execute(  # two index searches (an OR of the two would scan every post)
            "SELECT post_id FROM posts WHERE post_id=? UNION ALL SELECT post_id FROM posts WHERE root_id=? AND root_id != ''",
            (e.post_id, e.post_id))]
        for post_id in gone:
            self._delete_one(post_id)
        return gone

    def _delete_one(self, post_id: str) -> None:
        row = self.db.execute("SELECT user_id, create_at, is_answer FROM posts WHERE post_id=?", (post_id,)).fetchone()
        self.db.execute("DELETE FROM posts WHERE post_id=?", (post_id,))
        self.db.execute("DELETE FROM reactions WHERE post_id=?", (post_id,))
        self._count_activity(row[0], row[1], row[2], -1)
        self._later(lambda t: t.delete(post_id), post_id)

    def _count_activity(self, user_id: str, at: int, is_answer: int, sign: int) -> None:
        count_activity(self.db, user_id, at, is_answer, sign)

    def add_reaction(self, e: ReactionAdded) -> bool:
        cur = self.db.execute("INSERT OR IGNORE INTO reactions VALUES(?,?,?,?)", (e.post_id, e.user_id, e.emoji_name, e.create_at))
        if cur.rowcount == 0:
            return False
        self._count_reaction(e.post_id, e.user_id, e.emoji_name, +1)
        return True

    def remove_reaction(self, e: ReactionRemoved) -> bool:
        cur = self.db.execute("DELETE FROM reactions WHERE post_id=? AND user_id=? AND emoji_name=?", (e.post_id, e.user_id, e.emoji_name))
        if cur.rowcount == 0:
            return False
        self._count_reaction(e.post_id, e.user_id, e.emoji_name, -1)
        return True

    def _count_reaction(self, post_id: str, user_id: str, emoji: str, sign: int) -> None:
        """What one reaction changes in the post's endorsements and acceptance (see post_facts)."""
        row = self.db.execute(
            "SELECT p.user_id, COALESCE(r.user_id, '') FROM posts p LEFT JOIN posts r ON r.post_id = p.root_id AND p.root_id != '' "
            "WHERE p.post_id=?", (post_id,)).fetchone()
        if row is None or row[0] == user_id:
            return
        endorse = sign * (emoji in self._endorsing)
        accept = sign * (emoji in self._accepting and row[1] == user_id)
        if endorse or accept:
            self._later(lambda t: t.react(post_id, endorse=endorse, accept=accept), post_id)

    def put_team(self, e: TeamUpdated) -> None:
        self.db.execute("INSERT OR REPLACE INTO teams VALUES(?,?,?)", (e.team_id, e.name, e.display_name))

    def put_channel(self, e: ChannelUpdated) -> None:
        if self._channels is not None:
            self._channels.add(e.channel_id)
        self._touch(CHANNEL, e.channel_id)
        self.db.execute("INSERT OR REPLACE INTO channels VALUES(?,?,?,?,?)", (e.channel_id, e.team_id, e.name, e.display_name, e.type))

    def put_user(self, e: UserUpdated) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO users VALUES(?,?,?,?,?)",
            (e.user_id, e.username, e.display_name, int(e.is_bot), int(e.deactivated)),
        )

    def add_member(self, e: ChannelMemberAdded) -> None:
        self.db.execute("INSERT OR IGNORE INTO members VALUES(?,?)", (e.channel_id, e.user_id))

    def remove_member(self, e: ChannelMemberRemoved) -> None:
        self.db.execute("DELETE FROM members WHERE channel_id=? AND user_id=?", (e.channel_id, e.user_id))

    def set_opt(self, e: UserOptedOut | UserOptedIn) -> None:
        self.db.execute("INSERT OR REPLACE INTO optouts VALUES(?,?,?)", (e.user_id, int(isinstance(e, UserOptedOut)), e.at))

    def erase_user(self, e: UserErased) -> list[str]:
        """Forgets a person's posts, reactions, activity and feedback; returns the post ids to unindex.
        They stay opted out (an erased person never appears again), and the erasure itself is kept."""
        ids = [r[0] for r in self.db.execute("SELECT post_id FROM posts WHERE user_id=?", (e.user_id,))]
        for post_id, emoji in self.db.execute("SELECT post_id, emoji_name FROM reactions WHERE user_id=?", (e.user_id,)).fetchall():
            self._count_reaction(post_id, e.user_id, emoji, -1)
        def forget(t: FactsTable) -> None:
            for post_id in ids:
                t.delete(post_id)
        self._later(forget, *ids)
        self.db.execute(
            "DELETE FROM reactions WHERE user_id=? OR post_id IN (SELECT post_id FROM posts WHERE user_id=?)",
            (e.user_id, e.user_id),
        )
        self.db.execute("DELETE FROM posts WHERE user_id=?", (e.user_id,))
        self.db.execute("DELETE FROM activity WHERE user_id=?", (e.user_id,))
        self.db.execute("DELETE FROM rejections WHERE user_id=? OR by_user_id=?", (e.user_id, e.user_id))
        self.db.execute("INSERT OR REPLACE INTO optouts VALUES(?,?,?)", (e.user_id, 1, e.at))
        self.db.execute("INSERT OR REPLACE INTO erased VALUES(?,?)", (e.user_id, e.at))
        return ids

    def erased_users(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT user_id FROM erased")}

    def add_rejection(self, e: SuggestionRejected) -> None:
        self.db.execute("INSERT OR IGNORE INTO rejections VALUES(?,?,?,?)", (e.user_id, e.topic, e.by_user_id, e.at))

    # -- reading -----------------------------------------------------------------------------

    def post_facts(self, post_ids: Sequence[str]) -> dict[str, PostFacts]:
        """Facts for the given posts that still exist (deleted ones are simply absent), with their text."""
        facts = self.facts.get(post_ids)
        texts = self.messages(facts)
        return {i: dataclasses.replace(f, message=texts.get(i, "")) for i, f in facts.items()}

    def messages(self, post_ids: Iterable[str]) -> dict[str, str]:
        """The text of the given posts that exist (the facts table keeps none)."""
        ids = list(dict.fromkeys(post_ids))
        out: dict[str, str] = {}
        for chunk in _chunks(ids, 900):
            marks = ",".join("?" * len(chunk))
            out.update(self.db.execute(f"SELECT post_id, message FROM posts WHERE post_id IN ({marks})", tuple(chunk)).fetchall())
        return out

    def replies(self, root_ids: Sequence[str]) -> dict[str, list[str]]:
        """The reply post ids of each given thread root, oldest first."""
        return self.facts.replies(root_ids)

    def following(self, post: PostFacts, *, within_ms: int, limit: int) -> list[str]:
        """Posts by others that came right after a root post in its channel, outside any thread: in a
        channel where people do not use threads, the answer to a question is simply the next message."""
        return self.facts.following(post.post_id, within_ms=within_ms, limit=limit)

    def activity(self, user_ids: Iterable[str], now: int) -> dict[str, Activity]:
        out: dict[str, Activity] = {}
        ids = list(user_ids)
        for chunk in _chunks(ids, 900):
            marks = ",".join("?" * len(chunk))
            for user_id, posts, answers, last_at, value, decayed_at in self.db.execute(
                f"SELECT user_id, posts, answers, last_at, decayed, decayed_at FROM activity WHERE user_id IN ({marks})", tuple(chunk)
            ):
                out[user_id] = Activity(posts, answers, last_at, decayed(value, decayed_at, now))
        return out

    def helped(self, user_id: str) -> dict[str, int]:
        """For each person, how many of this person's threads they replied in: who has helped them before."""
        rows = self.db.execute(
            "SELECT p.user_id, COUNT(DISTINCT p.root_id) FROM posts r JOIN posts p ON p.root_id = r.post_id "
            "WHERE r.user_id = ? AND r.root_id = '' AND p.user_id != ? GROUP BY p.user_id",
            (user_id, user_id),
        )
        return {u: n for u, n in rows}

    def recency_weighted(self, now: int, half_life_ms: float) -> dict[str, float]:
        """Each person's posts before `now`, each weighted 2^(-age / half-life) (the protocol's `recent`)."""
        rows = self.db.execute(
            "SELECT user_id, SUM(pow(2.0, -(? - create_at) / ?)) FROM posts WHERE create_at < ? GROUP BY user_id", (now, float(half_life_ms), now)
        )
        return {str(u): float(w) for u, w in rows}

    def post_counts(self) -> dict[str, int]:
        return {u: n for u, n in self.db.execute("SELECT user_id, posts FROM activity WHERE posts > 0")}

    def people(self, user_ids: Iterable[str]) -> dict[str, Person]:
        ids = list(user_ids)
        out: dict[str, Person] = {}
        default = int(self.opted_out_by_default)
        for chunk in _chunks(ids, 900):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"""SELECT u.user_id, u.username, u.display_name, u.is_bot, u.deactivated, COALESCE(o.opted_out, ?)
                    FROM users u LEFT JOIN optouts o ON o.user_id = u.user_id WHERE u.user_id IN ({marks})""",
                (default, *chunk),
            ).fetchall()
            for row in rows:
                out[row[0]] = Person(row[0], row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]))
        for user_id in ids:
            if user_id not in out:  # never introduced: name them by id, and respect the default
                out[user_id] = Person(user_id, user_id, "", False, False, bool(default))
        return out

    def user_by_name(self, username: str) -> str | None:
        row = self.db.execute("SELECT user_id FROM users WHERE username=?", (username,)).fetchone()
        return str(row[0]) if row else None

    def rejections(self, topic: str) -> dict[str, int]:
        return {u: n for u, n in self.db.execute("SELECT user_id, COUNT(*) FROM rejections WHERE topic=? GROUP BY user_id", (topic,))}

    def channel_team(self, channel_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """channel id -> (team name, channel name), for permalinks and labels."""
        ids = list(channel_ids)
        out: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(ids, 900):
            marks = ",".join("?" * len(chunk))
            for cid, team, name in self.db.execute(
                f"SELECT c.channel_id, COALESCE(t.name, c.team_id), c.name FROM channels c LEFT JOIN teams t ON t.team_id=c.team_id WHERE c.channel_id IN ({marks})",
                tuple(chunk),
            ):
                out[cid] = (team, name)
        return out

    def channel_named(self, team: str, channel: str) -> str | None:
        """The id of a channel given by team and channel name (where a question was asked)."""
        row = self.db.execute(
            "SELECT c.channel_id FROM channels c LEFT JOIN teams t ON t.team_id=c.team_id WHERE c.name=? AND COALESCE(t.name, c.team_id)=?",
            (channel, team),
        ).fetchone()
        return str(row[0]) if row else None

    def readable_channels(self, user_id: str | None) -> frozenset[str]:
        """Public channels, plus the private ones the person is a member of (no one: public only)."""
        rows = self.db.execute(
            "SELECT channel_id FROM channels WHERE type='O' UNION SELECT c.channel_id FROM channels c JOIN members m "
            "ON m.channel_id=c.channel_id WHERE c.type IN ('P','G') AND m.user_id=?",
            (user_id or "",),
        )
        return frozenset(r[0] for r in rows)

    def all_channels(self) -> frozenset[str]:
        """Every channel known, from its facts or from a post in it (kept in memory: asked on every query)."""
        if self._channels is None:
            rows = self.db.execute("SELECT channel_id FROM channels UNION SELECT DISTINCT channel_id FROM posts")
            self._channels = {r[0] for r in rows}
        return frozenset(self._channels)

    def channels_of_type(self, types: Collection[str]) -> list[str]:
        marks = ",".join("?" * len(types))
        return [r[0] for r in self.db.execute(f"SELECT channel_id FROM channels WHERE type IN ({marks})", tuple(types))]

    def posts_by(self, user_id: str, limit: int = 500) -> list[PostFacts]:
        """A person's latest posts, newest first (for what they are known for)."""
        ids = [r[0] for r in self.db.execute("SELECT post_id FROM posts WHERE user_id=? ORDER BY create_at DESC LIMIT ?", (user_id, limit))]
        facts = self.post_facts(ids)
        return [facts[i] for i in ids if i in facts]

    def channel_posts_since(self, channel_id: str, since: int) -> int:
        """How many posts a channel got since a time (how busy it is)."""
        return int(self.db.execute("SELECT COUNT(*) FROM posts WHERE channel_id=? AND create_at>=?", (channel_id, since)).fetchone()[0])

    def post_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM posts").fetchone()[0])

    def has_post(self, post_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM posts WHERE post_id=?", (post_id,)).fetchone() is not None


_ACCEPT_ARGS = tuple(sorted(ACCEPTING_EMOJI))


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


__all__ = ["ACCEPTING_EMOJI", "ENDORSING_EMOJI", "Activity", "Conversation", "Person", "PostFacts"]

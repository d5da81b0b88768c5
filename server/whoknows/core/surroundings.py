"""What surrounds a request in the conversation, besides the posts that match it: who is around, who is
speaking in the channel right now, how fast this channel usually answers, who is named, whose answers
were endorsed. Read-only queries on the conversation store, for the engine."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from .conversation import Conversation


def _chunks(items: Sequence[str], size: int = 900) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def posted_at(conv: Conversation, user_ids: Iterable[str], *, since: int, until: int) -> dict[str, list[int]]:
    """When each person posted in [since, until): who is around right now."""
    out: dict[str, list[int]] = {}
    for chunk in _chunks(list(user_ids)):
        marks = ",".join("?" * len(chunk))
        for user_id, at in conv.db.execute(
            f"SELECT user_id, create_at FROM posts WHERE user_id IN ({marks}) AND create_at>=? AND create_at<?", (*chunk, since, until)
        ):
            out.setdefault(user_id, []).append(at)
    return out


def latest_speakers(conv: Conversation, channel_id: str, *, before: int, limit: int) -> list[tuple[str, int]]:
    """(author, time) of a channel's latest posts before a moment, newest first."""
    rows = conv.db.execute(
        "SELECT user_id, create_at FROM posts WHERE channel_id=? AND create_at<? ORDER BY create_at DESC LIMIT ?", (channel_id, before, limit)
    )
    return [(str(u), int(at)) for u, at in rows]


def reply_latency(conv: Conversation, channel_id: str, *, before: int, sample: int = 100) -> int | None:
    """How soon someone else usually answers a new thread in this channel (the median over its latest
    `sample` answered threads, in ms): minutes in a chat, hours or days on a Q&A site. None: no threads."""
    rows = conv.db.execute(
        """SELECT gap FROM (
             SELECT (SELECT MIN(r.create_at) FROM posts r WHERE r.root_id = p.post_id AND r.root_id != '' AND r.user_id != p.user_id
                       AND r.create_at < ?) - p.create_at AS gap, p.create_at
             FROM (SELECT post_id, user_id, create_at FROM posts WHERE channel_id=? AND root_id='' AND create_at<?
                   ORDER BY create_at DESC LIMIT ?) p) g
           WHERE gap IS NOT NULL ORDER BY create_at DESC LIMIT ?""",
        (before, channel_id, before, sample * 20, sample),
    ).fetchall()
    gaps = sorted(int(r[0]) for r in rows)
    return gaps[len(gaps) // 2] if gaps else None


def users_named(conv: Conversation, usernames: Collection[str]) -> dict[str, str]:
    """username (lowercased) -> user id, for the names given that belong to someone."""
    names = sorted({n.lower() for n in usernames})
    out: dict[str, str] = {}
    for chunk in _chunks(names):
        marks = ",".join("?" * len(chunk))
        for user_id, username in conv.db.execute(f"SELECT user_id, username FROM users WHERE lower(username) IN ({marks})", tuple(chunk)):
            out[str(username).lower()] = str(user_id)
    return out


def endorsed_answers(conv: Conversation, *, before: int) -> dict[str, int]:
    """For everyone, how many of their replies in others' threads someone else endorsed or accepted before a
    moment: a reputation for answers that helped, on any topic. One pass over the reactions."""
    marks = ",".join("?" * len(conv.endorsing))
    rows = conv.db.execute(
        f"""SELECT p.user_id, COUNT(DISTINCT p.post_id) FROM reactions x JOIN posts p ON p.post_id = x.post_id
            WHERE x.emoji_name IN ({marks}) AND x.create_at < ? AND p.is_answer = 1 AND p.create_at < ? AND x.user_id != p.user_id
            GROUP BY p.user_id""",
        (*conv.endorsing, before, before),
    )
    return {str(u): int(n) for u, n in rows}

"""What each commit of the conversation store changed, for replicas that answer from a store another process writes
(several whoknows processes on one PostgreSQL store).

The process that leads records the posts and channels a transaction touched in the table `changes`, numbered in
commit order, inside that transaction (`ChangeLog`). A replica that follows reads the rows after the last number it
has seen and brings its in-memory facts table (core.facts) and channel list up to date from the store's rows as
they are now (`read_changes`, `apply_changes`): the same rows a restart would load, so applying one twice changes
nothing. Only the leader writes, one transaction at a time, so the numbers follow each other without a gap; a
follower that finds one (the log was trimmed past it, or wiped) loads the whole table again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .database import Database
from .facts import POST_COLUMNS, FactsTable, reaction_counts

POST, CHANNEL = "post", "channel"
KEEP = 200_000
"""Rows the log keeps: a follower further behind than this loads its table again."""
TRIM_EVERY = 500
"""Commits between two trims."""
ROWS_PER_STATEMENT = 300
READ_LIMIT = 20_000
"""Rows a follower reads at once (a burst, an import, is followed in steps)."""

PostRow = tuple[str, str, str, int, bool, bool, bool, int, int]
"""channel, author, root, time, question, asks, content-free, endorsements, acceptances (FactsTable.put's order)."""


class ChangeLog:
    """What the open transaction touched; written with it (`write`, just before the commit)."""

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str], None] = {}
        self._commits = 0
        self.last: int | None = None
        """The number of the last change this process wrote (None: none yet)."""

    def touch(self, kind: str, key: str) -> None:
        self._pending[(kind, key)] = None

    def discard(self) -> None:
        self._pending.clear()

    def write(self, db: Database) -> None:
        if not self._pending:
            return
        rows, base = list(self._pending), last_seq(db)
        self._pending.clear()
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start:start + ROWS_PER_STATEMENT]
            args = [v for n, (kind, key) in enumerate(chunk, base + start + 1) for v in (n, kind, key)]
            db.execute(f"INSERT INTO changes(seq, kind, key) VALUES {','.join(['(?,?,?)'] * len(chunk))}", args)
        self._commits += 1
        self.last = base + len(rows)
        if self._commits % TRIM_EVERY == 0:
            db.execute("DELETE FROM changes WHERE seq <= ?", (base + len(rows) - KEEP,))


def changed_posts(db: Database, since: int) -> list[str] | None:
    """Every post changed after change `since`, or None when the log no longer reaches back that far."""
    first = db.execute("SELECT MIN(seq) FROM changes").fetchone()[0]
    if first is not None and int(first) > since + 1:
        return None
    return list(dict.fromkeys(str(r[0]) for r in db.execute(
        "SELECT key FROM changes WHERE seq > ? AND kind = ? ORDER BY seq", (since, POST))))


def last_seq(db: Database) -> int:
    """The number of the last change recorded (0: none): where a follower that loads the whole table starts."""
    return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])


@dataclass
class Changed:
    last: int
    """The last change read (the next read starts after it)."""
    posts: dict[str, PostRow | None] = field(default_factory=dict)
    """post id -> its row as the store has it now, None when it is gone."""
    channels: set[str] = field(default_factory=set)
    gap: bool = False
    """Changes were missed: the whole table must be loaded again."""


def read_changes(db: Database, since: int, endorsing: Sequence[str], accepting: Sequence[str], limit: int = READ_LIMIT) -> Changed:
    """The changes after `since`, with the current rows of the posts they name (blocking: run off the event loop)."""
    rows = db.execute("SELECT seq, kind, key FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit)).fetchall()
    if not rows:
        return Changed(since)
    if int(rows[0][0]) != since + 1:
        return Changed(int(rows[-1][0]), gap=True)
    out = Changed(int(rows[-1][0]), channels={str(k) for _, kind, k in rows if kind == CHANNEL})
    ids = list(dict.fromkeys(str(k) for _, kind, k in rows if kind == POST))
    for start in range(0, len(ids), ROWS_PER_STATEMENT):
        chunk = ids[start:start + ROWS_PER_STATEMENT]
        found = {r[0]: r for r in db.execute(f"SELECT {POST_COLUMNS} FROM posts WHERE post_id IN ({','.join('?' * len(chunk))})",
                                             tuple(chunk)).fetchall()}
        counts = reaction_counts(db, endorsing, accepting, chunk)
        for post_id in chunk:
            row = found.get(post_id)
            if row is None:
                out.posts[post_id] = None
                continue
            endorse, accept = counts.get(post_id, (0, 0))
            out.posts[post_id] = (row[1], row[2], row[3], int(row[4]), bool(row[5]), bool(row[6]), bool(row[7]), endorse, accept)
            out.channels.add(row[1])
    return out


def apply_changes(facts: FactsTable, changed: Changed) -> None:
    for post_id, row in changed.posts.items():
        if row is None:
            facts.delete(post_id)
        else:
            facts.put(post_id, *row)


__all__ = ["CHANNEL", "KEEP", "POST", "ChangeLog", "Changed", "apply_changes", "changed_posts", "last_seq", "read_changes"]

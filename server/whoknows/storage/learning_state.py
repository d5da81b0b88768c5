"""What the learning threads remember, in the service's state: each channel's thread, each captured
post and its reply, each digest period. Intent is written before anything is posted, so a restart can tell
"never posted" from "posted, but the id was not saved yet" (then it looks for the post's idempotency key)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from ..core.database import Database

ThreadStatus = Literal["creating", "active", "retired"]
CaptureStatus = Literal["posting", "done", "removed"]
DigestStatus = Literal["posting", "done", "skipped"]


@dataclass(frozen=True, slots=True)
class Thread:
    channel_id: str
    root_id: str
    title: str
    created_at: int
    status: ThreadStatus


@dataclass(frozen=True, slots=True)
class Capture:
    post_id: str
    channel_id: str
    reply_id: str
    flagged_by: tuple[str, ...]
    captured_at: int
    status: CaptureStatus


@dataclass(frozen=True, slots=True)
class DigestRun:
    key: str
    channel_id: str
    start: int
    end: int
    post_id: str
    status: DigestStatus


class LearningState:
    def __init__(self, db: Database) -> None:
        self.db = db  # its tables are made by the service state's migrations (storage.service_schema)

    def since(self, now: int) -> int:
        """When learning capture started here (kept): reactions older than that are history, not captures."""
        self.db.execute("INSERT OR IGNORE INTO settings VALUES('learning_since', ?)", (str(now),))
        return int(self.db.execute("SELECT value FROM settings WHERE key='learning_since'").fetchone()[0])

    # -- threads --------------------------------------------------------------------------------

    def thread(self, channel_id: str) -> Thread | None:
        row = self.db.execute("SELECT channel_id, root_id, title, created_at, status FROM learning_threads WHERE channel_id=?", (channel_id,)).fetchone()
        return Thread(*row) if row else None

    def active_threads(self) -> list[Thread]:
        rows = self.db.execute("SELECT channel_id, root_id, title, created_at, status FROM learning_threads WHERE status='active'")
        return [Thread(*r) for r in rows]

    def put_thread(self, thread: Thread) -> None:
        self.db.execute("INSERT OR REPLACE INTO learning_threads VALUES(?,?,?,?,?)",
                        (thread.channel_id, thread.root_id, thread.title, thread.created_at, thread.status))

    # -- captures -------------------------------------------------------------------------------

    def capture(self, post_id: str) -> Capture | None:
        row = self.db.execute("SELECT post_id, channel_id, reply_id, flagged_by, captured_at, status FROM learning_captures WHERE post_id=?",
                              (post_id,)).fetchone()
        return Capture(row[0], row[1], row[2], tuple(json.loads(row[3])), row[4], row[5]) if row else None

    def put_capture(self, c: Capture) -> None:
        self.db.execute("INSERT OR REPLACE INTO learning_captures VALUES(?,?,?,?,?,?)",
                        (c.post_id, c.channel_id, c.reply_id, json.dumps(list(c.flagged_by)), c.captured_at, c.status))

    def captures_between(self, channel_id: str, start: int, end: int) -> list[Capture]:
        rows = self.db.execute("SELECT post_id FROM learning_captures WHERE channel_id=? AND captured_at>=? AND captured_at<? "
                               "AND status='done' ORDER BY captured_at", (channel_id, start, end)).fetchall()
        return [c for c in (self.capture(r[0]) for r in rows) if c is not None]

    # -- digests --------------------------------------------------------------------------------

    def digest(self, key: str) -> DigestRun | None:
        row = self.db.execute("SELECT key, channel_id, start, \"end\", post_id, status FROM learning_digests WHERE key=?", (key,)).fetchone()
        return DigestRun(*row) if row else None

    def put_digest(self, run: DigestRun) -> None:
        self.db.execute("INSERT OR REPLACE INTO learning_digests VALUES(?,?,?,?,?,?)",
                        (run.key, run.channel_id, run.start, run.end, run.post_id, run.status))


__all__ = ["Capture", "DigestRun", "LearningState", "Thread"]

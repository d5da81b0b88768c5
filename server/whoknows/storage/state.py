"""The service's own state beside the conversation store: backfill checkpoints, slash-command tokens,
the button-signing secret, suggestion throttles and per-channel suggestion switches.

A sibling SQLite file in the data folder (or its own connection to the PostgreSQL store), so its small writes
never interleave with the pipeline's transactions on the conversation store.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from ..core.database import Database, SqliteDatabase
from ..core.migrations import migrate
from .service_schema import COMPONENT, MIGRATIONS

STATE_FILE = "service.sqlite"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    since: int
    """Every post changed up to this time (ms) has been applied."""
    history_before: str
    """Backfill cursor: the oldest post id read so far (empty: start from the newest)."""
    history_done: bool


class ServiceState:
    def __init__(self, path: Path | str | Database) -> None:
        self.db: Database = SqliteDatabase(str(path)) if isinstance(path, (Path, str)) else path
        try:
            migrate(self.db, MIGRATIONS, name=f"the service state {self.db.name}", component=COMPONENT)
        except BaseException:
            self.db.close()
            raise

    @classmethod
    def in_folder(cls, data: Path) -> ServiceState:
        data.mkdir(parents=True, exist_ok=True)
        return cls(data / STATE_FILE)

    def close(self) -> None:
        self.db.close()

    def action_secret(self) -> bytes:
        """Generated once, kept: buttons on cards posted before a restart keep working."""
        row = self.db.execute("SELECT value FROM settings WHERE key='action_secret'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        secret = secrets.token_bytes(32)
        self.db.execute("INSERT OR IGNORE INTO settings VALUES('action_secret', ?)", (secret.hex(),))
        return self.action_secret()

    def checkpoint(self, channel_id: str) -> Checkpoint:
        row = self.db.execute("SELECT since, history_before, history_done FROM checkpoints WHERE channel_id=?", (channel_id,)).fetchone()
        return Checkpoint(row[0], row[1], bool(row[2])) if row else Checkpoint(0, "", False)

    def save_checkpoint(self, channel_id: str, cp: Checkpoint) -> None:
        """Saved after every live change, so without waiting for the disk (for this write only): a power cut may
        lose the latest ones, which only means reading those posts again; never a post unread."""
        with self.db.unsynced():
            self.db.execute("INSERT OR REPLACE INTO checkpoints VALUES(?,?,?,?)", (channel_id, cp.since, cp.history_before, int(cp.history_done)))

    def indexed_through(self) -> int | None:
        """The store's last change (core.changes) the shared index is known to hold (None: not known)."""
        row = self.db.execute("SELECT value FROM settings WHERE key='indexed_through'").fetchone()
        return int(row[0]) if row else None

    def save_indexed_through(self, seq: int) -> None:
        with self.db.unsynced():  # lost in a power cut, it is only older: a take-over repairs a few more posts
            self.db.execute("INSERT OR REPLACE INTO settings VALUES('indexed_through', ?)", (str(seq),))

    def command_token(self, team_id: str) -> str | None:
        row = self.db.execute("SELECT token FROM command_tokens WHERE team_id=?", (team_id,)).fetchone()
        return str(row[0]) if row else None

    def command_tokens(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT token FROM command_tokens")]

    def save_command(self, team_id: str, command_id: str, token: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO command_tokens VALUES(?,?,?)", (team_id, command_id, token))

    def last(self, key: str) -> int | None:
        row = self.db.execute("SELECT at FROM throttles WHERE key=?", (key,)).fetchone()
        return int(row[0]) if row else None

    def mark(self, key: str, at: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO throttles VALUES(?,?)", (key, at))

    def channel_suggestions(self, channel_id: str) -> bool | None:
        """The channel admins' choice, or None when nobody chose."""
        row = self.db.execute("SELECT enabled FROM channel_suggestions WHERE channel_id=?", (channel_id,)).fetchone()
        return bool(row[0]) if row else None

    def set_channel_suggestions(self, channel_id: str, enabled: bool) -> None:
        self.db.execute("INSERT OR REPLACE INTO channel_suggestions VALUES(?,?)", (channel_id, int(enabled)))

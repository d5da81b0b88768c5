"""The service state's file (service.sqlite) as numbered migrations (core.migrations): ServiceState's tables
and the learning threads' (LearningState), which share the file.

Migration 1 is the schema as released before migrations were numbered (CREATE ... IF NOT EXISTS), so a
file from then passes it unchanged and is only recorded. Add changes as new numbers; never edit a released one.
"""

from __future__ import annotations

from ..core.migrations import Migration, script

_STATE_1 = """
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints(channel_id TEXT PRIMARY KEY, since INTEGER NOT NULL,
  history_before TEXT NOT NULL, history_done INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS command_tokens(team_id TEXT PRIMARY KEY, command_id TEXT NOT NULL, token TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS throttles(key TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS channel_suggestions(channel_id TEXT PRIMARY KEY, enabled INTEGER NOT NULL);
"""

_LEARNING_1 = """
CREATE TABLE IF NOT EXISTS learning_threads(channel_id TEXT PRIMARY KEY, root_id TEXT NOT NULL, title TEXT NOT NULL,
  created_at INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS learning_captures(post_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, reply_id TEXT NOT NULL,
  flagged_by TEXT NOT NULL, captured_at INTEGER NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS learning_captures_by_channel ON learning_captures(channel_id, captured_at);
CREATE TABLE IF NOT EXISTS learning_digests(key TEXT PRIMARY KEY, channel_id TEXT NOT NULL, start INTEGER NOT NULL,
  "end" INTEGER NOT NULL, post_id TEXT NOT NULL, status TEXT NOT NULL);
"""

COMPONENT = "service"
"""The component's name in a database holding several (PostgreSQL's whoknows_schema)."""

MIGRATIONS = (
    Migration(1, "the service state and the learning threads as first released", script(_STATE_1 + _LEARNING_1)),
    Migration(2, "inbox: events a replica that does not lead hands to the one that does (service.relay)",
              script("CREATE TABLE IF NOT EXISTS inbox(id TEXT PRIMARY KEY, at INTEGER NOT NULL, event TEXT NOT NULL);"
                     "CREATE INDEX IF NOT EXISTS inbox_by_time ON inbox(at)")),
)

__all__ = ["COMPONENT", "MIGRATIONS"]

"""The conversation store's schema, as numbered migrations (core.migrations): the tables of `Conversation`.

Migration 1 is the schema as released before migrations were numbered, written with CREATE ... IF NOT
EXISTS, so a file from then (user_version 0) passes it unchanged and is only recorded; later changes are
new numbers, never edits of released ones.
"""

from __future__ import annotations

from .database import Database, SqliteDatabase
from .migrations import Migration, columns, migrate, script
from .questions import is_question
from .substance import is_content_free

_SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS teams(team_id TEXT PRIMARY KEY, name TEXT NOT NULL, display_name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS channels(channel_id TEXT PRIMARY KEY, team_id TEXT NOT NULL, name TEXT NOT NULL,
  display_name TEXT NOT NULL, type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users(user_id TEXT PRIMARY KEY, username TEXT NOT NULL, display_name TEXT NOT NULL,
  is_bot INTEGER NOT NULL, deactivated INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS users_by_name ON users(username);
CREATE TABLE IF NOT EXISTS members(channel_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY(channel_id, user_id));
CREATE TABLE IF NOT EXISTS posts(post_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, user_id TEXT NOT NULL,
  root_id TEXT NOT NULL, create_at INTEGER NOT NULL, edit_at INTEGER NOT NULL, message TEXT NOT NULL,
  is_answer INTEGER NOT NULL, is_question INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS posts_by_root ON posts(root_id) WHERE root_id != '';
CREATE INDEX IF NOT EXISTS posts_by_user ON posts(user_id, create_at);
CREATE INDEX IF NOT EXISTS posts_by_channel ON posts(channel_id, create_at);
CREATE TABLE IF NOT EXISTS reactions(post_id TEXT NOT NULL, user_id TEXT NOT NULL, emoji_name TEXT NOT NULL,
  create_at INTEGER NOT NULL, PRIMARY KEY(post_id, user_id, emoji_name));
CREATE TABLE IF NOT EXISTS activity(user_id TEXT PRIMARY KEY, posts INTEGER NOT NULL, answers INTEGER NOT NULL,
  first_at INTEGER NOT NULL, last_at INTEGER NOT NULL, decayed REAL NOT NULL, decayed_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS optouts(user_id TEXT PRIMARY KEY, opted_out INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS erased(user_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejections(user_id TEXT NOT NULL, topic TEXT NOT NULL, by_user_id TEXT NOT NULL,
  at INTEGER NOT NULL, PRIMARY KEY(user_id, topic, by_user_id));
"""


def _questions_column(db: Database) -> None:
    """Folders made before posts knew whether they are questions: add the column and fill it for root posts."""
    if "is_question" in columns(db, "posts"):
        return
    db.execute("ALTER TABLE posts ADD COLUMN is_question INTEGER NOT NULL DEFAULT 0")
    roots = db.execute("SELECT post_id, message FROM posts WHERE root_id = ''").fetchall()
    db.executemany("UPDATE posts SET is_question = 1 WHERE post_id = ?", [(pid,) for pid, message in roots if is_question(message)])


def _role_columns(db: Database) -> None:
    """posts.asks (the text ends with a question mark) and posts.content_free (core.substance), kept so the
    in-memory facts table (core.facts) loads without reading and testing every message again."""
    have = columns(db, "posts")
    if "asks" not in have:
        db.execute("ALTER TABLE posts ADD COLUMN asks INTEGER NOT NULL DEFAULT 0")
    if "content_free" not in have:
        db.execute("ALTER TABLE posts ADD COLUMN content_free INTEGER NOT NULL DEFAULT 0")
    rows = db.execute("SELECT post_id, message FROM posts").fetchall()
    db.executemany("UPDATE posts SET asks=?, content_free=? WHERE post_id=?",
                   [(int(m.rstrip().endswith("?")), int(is_content_free(m)), pid) for pid, m in rows])


COMPONENT = "conversation"
"""The component's name in a database holding several (PostgreSQL's whoknows_schema)."""

MIGRATIONS = (
    Migration(1, "the conversation store as first released (CREATE IF NOT EXISTS: a file from before "
                 "numbered migrations already has it)", script(_SCHEMA_1)),
    Migration(2, "posts.is_question, for files whose posts table predates it", _questions_column),
    Migration(3, "posts.asks and posts.content_free, for the in-memory facts table", _role_columns),
    Migration(4, "changes: what each commit changed, for replicas that follow a shared store (core.changes)",
              script("CREATE TABLE IF NOT EXISTS changes(seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL)")),
)



def open_database(path: str | Database) -> Database:
    """The conversation store's database (a SQLite file's path, or an open database), migrated to this release's
    schema; closed again when the migration fails."""
    db: Database = SqliteDatabase(path, synchronous="NORMAL") if isinstance(path, str) else path
    try:
        migrate(db, MIGRATIONS, name=f"the conversation store {db.name}", component=COMPONENT)
    except BaseException:
        db.close()
        raise
    return db


__all__ = ["COMPONENT", "MIGRATIONS", "open_database"]

"""Schema migrations: a data folder written before numbered migrations (main before the restructuring)
opens with nothing lost; each migration runs once, in a transaction; a newer folder is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from whoknows.core.conversation import Conversation
from whoknows.core.conversation_schema import MIGRATIONS as CONVERSATION_MIGRATIONS
from whoknows.core.database import Database, SqliteDatabase
from whoknows.core.migrations import Migration, SchemaTooNew, migrate, script, version_of
from whoknows.storage.learning_state import LearningState
from whoknows.storage.service_schema import MIGRATIONS as SERVICE_MIGRATIONS
from whoknows.storage.state import Checkpoint, ServiceState
from whoknows.storage.store import STATE_FILE, open_store

pytestmark = pytest.mark.usefixtures("sqlite_folder")  # the files of a data folder, on either test store

# -- "v0": the exact DDL of main before migrations (core/conversation.py, state.py, learning_state.py) -----

V0_CONVERSATION = """
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

V0_SERVICE_STATE = """
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints(channel_id TEXT PRIMARY KEY, since INTEGER NOT NULL,
  history_before TEXT NOT NULL, history_done INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS command_tokens(team_id TEXT PRIMARY KEY, command_id TEXT NOT NULL, token TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS throttles(key TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS channel_suggestions(channel_id TEXT PRIMARY KEY, enabled INTEGER NOT NULL);
"""

V0_LEARNING = """
CREATE TABLE IF NOT EXISTS learning_threads(channel_id TEXT PRIMARY KEY, root_id TEXT NOT NULL, title TEXT NOT NULL,
  created_at INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS learning_captures(post_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, reply_id TEXT NOT NULL,
  flagged_by TEXT NOT NULL, captured_at INTEGER NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS learning_captures_by_channel ON learning_captures(channel_id, captured_at);
CREATE TABLE IF NOT EXISTS learning_digests(key TEXT PRIMARY KEY, channel_id TEXT NOT NULL, start INTEGER NOT NULL,
  end INTEGER NOT NULL, post_id TEXT NOT NULL, status TEXT NOT NULL);
"""

V0_POSTS_BEFORE_QUESTIONS = """
CREATE TABLE posts(post_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, user_id TEXT NOT NULL,
  root_id TEXT NOT NULL, create_at INTEGER NOT NULL, edit_at INTEGER NOT NULL, message TEXT NOT NULL,
  is_answer INTEGER NOT NULL);
"""
"""An older posts table still: before the is_question column, which CREATE IF NOT EXISTS never added."""


def _write(path: Path, *scripts: str, rows: list[tuple[str, tuple[object, ...]]]) -> None:
    db = sqlite3.connect(path)
    for sql in scripts:
        db.executescript(sql)
    for statement, values in rows:
        db.execute(statement, values)
    db.commit()
    db.close()


CONVERSATION_ROWS: list[tuple[str, tuple[object, ...]]] = [
    ("INSERT INTO teams VALUES(?,?,?)", ("t1", "eng", "Engineering")),
    ("INSERT INTO channels VALUES(?,?,?,?,?)", ("c1", "t1", "town", "Town", "O")),
    ("INSERT INTO users VALUES(?,?,?,?,?)", ("alice", "alice", "Alice A", 0, 0)),
    ("INSERT INTO users VALUES(?,?,?,?,?)", ("bob", "bob", "Bob B", 0, 0)),
    ("INSERT INTO members VALUES(?,?)", ("c1", "alice")),
    ("INSERT INTO reactions VALUES(?,?,?,?)", ("p2", "alice", "white_check_mark", 30)),
    ("INSERT INTO activity VALUES(?,?,?,?,?,?,?)", ("bob", 1, 1, 20, 20, 1.0, 20)),
    ("INSERT INTO optouts VALUES(?,?,?)", ("bob", 0, 5)),
    ("INSERT INTO erased VALUES(?,?)", ("mallory", 7)),
    ("INSERT INTO rejections VALUES(?,?,?,?)", ("bob", "kafka", "alice", 40)),
]
SERVICE_ROWS: list[tuple[str, tuple[object, ...]]] = [
    ("INSERT INTO settings VALUES(?,?)", ("action_secret", "ab" * 32)),
    ("INSERT INTO checkpoints VALUES(?,?,?,?)", ("c1", 99, "p1", 1)),
    ("INSERT INTO command_tokens VALUES(?,?,?)", ("t1", "cmd1", "tok1")),
    ("INSERT INTO throttles VALUES(?,?)", ("channel:c1", 50)),
    ("INSERT INTO channel_suggestions VALUES(?,?)", ("c1", 0)),
    ("INSERT INTO learning_threads VALUES(?,?,?,?,?)", ("c1", "root1", "What we learned", 10, "active")),
    ("INSERT INTO learning_captures VALUES(?,?,?,?,?,?)", ("p2", "c1", "reply1", '["alice"]', 31, "done")),
    ("INSERT INTO learning_digests VALUES(?,?,?,?,?,?)", ("c1:now:60", "c1", 0, 60, "dig1", "done")),
]


def v0_folder(data: Path, *, before_questions: bool = False) -> None:
    """A data folder as main wrote it: both SQLite files with the old DDL and some rows (no index)."""
    data.mkdir(parents=True, exist_ok=True)
    posts = [("INSERT INTO posts VALUES(?,?,?,?,?,?,?,?)" if before_questions else "INSERT INTO posts VALUES(?,?,?,?,?,?,?,?,?)",
              row if before_questions else (*row, int(row[0] == "p1")))
             for row in (("p1", "c1", "alice", "", 10, 10, "how do I reset the kafka consumer offsets?", 0),
                         ("p2", "c1", "bob", "p1", 20, 20, "kafka-consumer-groups --reset-offsets, then restart", 1))]
    schema = V0_POSTS_BEFORE_QUESTIONS + V0_CONVERSATION if before_questions else V0_CONVERSATION
    _write(data / STATE_FILE, schema, rows=[*CONVERSATION_ROWS, *posts])
    _write(data / "service.sqlite", V0_SERVICE_STATE, V0_LEARNING, rows=SERVICE_ROWS)


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        db.close()


def test_a_folder_written_before_migrations_opens_with_nothing_lost(tmp_path: Path) -> None:
    v0_folder(tmp_path)
    before = {name: dump(tmp_path / name) for name in (STATE_FILE, "service.sqlite")}
    with open_store(tmp_path) as store:
        conv = store.conversation
        assert conv.post_count() == 2 and conv.has_post("p1") and conv.has_post("p2")
        assert conv.user_by_name("alice") == "alice" and conv.people(["bob"])["bob"].display_name == "Bob B"
        assert conv.readable_channels("alice") == frozenset({"c1"})
        assert conv.post_facts(["p2"])["p2"].endorsements == 1
        assert conv.post_facts(["p1"])["p1"].is_question
    state = ServiceState.in_folder(tmp_path)
    try:
        assert state.action_secret() == bytes.fromhex("ab" * 32)  # buttons on old cards keep working
        assert state.checkpoint("c1") == Checkpoint(99, "p1", True)
        assert state.command_token("t1") == "tok1" and state.last("channel:c1") == 50
        assert state.channel_suggestions("c1") is False
        learning = LearningState(state.db)
        thread = learning.thread("c1")
        capture = learning.capture("p2")
        digest = learning.digest("c1:now:60")
        assert thread is not None and thread.root_id == "root1" and thread.status == "active"
        assert capture is not None and capture.flagged_by == ("alice",) and capture.reply_id == "reply1"
        assert digest is not None and digest.post_id == "dig1"
    finally:
        state.close()
    after = {name: dump(tmp_path / name) for name in (STATE_FILE, "service.sqlite")}
    # Migration 3 adds posts.asks and posts.content_free (worked out from each message) at the end of a row.
    added = {row[0]: row[9:] for row in after[STATE_FILE]["posts"]}
    assert added == {"p1": (1, 0), "p2": (0, 0)}
    after[STATE_FILE]["posts"] = [row[:9] for row in after[STATE_FILE]["posts"]]
    # Migration 4 of the store and 2 of the state add the replicas' tables, empty (core.changes, service.relay).
    assert after[STATE_FILE].pop("changes") == [] and after["service.sqlite"].pop("inbox") == []
    assert after == before  # every row of every table, unchanged
    assert _version(tmp_path / STATE_FILE) == len(CONVERSATION_MIGRATIONS)
    assert _version(tmp_path / "service.sqlite") == len(SERVICE_MIGRATIONS)


def test_a_posts_table_older_than_its_question_column_gets_it_filled(tmp_path: Path) -> None:
    v0_folder(tmp_path, before_questions=True)
    conv = Conversation(str(tmp_path / STATE_FILE))
    try:
        facts = conv.post_facts(["p1", "p2"])
        assert facts["p1"].is_question and not facts["p2"].is_question  # root question recognised, reply not
        assert conv.post_count() == 2
    finally:
        conv.close()


def _version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return version_of(db)
    finally:
        db.close()


def test_migrations_run_once_and_are_recorded(tmp_path: Path) -> None:
    runs: list[int] = []

    def counted(n: int) -> Migration:
        def run(db: Database) -> None:
            runs.append(n)
            db.execute(f"CREATE TABLE t{n}(x)")
        return Migration(n, f"step {n}", run)

    db = SqliteDatabase(str(tmp_path / "x.sqlite"))
    try:
        assert migrate(db, [counted(1), counted(2)], name="x", component="x") == 2
        assert migrate(db, [counted(1), counted(2)], name="x", component="x") == 2
        assert migrate(db, [counted(1), counted(2), counted(3)], name="x", component="x") == 3
        assert runs == [1, 2, 3] and version_of(db.db) == 3
    finally:
        db.close()


def test_a_failing_migration_leaves_the_file_at_the_last_good_version(tmp_path: Path) -> None:
    def broken(db: Database) -> None:
        db.execute("CREATE TABLE half(x)")
        raise RuntimeError("disk went away")

    db = SqliteDatabase(str(tmp_path / "x.sqlite"))
    try:
        with pytest.raises(RuntimeError):
            migrate(db, [Migration(1, "one", script("CREATE TABLE one(x)")), Migration(2, "two", broken)], name="x", component="x")
        assert version_of(db.db) == 1
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["one"]
    finally:
        db.close()


def test_a_folder_from_a_newer_whoknows_is_refused(tmp_path: Path) -> None:
    v0_folder(tmp_path)
    db = sqlite3.connect(tmp_path / "service.sqlite")
    db.execute(f"PRAGMA user_version = {len(SERVICE_MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(SchemaTooNew, match="newer than this whoknows knows"):
        ServiceState.in_folder(tmp_path)


def _files(data: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data)): p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("newer", [STATE_FILE, "service.sqlite"])
def test_a_newer_folder_is_refused_before_anything_touches_it(tmp_path: Path, newer: str) -> None:
    """Start-up's repair, `rebuild`'s wipe and every command that opens the folder refuse it first: not a byte changes, no
    journal file appears, the clean-stop mark stays (an index the older code cannot read would have been wiped)."""
    from click.testing import CliRunner

    from whoknows.cli import main
    from whoknows.service.repair import STOPPED_CLEANLY, prepare, wipe

    v0_folder(tmp_path)
    for name in (STATE_FILE, "service.sqlite"):
        db = sqlite3.connect(tmp_path / name)
        db.execute(f"PRAGMA user_version = {(len(CONVERSATION_MIGRATIONS) if name == STATE_FILE else len(SERVICE_MIGRATIONS)) + (name == newer)}")
        db.close()
    (tmp_path / STOPPED_CLEANLY).touch()
    before = _files(tmp_path)
    for step in (prepare, wipe):
        with pytest.raises(SchemaTooNew, match=newer):
            step(tmp_path)
    for args in (["ask", "kafka"], ["forget", "bob"], ["import", str(tmp_path / "nothing.jsonl")]):
        result = CliRunner().invoke(main, ["--data", str(tmp_path), *args])
        assert result.exit_code == 2 and "newer than this whoknows knows" in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert _files(tmp_path) == before

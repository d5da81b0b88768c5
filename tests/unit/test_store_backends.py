"""The store behaves the same on SQLite (the embedded default) and PostgreSQL (StoreUrl): what is written is read
back after a restart, deletions hold, the service's state is kept, migrations run once and a newer schema is
refused; a PostgreSQL that cannot be used says so in one line naming StoreUrl, without the password."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import postgres_node
from conftest import NOW, TOWN, channel, delete, opt_in, opt_out, post, react, reply, team, user
from whoknows.cli import main
from whoknows.core.conversation import Conversation
from whoknows.core.conversation_schema import COMPONENT, MIGRATIONS
from whoknows.core.database import Database, SqliteDatabase
from whoknows.core.events import Event, UserErased
from whoknows.core.migrations import Migration, SchemaTooNew, migrate
from whoknows.errors import StartupError
from whoknows.service.repair import Outcome, prepare
from whoknows.storage.postgres import PostgresDatabase
from whoknows.storage.state import Checkpoint, ServiceState
from whoknows.storage.store import open_conversation, open_state, open_store


@dataclass
class Place:
    """Where a store lives: SQLite files in `data`, or a PostgreSQL schema of its own at `url`."""

    kind: str
    data: Path
    url: str

    def conversation(self) -> Conversation:
        return open_conversation(self.data, self.url)

    def state(self) -> ServiceState:
        return open_state(self.data, self.url)

    def database(self) -> Database:
        return PostgresDatabase(self.url) if self.url else SqliteDatabase(str(self.data / "x.sqlite"))


@pytest.fixture(params=["sqlite", "postgresql"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "sqlite":
        return Place("sqlite", tmp_path, "")
    return Place("postgresql", tmp_path, postgres_node.fresh_store(request.getfixturevalue("pg_database")))


def apply(conversation: Conversation, *events: Event) -> None:
    """The events through the one pipeline, as the writer applies them (one transaction)."""
    from whoknows.core.index.whoosh_engine import WhooshIndex
    from whoknows.core.pipeline import Pipeline

    index = WhooshIndex()
    try:
        Pipeline(conversation, index).apply(events)
    finally:
        index.close()


def reopened(place: Place, read: Callable[[Conversation], object]) -> object:
    conversation = place.conversation()
    try:
        return read(conversation)
    finally:
        conversation.close()


def test_posts_are_read_back_after_a_restart(place: Place) -> None:
    conv = place.conversation()
    try:
        apply(conv, team(), channel(TOWN), user("ann"), user("bob"),
              post("q", "ann", "how do we rotate the replication password?"),
              reply("a", "q", "bob", "alter role on the primary, then reload"), react("a", "ann"))
        assert conv.post_facts(["a"])["a"].endorsements == 1
    finally:
        conv.close()
    facts = reopened(place, lambda c: c.post_facts(["q", "a"]))
    assert isinstance(facts, dict)
    assert facts["q"].is_question and facts["q"].message.startswith("how do we rotate")
    assert facts["a"].root_user_id == "ann" and facts["a"].accepted and facts["a"].endorsements == 1
    assert reopened(place, lambda c: (c.post_count(), c.user_by_name("bob"), c.channel_team([TOWN]))) == (2, "bob", {TOWN: ("eng", TOWN)})


def test_a_post_delivered_twice_is_stored_once_and_a_deleted_thread_stays_gone(place: Place) -> None:
    conv = place.conversation()
    try:
        apply(conv, channel(TOWN), post("q", "ann", "flaky ios build"), reply("r", "q", "bob", "pin xcode"), post("other", "cy", "lunch"))
        apply(conv, post("q", "ann", "flaky ios build"))  # re-delivery changes nothing
        assert conv.post_count() == 3
        apply(conv, delete("q"))  # the root goes, and its replies with it
    finally:
        conv.close()
    assert reopened(place, lambda c: (c.post_count(), c.has_post("q"), c.has_post("r"), sorted(c.post_facts(["q", "r", "other"])))) == (
        1, False, False, ["other"])


def test_opt_outs_and_erasures_are_kept(place: Place) -> None:
    conv = place.conversation()
    try:
        apply(conv, channel(TOWN), user("ann"), user("bob"), post("p1", "ann", "terraform state lock"), post("p2", "bob", "kafka lag"),
              opt_out("ann"), opt_out("bob"), opt_in("bob"), UserErased("bob", NOW))
    finally:
        conv.close()
    people = reopened(place, lambda c: c.people(["ann", "bob"]))
    assert isinstance(people, dict) and people["ann"].opted_out and people["bob"].opted_out  # erased: out for good
    assert reopened(place, lambda c: (c.erased_users(), c.has_post("p2"), c.has_post("p1"))) == ({"bob"}, False, True)


def test_the_service_state_is_kept_and_replaced_not_duplicated(place: Place) -> None:
    state = place.state()
    try:
        state.save_checkpoint("c1", Checkpoint(10, "p9", False))
        state.save_checkpoint("c1", Checkpoint(20, "p5", True))
        state.mark("suggest:c1", 100)
        state.mark("suggest:c1", 200)
        state.save_command("t1", "cmd", "tok")
        state.set_channel_suggestions("c1", False)
        secret = state.action_secret()
    finally:
        state.close()
    state = place.state()
    try:
        assert state.checkpoint("c1") == Checkpoint(20, "p5", True) and state.checkpoint("unknown") == Checkpoint(0, "", False)
        assert state.last("suggest:c1") == 200 and state.command_tokens() == ["tok"]
        assert state.channel_suggestions("c1") is False and state.action_secret() == secret  # old buttons keep working
    finally:
        state.close()


def test_migrations_run_once_whoever_opens_first(place: Place) -> None:
    runs: list[int] = []

    def counted(n: int) -> Migration:
        def run(db: Database) -> None:
            runs.append(n)
            db.execute(f"CREATE TABLE t{n}(x INTEGER)")
        return Migration(n, f"step {n}", run)

    db = place.database()
    try:
        assert migrate(db, [counted(1), counted(2)], name="x", component="x") == 2
        assert migrate(db, [counted(1), counted(2)], name="x", component="x") == 2
        assert migrate(db, [counted(1), counted(2), counted(3)], name="x", component="x") == 3
        assert runs == [1, 2, 3] and db.schema_version("x") == 3
    finally:
        db.close()
    for _ in range(2):  # the real schemas: opening again changes nothing
        reopened(place, lambda c: c.post_count())
    db = place.database() if place.url else SqliteDatabase(str(place.data / "state.sqlite"))
    try:
        assert db.schema_version(COMPONENT) == len(MIGRATIONS)
    finally:
        db.close()


def test_processes_starting_together_migrate_once(pg_database: str) -> None:
    url = postgres_node.fresh_store(pg_database)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            ServiceState(PostgresDatabase(url)).close()
            Conversation(PostgresDatabase(url)).close()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = PostgresDatabase(url)
    try:
        assert db.schema_version(COMPONENT) == len(MIGRATIONS)
    finally:
        db.close()


def test_a_store_from_a_newer_whoknows_is_refused_and_left_alone(place: Place) -> None:
    conv = place.conversation()
    apply(conv, channel(TOWN), post("p1", "ann", "terraform"))
    conv.db.set_schema_version(COMPONENT, len(MIGRATIONS) + 1)
    conv.close()
    with pytest.raises(SchemaTooNew, match="newer than this whoknows knows") as refused:
        place.conversation()
    assert "\n" not in str(refused.value)
    with pytest.raises(SchemaTooNew):
        with open_store(place.data, store_url=place.url):
            pass
    db = place.database() if place.url else SqliteDatabase(str(place.data / "state.sqlite"))
    try:
        assert db.execute("SELECT count(*) FROM posts").fetchone()[0] == 1 and db.schema_version(COMPONENT) == len(MIGRATIONS) + 1
    finally:
        db.close()


def test_a_lost_index_folder_is_rebuilt_from_the_postgresql_store(pg_database: str, tmp_path: Path) -> None:
    url = postgres_node.fresh_store(pg_database)
    with open_store(tmp_path / "first", store_url=url) as store:
        store.pipeline.apply([team(), channel(TOWN), user("ann"), user("bob"),
                              post("q", "ann", "how do I rotate the postgres replication password?"),
                              reply("a", "q", "bob", "alter role replication password on the primary, then reload the standbys")])
    fresh = tmp_path / "second"  # another machine, or the same one after its disk was replaced
    assert prepare(fresh, store_url=url) is Outcome.REPAIRED
    with open_store(fresh, create=False, store_url=url) as store:
        assert store.index.stats().documents == 2
        assert [e.person.username for e in store.engine.ask("replication password", now=NOW, exclude=["ann"]).experts] == ["bob"]
    assert prepare(fresh, store_url=url) is Outcome.INTACT


def test_a_lost_index_beside_sqlite_files_is_read_from_mattermost_again(tmp_path: Path) -> None:
    with open_store(tmp_path, store_url="") as store:
        store.pipeline.apply([channel(TOWN), post("q", "ann", "replication password")])
    for engine_dir in [p for p in tmp_path.iterdir() if p.is_dir()]:
        for f in engine_dir.iterdir():
            f.unlink()
        engine_dir.rmdir()
    assert prepare(tmp_path, store_url="") is Outcome.WIPED


def _one_line_naming_store_url(text: str, password: str) -> None:
    assert "\n" not in text.strip() and "StoreUrl" in text and password not in text and "Traceback" not in text


def test_a_store_url_with_the_wrong_scheme_gets_a_specific_refusal(tmp_path: Path) -> None:
    with pytest.raises(StartupError) as refused:
        with open_store(tmp_path, store_url="mysql://whoknows:hunter2@db/whoknows"):
            pass
    _one_line_naming_store_url(str(refused.value), "hunter2")
    assert "postgresql://" in str(refused.value)
    assert not (tmp_path / "state.sqlite").exists()


def test_no_server_at_the_store_url_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StartupError) as refused:
        PostgresDatabase("postgresql://whoknows:hunter2@127.0.0.1:1/whoknows", connect_timeout=2)
    _one_line_naming_store_url(str(refused.value), "hunter2")
    assert "no PostgreSQL server answers" in str(refused.value) and "127.0.0.1:1/whoknows" in str(refused.value)


def test_a_refused_password_or_a_missing_database_is_one_line_from_the_cli(pg_database: str, tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text('{"type": "version", "version": 1}\n')
    server = pg_database.rsplit("/", 1)[0].split("@", 1)[1]
    for url, says in ((f"postgresql://mmuser:not-the-password@{server}/mattermost_test", "password was refused"),
                      (f"postgresql://mmuser:mmtest@{server}/wk_pg_no_such_database", "database does not exist")):
        result = CliRunner().invoke(main, ["--data", str(tmp_path / "data"), "import", str(export)], env={"WHOKNOWS_STORE_URL": url})
        assert result.exit_code == 2, result.output
        _one_line_naming_store_url(result.output, "not-the-password")
        assert says in result.output and "mmtest" not in result.output


def test_a_connection_the_server_dropped_is_made_again(pg_database: str) -> None:
    import psycopg

    url = postgres_node.fresh_store(pg_database)
    state, conv = ServiceState(PostgresDatabase(url)), Conversation(PostgresDatabase(url))

    def drop(db: Database) -> None:  # what a restart or a fail-over of the server does to a connection
        assert isinstance(db, PostgresDatabase)
        with psycopg.connect(postgres_node.ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (db.conn.info.backend_pid,))

    try:
        state.save_checkpoint("c1", Checkpoint(10, "", False))
        drop(state.db)
        state.save_checkpoint("c1", Checkpoint(20, "", False))  # the next write goes through, on a new connection
        assert state.checkpoint("c1").since == 20
        conv.begin()
        conv.add_post(post("p1", "ann", "terraform state lock"))
        drop(conv.db)
        with pytest.raises(psycopg.OperationalError):  # inside a transaction: the batch fails and is tried again
            conv.add_post(post("p2", "ann", "kafka lag"))
        conv.rollback()
        apply(conv, channel(TOWN), post("p1", "ann", "terraform state lock"), post("p2", "ann", "kafka lag"))
        assert conv.post_count() == 2 and sorted(conv.post_facts(["p1", "p2"])) == ["p1", "p2"]
    finally:
        state.close()
        conv.close()


def test_the_bot_with_a_refused_store_password_stops_in_one_line(pg_database: str, tmp_path: Path) -> None:
    server = pg_database.rsplit("/", 1)[0].split("@", 1)[1]
    env = {"WHOKNOWS_MATTERMOST_URL": "http://127.0.0.1:9", "WHOKNOWS_BOT_TOKEN": "t0k", "WHOKNOWS_HTTP_PORT": "0",
           "WHOKNOWS_STORE_URL": f"postgresql://mmuser:not-the-password@{server}/mattermost_test"}
    result = CliRunner().invoke(main, ["--data", str(tmp_path), "run"], env=env)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if "StoreUrl" in line]
    assert len(lines) == 1 and "password was refused" in lines[0]
    assert "not-the-password" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "state.sqlite").exists()  # nothing fell back to the folder's files

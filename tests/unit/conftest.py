"""Shared builders for the core's unit tests: an in-memory store + RAM index + pipeline + engine, and
readable event and bulk-export line makers. Times are Unix milliseconds around one fixed NOW."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from whoknows.core.conversation import Conversation
from whoknows.core.engine import Engine, Ranking
from whoknows.core.events import (
    ChannelMemberAdded,
    ChannelType,
    ChannelUpdated,
    Event,
    PostCreated,
    PostDeleted,
    PostEdited,
    ReactionAdded,
    TeamUpdated,
    UserOptedIn,
    UserOptedOut,
    UserUpdated,
)
from whoknows.core.pipeline import Applied, Pipeline
from whoknows.core.index import IndexServer, PostIndex, open_index
from opensearch_node import session_server
import postgres_node
from whoknows.core.database import Database
from whoknows.storage.postgres import PostgresDatabase
from whoknows.storage.state import ServiceState

SHARED = Path(os.environ.get("WHOKNOWS_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
"""The shared folder beside the repository (the dev data sets); WHOKNOWS_SHARED points elsewhere."""


def under_ci() -> bool:
    """CI sets `CI` (.ci/run does, as hosted runners do): there, missing dev data is a failure."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def dev_data(path: Path) -> Path:
    """`path` (a file of the dev data sets), or skip the test when it is absent on a developer's machine. Under CI
    it fails instead: a run that silently skipped the real-data checks must not look green."""
    if path.is_file():
        return path
    reason = f"dev data not present at {path}; set WHOKNOWS_SHARED to the shared folder"
    if under_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


NOW = 1_750_000_000_000
"""2025-06-15T15:06:40Z: the fixed "now" of every test."""
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
TEAM = "eng"
TOWN = "town"
"""The public channel that the `world` fixture starts with."""


def days_ago(n: float) -> int:
    return NOW - round(n * DAY_MS)


# -- core events with readable defaults ---------------------------------------------------------


def team(name: str = TEAM) -> TeamUpdated:
    return TeamUpdated(name, name, name.title())


def channel(name: str, type: ChannelType = "O", *, team: str = TEAM) -> ChannelUpdated:
    """A channel whose id is its name, for readable assertions."""
    return ChannelUpdated(name, team, name, type, name.title())


def user(name: str, display: str = "", *, bot: bool = False, deactivated: bool = False) -> UserUpdated:
    """A person whose id is their username."""
    return UserUpdated(name, name, display, is_bot=bot, deactivated=deactivated)


def member(channel_id: str, user_id: str) -> ChannelMemberAdded:
    return ChannelMemberAdded(channel_id, user_id)


def post(post_id: str, author: str, message: str, *, at: int | None = None, channel: str = TOWN, root: str = "") -> PostCreated:
    return PostCreated(post_id, channel, author, message, days_ago(10) if at is None else at, root)


def reply(post_id: str, root: str, author: str, message: str, *, at: int | None = None, channel: str = TOWN) -> PostCreated:
    return post(post_id, author, message, at=days_ago(9) if at is None else at, channel=channel, root=root)


def react(post_id: str, by: str, emoji: str = "white_check_mark", *, at: int | None = None) -> ReactionAdded:
    return ReactionAdded(post_id, by, emoji, days_ago(8) if at is None else at)


def edit(post_id: str, message: str, *, at: int | None = None) -> PostEdited:
    return PostEdited(post_id, message, days_ago(1) if at is None else at)


def delete(post_id: str, *, at: int | None = None) -> PostDeleted:
    return PostDeleted(post_id, days_ago(1) if at is None else at)


def opt_out(user_id: str, *, at: int | None = None) -> UserOptedOut:
    return UserOptedOut(user_id, days_ago(2) if at is None else at)


def opt_in(user_id: str, *, at: int | None = None) -> UserOptedIn:
    return UserOptedIn(user_id, days_ago(1) if at is None else at)


# -- the core, wired as the live bot wires it ---------------------------------------------------


@dataclass
class World:
    """An in-memory conversation store and a RAM index behind one pipeline, and the engine over both."""

    conversation: Conversation
    index: PostIndex
    pipeline: Pipeline
    engine: Engine

    def apply(self, *events: Event) -> Applied:
        """Applies without flushing: the store changes, the index only buffers."""
        return self.pipeline.apply(events)

    def ingest(self, *events: Event) -> Applied:
        """Applies and makes everything searchable."""
        applied = self.pipeline.apply(events)
        self.pipeline.flush()
        return applied

    def ask(self, text: str, *, now: int = NOW, **options: Any) -> Ranking:
        return self.engine.ask(text, now=now, **options)

    def names(self, text: str, **options: Any) -> list[str]:
        """The usernames on the card for `text`, best first."""
        return [e.person.username for e in self.ask(text, **options).experts]

    def found(self, text: str) -> list[str]:
        """Post ids the index itself returns for `text` (what is committed, deleted or not)."""
        return [h.post_id for h in self.index.search(self.index.terms(text), limit=100)]

    def documents(self) -> int:
        return self.index.stats().documents

    def close(self) -> None:
        self.index.close()
        self.conversation.close()


# -- the store: SQLite in memory, or a fresh schema in PostgreSQL (WHOKNOWS_TEST_STORE=postgresql) -----------


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for the session (tests/postgres_node.py): skipped without a server, failed under CI."""
    yield from postgres_node.throwaway_database()


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The unit suite's store: "sqlite", or with WHOKNOWS_TEST_STORE=postgresql "postgresql", where every
    `new_database()` is a fresh schema and `open_store` (WHOKNOWS_STORE_URL) one more for the test."""
    global _pg_database
    if not postgres_node.store_on_postgres():
        yield "sqlite"
        return
    _pg_database = request.getfixturevalue("pg_database")
    monkeypatch.setenv("WHOKNOWS_STORE_URL", postgres_node.fresh_store(_pg_database))
    try:
        yield "postgresql"
    finally:
        _pg_database = None
        while _opened:  # what a test left open (SQLite's would only be collected; a server's connection must end)
            _opened.pop().close()


_pg_database: str | None = None
_opened: list[Database] = []


@pytest.fixture
def sqlite_folder(store_backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests of the SQLite files themselves (their migrations, their repair): the folder's files, whatever the suite's store."""
    monkeypatch.delenv("WHOKNOWS_STORE_URL", raising=False)


def new_database() -> Database | None:
    """A new empty database for one store (None: SQLite in memory, the constructors' default)."""
    if not _pg_database:
        return None
    db = PostgresDatabase(postgres_node.fresh_store(_pg_database))
    _opened.append(db)
    return db


def new_conversation(**options: Any) -> Conversation:
    """An empty conversation store on the suite's backend."""
    db = new_database()
    return Conversation(db, **options) if db is not None else Conversation(**options)


def new_state() -> ServiceState:
    """An empty service state on the suite's backend."""
    return ServiceState(new_database() or ":memory:")


def build_world(*, opted_out_by_default: bool = False, engine: str = "whoosh", server: IndexServer | None = None) -> World:
    conversation = new_conversation(opted_out_by_default=opted_out_by_default)
    index = open_index(engine, server=server)
    return World(conversation, index, Pipeline(conversation, index), Engine(conversation, index))


@pytest.fixture
def index_engine() -> str:
    """The engine behind `world`: Whoosh, unless a test module overrides this fixture (test_index runs both)."""
    return "whoosh"


@pytest.fixture(scope="session")
def opensearch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A real single-node OpenSearch for the session (tests/opensearch), started by the first test that needs it."""
    yield from session_server(tmp_path_factory, "whoknows-test")


def server_for(engine: str, request: pytest.FixtureRequest) -> IndexServer | None:
    """The server an engine needs (the session's OpenSearch node), None for an engine with a folder."""
    if engine != "opensearch":
        return None
    server: IndexServer = request.getfixturevalue("opensearch_server")
    return server


@pytest.fixture
def make_world(index_engine: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., World]]:
    """Builds worlds (with the team and the public channel ~town in place), closing them after the test."""
    made: list[World] = []
    server = server_for(index_engine, request)

    def make(*, opted_out_by_default: bool = False) -> World:
        w = build_world(opted_out_by_default=opted_out_by_default, engine=index_engine, server=server)
        w.ingest(team(), channel(TOWN))
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    w: World = make_world()
    return w


# -- bulk-export JSONL (the format of `mmctl export` and of the evaluation corpus) ---------------


def version_line() -> dict[str, Any]:
    return {"type": "version", "version": 1}


def team_line(name: str = TEAM) -> dict[str, Any]:
    return {"type": "team", "team": {"name": name, "display_name": name.title(), "type": "O"}}


def channel_line(name: str, type: str = "O", *, team: str = TEAM) -> dict[str, Any]:
    return {"type": "channel", "channel": {"team": team, "name": name, "display_name": name.title(), "type": type}}


def user_line(name: str, channels: Iterable[str] = (TOWN,), *, first: str = "", last: str = "", team: str = TEAM, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": name,
        "email": f"{name}@example.invalid",
        "first_name": first,
        "last_name": last,
        "teams": [{"name": team, "channels": [{"name": c} for c in channels]}],
    }
    body.update(extra)
    return {"type": "user", "user": body}


def reply_obj(author: str, message: str, at: int, *, reactions: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"user": author, "message": message, "create_at": at, "reactions": list(reactions)}


def reaction_obj(by: str, at: int, emoji: str = "white_check_mark") -> dict[str, Any]:
    return {"user": by, "emoji_name": emoji, "create_at": at}


def post_line(
    author: str,
    message: str,
    at: int,
    *,
    channel: str = TOWN,
    team: str = TEAM,
    replies: Iterable[dict[str, Any]] = (),
    reactions: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {
        "type": "post",
        "post": {
            "team": team,
            "channel": channel,
            "user": author,
            "message": message,
            "create_at": at,
            "replies": list(replies),
            "reactions": list(reactions),
        },
    }


def jsonl(lines: Iterable[dict[str, Any] | str]) -> str:
    """One JSON object per line; a str is written as it is (for malformed lines)."""
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def write_jsonl(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    path.write_text(jsonl(lines), encoding="utf-8")
    return path

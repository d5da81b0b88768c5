"""The service's state: the conversation store and the service state (SQLite files in the data folder, or one
PostgreSQL database: StoreUrl) and the text index (Whoosh or tantivy in the data folder, or OpenSearch)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import messages
from ..core.conversation import Conversation
from ..core.conversation_schema import MIGRATIONS as CONVERSATION_MIGRATIONS, open_database
from ..core.engine import Engine
from ..core.index import DEFAULT_ENGINE, ENGINES, IndexServer, IndexUnavailable, PostIndex, engine_folder, index_exists, open_index
from ..core.database import Database
from ..core.migrations import refuse_newer, refuse_newer_version
from ..core.pipeline import Pipeline
from ..core.conversation_schema import COMPONENT as CONVERSATION
from ..errors import StartupError, UserError
from . import state
from .postgres import SCHEMES, PostgresDatabase
from .service_schema import COMPONENT as SERVICE
from .service_schema import MIGRATIONS as SERVICE_MIGRATIONS

STATE_FILE = "state.sqlite"
INDEX_DIR = engine_folder(DEFAULT_ENGINE)
"""The default engine's index folder (each engine has its own: core.index.engine_folder)."""
ENGINE_VARIABLE = "WHOKNOWS_INDEX_ENGINE"
STORE_URL_VARIABLE = "WHOKNOWS_STORE_URL"


@dataclass
class Store:
    conversation: Conversation
    index: PostIndex
    pipeline: Pipeline
    engine: Engine
    site_url: str


@contextmanager
def open_store(data: Path, *, create: bool = True, opted_out_by_default: bool = False,
               extra_endorsing: frozenset[str] = frozenset(), engine: str | None = None,
               server: IndexServer | None = None, store_url: str | None = None) -> Iterator[Store]:
    """Opens (or creates) the data folder; flushes pending index writes and closes on the way out.
    `engine` None: $WHOKNOWS_INDEX_ENGINE, else Whoosh. `server` None: the OpenSearch server of the environment.
    `store_url` None: $WHOKNOWS_STORE_URL (empty: the SQLite files in the folder)."""
    engine = engine or default_engine()
    server = server or server_from_env(os.environ)
    url = store_url_from_env(os.environ) if store_url is None else store_url
    refuse_newer_store(data, url)
    if not create and not has_store(data, url):
        raise UserError(messages.no_data(data))
    folder = data / engine_folder(engine)
    try:
        if not create and not index_exists(engine, folder, server):
            raise UserError(messages.no_index(data))
        data.mkdir(parents=True, exist_ok=True)
        index = open_index(engine, folder, server)
    except (ValueError, IndexUnavailable) as error:  # no server for a server engine, a bad prefix, the server away
        raise UserError(str(error)) from None
    try:
        conversation = open_conversation(data, url, opted_out_by_default=opted_out_by_default, extra_endorsing=extra_endorsing)
    except BaseException:
        index.close()
        raise
    pipeline = Pipeline(conversation, index)
    site_url = os.environ.get("WHOKNOWS_SITE_URL", "http://localhost:8065").rstrip("/")
    try:
        yield Store(conversation, index, pipeline, Engine(conversation, index), site_url)
        pipeline.flush()
    finally:
        index.close()
        conversation.close()


def store_url_from_env(env: Mapping[str, str]) -> str:
    """The CLI's store: $WHOKNOWS_STORE_URL (plugin.json's StoreUrl); empty: the SQLite files in the data folder."""
    url = env.get(STORE_URL_VARIABLE, "").strip()
    if url and not url.startswith(SCHEMES):
        raise StartupError(messages.bad_store_url())
    return url


def connect(url: str) -> Database:
    """A connection to the PostgreSQL store (StartupError in one line, naming StoreUrl, when it cannot be had)."""
    return PostgresDatabase(url)


def open_conversation(data: Path, url: str, **options: Any) -> Conversation:
    """The conversation store: `data`/state.sqlite, or the PostgreSQL store at `url` (shared by replicas: its commits
    record what they change, core.changes)."""
    return Conversation(connect(url) if url else str(data / STATE_FILE), change_log=bool(url), **options)


def open_store_database(data: Path, url: str) -> Database:
    """The conversation store's database, migrated, without loading its facts table (what the start-up repair reads:
    at a million posts that load is 6 s a start would pay twice)."""
    return open_database(connect(url) if url else str(data / STATE_FILE))


def open_state(data: Path, url: str) -> state.ServiceState:
    """The service state: `data`/service.sqlite, or its tables in the PostgreSQL store at `url`."""
    return state.ServiceState(connect(url)) if url else state.ServiceState.in_folder(data)


def has_store(data: Path, url: str) -> bool:
    """Whether a conversation store was made here before (a file in the folder, or the tables at `url`)."""
    if not url:
        return (data / STATE_FILE).is_file()
    db = connect(url)
    try:
        return db.schema_version(CONVERSATION) > 0
    finally:
        db.close()


def refuse_newer_store(data: Path, url: str) -> None:
    """SchemaTooNew (one line) when the folder's files or the PostgreSQL store were written by a newer whoknows,
    checked before anything is opened to write, repaired or wiped."""
    if not url:
        refuse_newer_folder(data)
        return
    db = connect(url)
    try:
        for component, migrations in ((CONVERSATION, CONVERSATION_MIGRATIONS), (SERVICE, SERVICE_MIGRATIONS)):
            refuse_newer_version(db.schema_version(component), migrations, name=f"the {component} tables in {db.name}")
    finally:
        db.close()


def refuse_newer_folder(data: Path) -> None:
    """SchemaTooNew (one line naming the file) when a data folder was written by a newer whoknows, checked before
    anything in it is opened, repaired or wiped: an older whoknows leaves a newer folder exactly as it found it."""
    refuse_newer(data / STATE_FILE, CONVERSATION_MIGRATIONS, name=f"the conversation store {data / STATE_FILE}")
    refuse_newer(data / state.STATE_FILE, SERVICE_MIGRATIONS, name=f"the service state {data / state.STATE_FILE}")


def default_engine() -> str:
    """The index engine of the CLI and the benchmark: $WHOKNOWS_INDEX_ENGINE, else Whoosh (the bot uses IndexEngine)."""
    engine = os.environ.get(ENGINE_VARIABLE, "").strip() or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise UserError(messages.bad_setting(ENGINE_VARIABLE, "the environment", " or ".join(ENGINES)))
    return engine


def server_from_env(env: Mapping[str, str]) -> IndexServer | None:
    """The OpenSearch server of the CLI and the evaluation: $WHOKNOWS_OPEN_SEARCH_URL (none when unset), with
    $WHOKNOWS_OPEN_SEARCH_USER, _PASSWORD, _INDEX_PREFIX and _VERIFY_TLS, the variables of plugin.json's settings."""
    url = env.get("WHOKNOWS_OPEN_SEARCH_URL", "").strip().rstrip("/")
    if not url:
        return None
    verify = env.get("WHOKNOWS_OPEN_SEARCH_VERIFY_TLS", "true").strip().lower() not in ("false", "0", "no", "off")
    return IndexServer(url, env.get("WHOKNOWS_OPEN_SEARCH_USER", "").strip(), env.get("WHOKNOWS_OPEN_SEARCH_PASSWORD", ""),
                       env.get("WHOKNOWS_OPEN_SEARCH_INDEX_PREFIX", "").strip() or "whoknows", verify)

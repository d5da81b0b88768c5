"""The local PostgreSQL (`make postgres`) for the store's tests: a throwaway database `wk_pg_<random>` made for the
session and dropped after it, and a fresh schema in it for every store a test opens (a schema is made in
milliseconds; a database is not). Skipped when no server answers, failed instead under CI."""

from __future__ import annotations

import itertools
import os
import secrets
import urllib.parse
from collections.abc import Iterator

import psycopg
import pytest

ADMIN_URL = os.environ.get("WHOKNOWS_TEST_PG_URL", "postgresql://mmuser:mmtest@127.0.0.1:5432/mattermost_test")
"""A database on the test server whose user may create databases (tests/mattermost/setup-postgres.sh makes it)."""
TEST_STORE = "WHOKNOWS_TEST_STORE"
"""`postgresql`: the unit suite's store fixtures use PostgreSQL instead of SQLite."""

_schemas = itertools.count(1)


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def store_on_postgres() -> bool:
    return os.environ.get(TEST_STORE, "").strip().lower() in ("postgresql", "postgres", "pg")


def unavailable(reason: str) -> None:
    """Skips the test on a developer's machine; under CI a missing PostgreSQL is a failure, not a skip."""
    if under_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def throwaway_database() -> Iterator[str]:
    """The URL of a new empty database, dropped (with whatever is still connected to it) when the generator ends."""
    name = f"wk_pg_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f"CREATE DATABASE {name}")
    except psycopg.Error as error:
        unavailable(f"no PostgreSQL for the store tests at {ADMIN_URL.split('@')[-1]} ({type(error).__name__}); run `make postgres`")
    try:
        yield _with_database(ADMIN_URL, name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def fresh_store(database_url: str) -> str:
    """A StoreUrl in `database_url` whose tables go to a schema no one used yet (made when first connected)."""
    schema = f"t{os.getpid()}_{next(_schemas)}"
    return f"{database_url}?options={urllib.parse.quote('-csearch_path=' + schema)}"

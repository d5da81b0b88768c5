"""The store in PostgreSQL (StoreUrl=postgresql://...), through psycopg 3: the same statements and migrations as
the embedded SQLite files, translated here, so that several service processes can share one store.

Tables live in their own schema (`whoknows`, or the first schema of a search_path the URL's options set), never
among the tables of the database they are put in, which may well be Mattermost's. The components that are
separate SQLite files (the conversation store, the service state) share that schema, each with its own
connection and its version row in `whoknows_schema`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from .. import messages
from ..errors import StartupError

SCHEMES = ("postgresql://", "postgres://")
"""The StoreUrl schemes taken (libpq's); empty means SQLite files in the data folder."""
DEFAULT_SCHEMA = "whoknows"
VERSIONS = "whoknows_schema"

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|\?|%")
_INSERT = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*(\(([^)]*)\))?", re.IGNORECASE)
_DDL = re.compile(r"^\s*(CREATE\s+TABLE|ALTER\s+TABLE)", re.IGNORECASE)
_TYPES = ((re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"), (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"))

TableInfo = Callable[[str], tuple[list[str], list[str]]]
"""table -> (its columns in order, its primary key's columns)."""


def translate(statement: str, table_info: TableInfo) -> str:
    """A statement in the stores' SQLite dialect as PostgreSQL says it: `?` -> `%s` (a literal % doubled), INSERT OR
    IGNORE / OR REPLACE -> ON CONFLICT, SQLite's INTEGER (64-bit there) and REAL in tables' definitions."""
    if statement.lstrip().upper().startswith("PRAGMA"):
        raise ValueError(f"a SQLite PRAGMA cannot run on PostgreSQL: {statement}")
    out = _TOKENS.sub(lambda m: {"?": "%s", "%": "%%"}.get(m.group(0), m.group(0)), statement)
    if _DDL.match(out):
        for pattern, replacement in _TYPES:
            out = pattern.sub(replacement, out)
    insert = _INSERT.match(out)
    if insert is None:
        return out
    kind, table, named = insert.group(1).upper(), insert.group(2), insert.group(4)
    if " RETURNING " in out.upper():
        raise ValueError(f"INSERT OR {kind} with RETURNING is not translated: {statement}")
    out = f"INSERT INTO {table}{' (' + named + ')' if named else ''} {out[insert.end():].lstrip()}".rstrip().rstrip(";")
    if kind == "IGNORE":
        return out + " ON CONFLICT DO NOTHING"
    columns, key = table_info(table)
    given = [c.strip() for c in named.split(",")] if named else columns
    changed = [c for c in given if c not in key]
    if not changed:
        return out + " ON CONFLICT DO NOTHING"
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in changed)
    return out + f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


def where(url: str) -> str:
    """user@host:port/database of a URL, for messages: never its password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"{user}{parts.get('host') or 'localhost'}{port}/{parts.get('dbname') or parts.get('user') or ''}"


def _reason(error: psycopg.Error) -> str:
    """What went wrong, in a few words a person can act on (libpq's text names neither URL nor password)."""
    text = str(error)
    for pattern, says in (("password authentication failed", "the user name or password was refused"),
                          ("no password supplied", "the server asks for a password the URL does not give"),
                          ("does not exist", "the database does not exist"),
                          ("Connection refused", "no PostgreSQL server answers there"),
                          ("could not translate host name", "the host name is unknown"),
                          ("failed to resolve host", "the host name is unknown"),
                          ("timeout expired", "the server did not answer in time"),
                          ("permission denied", "the user may not create the schema or its tables")):
        if pattern in text:
            if says.startswith("the database") and "role" in text:
                return "the user does not exist"
            return says
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else type(error).__name__
    return re.sub(r"^(FATAL|ERROR):\s*", "", last.split("failed:")[-1].strip())


def lock_key(schema: str) -> int:
    """A stable 64-bit advisory lock key per schema (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.sha256(f"whoknows:{schema}".encode()).digest()[:8], "big", signed=True)


class PostgresDatabase:
    """One autocommit connection (psycopg serialises its use from several threads, as SQLite's connection does)."""

    def __init__(self, url: str, *, connect_timeout: int = 10) -> None:
        if not url.startswith(SCHEMES):
            raise StartupError(messages.bad_store_url())
        self._url, self._timeout = url, connect_timeout  # the URL holds the password: kept here, never shown
        self._where = where(url)
        self.schema = DEFAULT_SCHEMA
        self.conn = self._connect()
        self._key = lock_key(self.schema)
        self._translated: dict[str, str] = {}
        self._tables: dict[str, tuple[list[str], list[str]]] = {}

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=self._timeout, application_name="whoknows")
        except psycopg.ProgrammingError:  # the URL itself cannot be read
            raise StartupError(messages.bad_store_url()) from None
        except psycopg.Error as error:
            raise StartupError(messages.store_unavailable(self._where, _reason(error))) from None
        try:
            self.schema = self._enter_schema(conn)
        except psycopg.Error as error:
            conn.close()
            raise StartupError(messages.store_unavailable(self._where, _reason(error))) from None
        return conn

    def _reconnect(self) -> None:
        """A connection the server dropped (its restart, a fail-over, an idle timeout) is made again."""
        self.conn.close()
        self.conn = self._connect()

    @staticmethod
    def _enter_schema(conn: psycopg.Connection[Any]) -> str:
        path = [p.strip().strip('"') for p in str(conn.execute("SHOW search_path").fetchone()[0]).split(",")]  # type: ignore[index]
        schema = path[0] if path and path[0] not in ("$user", "public", "") else DEFAULT_SCHEMA
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is None:
            with conn.transaction():  # two processes starting together: one creates it, the other waits and sees it
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(schema),))
                conn.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema)))
        conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema)))
        return schema

    @property
    def name(self) -> str:
        return f"PostgreSQL {self._where} (schema {self.schema})"

    def _sql(self, statement: str) -> str:
        out = self._translated.get(statement)
        if out is None:
            out = self._translated[statement] = translate(statement, self._table_info)
        return out

    def _table_info(self, table: str) -> tuple[list[str], list[str]]:
        info = self._tables.get(table)
        if info is None:
            key = [r[0] for r in self.conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary", (f"{self.schema}.{table}",))]
            if not key:
                raise ValueError(f"INSERT OR REPLACE into {table}, which has no primary key")
            info = self._tables[table] = (self._columns(table), key)
        return info

    def _columns(self, table: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (self.schema, table))]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Outside a transaction, a statement that met a dropped connection is tried once more on a new one (the
        statements run so are upserts and reads, the same twice); inside one the error stands: the pipeline rolls back."""
        statement, args = self._sql(sql), tuple(params)
        idle = self.conn.info.transaction_status == TransactionStatus.IDLE
        try:
            return self.conn.execute(statement, args)
        except psycopg.OperationalError:
            if not (idle and self.conn.broken):
                raise
        self._reconnect()
        return self.conn.execute(statement, args)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(self._sql(sql), [tuple(r) for r in rows])

    def begin(self, *, exclusive: bool = False) -> None:
        if self.conn.broken:
            self._reconnect()
        self.conn.execute("BEGIN")
        if exclusive:
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))
            self._tables.clear()  # a migration may change the tables: what was read of them is read again
            self._translated.clear()

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.broken:  # the server ended the transaction with the connection: nothing is left to undo
            self._reconnect()
            return
        self.conn.execute("ROLLBACK")

    def schema_version(self, component: str) -> int:
        if self.conn.execute("SELECT to_regclass(%s)", (f"{self.schema}.{VERSIONS}",)).fetchone() == (None,):
            return 0
        row = self.conn.execute(f"SELECT version FROM {VERSIONS} WHERE component = %s", (component,)).fetchone()
        return int(row[0]) if row else 0

    def set_schema_version(self, component: str, version: int) -> None:
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSIONS}(component TEXT PRIMARY KEY, version BIGINT NOT NULL)")
        self.conn.execute(f"INSERT INTO {VERSIONS} VALUES(%s, %s) ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version",
                          (component, version))

    def columns(self, table: str) -> set[str]:
        return set(self._columns(table))

    @contextmanager
    def unsynced(self) -> Iterator[None]:
        self.execute("SET synchronous_commit TO off")
        try:
            yield
        finally:
            self.execute("RESET synchronous_commit")

    def close(self) -> None:
        self.conn.close()


__all__ = ["DEFAULT_SCHEMA", "SCHEMES", "PostgresDatabase", "lock_key", "translate", "where"]

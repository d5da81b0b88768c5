"""The SQL database the stores write to, as the little they need of it: statements, explicit transactions,
the schema version and a table's columns. SQLite (a file, or `:memory:`) is here; PostgreSQL is in
storage.postgres and speaks the same statements, translated there.

Statements are written once, in SQLite's dialect restricted to what both engines understand: `?`
placeholders, `INSERT OR IGNORE` and `INSERT OR REPLACE` (PostgreSQL turns them into ON CONFLICT), no
booleans used as numbers and no output alias in WHERE.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

Row = tuple[Any, ...]


class Cursor(Protocol):
    """The result of one statement: its rows (read once) and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    """One connection in autocommit mode: a statement outside `begin`/`commit` is its own transaction."""

    @property
    def name(self) -> str:
        """What the database is, for messages (a file's path, a server's host and database, never a password)."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def begin(self, *, exclusive: bool = False) -> None:
        """Starts a transaction; `exclusive` also keeps every other writer of the same schema out until it ends
        (migrations: two processes starting together run each migration once)."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def schema_version(self, component: str) -> int:
        """The last migration applied to `component` (the conversation store, the service state); 0 when none."""
        ...

    def set_schema_version(self, component: str, version: int) -> None: ...

    def columns(self, table: str) -> set[str]: ...

    def unsynced(self) -> AbstractContextManager[None]:
        """A context in which commits need not wait for the disk (a crash may lose the last ones, never corrupt)."""
        ...

    def close(self) -> None: ...


class SqliteDatabase:
    """A SQLite file (WAL) or `:memory:`; each file holds one component, its version in `PRAGMA user_version`."""

    def __init__(self, path: str = ":memory:", *, synchronous: str = "FULL") -> None:
        self.path = path
        self._synchronous = synchronous
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self.db.execute(f"PRAGMA synchronous={synchronous}")

    @property
    def name(self) -> str:
        return self.path

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)

    def begin(self, *, exclusive: bool = False) -> None:
        self.db.execute("BEGIN IMMEDIATE" if exclusive else "BEGIN")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        self.db.execute("ROLLBACK")

    def schema_version(self, component: str) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, component: str, version: int) -> None:
        self.db.execute(f"PRAGMA user_version = {int(version):d}")

    def columns(self, table: str) -> set[str]:
        return {str(row[1]) for row in self.db.execute(f"PRAGMA table_info({table})")}

    @contextmanager
    def unsynced(self) -> Iterator[None]:
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            self.db.execute(f"PRAGMA synchronous={self._synchronous}")

    def close(self) -> None:
        self.db.close()


__all__ = ["Cursor", "Database", "Row", "SqliteDatabase"]

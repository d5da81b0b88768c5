"""Numbered schema migrations for a SQLite file, recorded in `PRAGMA user_version`.

Each migration runs once, in its own transaction together with the version bump (SQLite's DDL is
transactional), so a crash leaves the file at the last version that completed. A file at a version newer
than the code knows is refused: an older whoknows must not write into a newer layout.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass


class SchemaTooNew(Exception):
    """The file was written by a newer whoknows; its text says which file and which versions."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    """1, 2, 3, ... in order, never renumbered once released."""
    why: str
    apply: Callable[[sqlite3.Connection], None]


def script(sql: str) -> Callable[[sqlite3.Connection], None]:
    """A migration made of plain statements (executed one by one, inside the migration's transaction)."""
    statements = [s.strip() for s in sql.split(";") if s.strip()]

    def run(db: sqlite3.Connection) -> None:
        for statement in statements:
            db.execute(statement)
    return run


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration], *, name: str) -> int:
    """Brings the file up to the last migration; returns its version. `db` is in autocommit mode
    (isolation_level=None): each migration is one explicit transaction."""
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise ValueError(f"{name}: migrations must be numbered 1, 2, 3, ...")
    latest = len(migrations)
    current = version_of(db)
    if current > latest:
        raise SchemaTooNew(f"{name} has schema version {current}, newer than this whoknows knows ({latest}); "
                           "run the whoknows that wrote it, or a newer one")
    for migration in migrations[current:]:
        db.execute("BEGIN IMMEDIATE")
        try:
            if version_of(db) < migration.version:  # another process may have run it meanwhile
                migration.apply(db)
                db.execute(f"PRAGMA user_version = {migration.version:d}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return latest


__all__ = ["Migration", "SchemaTooNew", "columns", "migrate", "script", "version_of"]

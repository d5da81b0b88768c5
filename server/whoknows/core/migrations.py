"""Numbered schema migrations for a store's database, recorded per component (a SQLite file's `PRAGMA user_version`,
a row of PostgreSQL's `whoknows_schema`).

Each migration runs once, in its own exclusive transaction together with the version bump (both engines' DDL is
transactional), so a crash leaves the database at the last version that completed. A file at a version newer
than the code knows is refused: an older whoknows must not write into a newer layout.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .database import Database


class SchemaTooNew(Exception):
    """The file was written by a newer whoknows; its text says which file and which versions."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    """1, 2, 3, ... in order, never renumbered once released."""
    why: str
    apply: Callable[[Database], None]


def script(sql: str) -> Callable[[Database], None]:
    """A migration made of plain statements (executed one by one, inside the migration's transaction)."""
    statements = [s.strip() for s in sql.split(";") if s.strip()]

    def run(db: Database) -> None:
        for statement in statements:
            db.execute(statement)
    return run


def columns(db: Database, table: str) -> set[str]:
    return db.columns(table)


def version_of(db: sqlite3.Connection) -> int:
    """A SQLite file's version, read without the Database wrapper (refuse_newer opens the file read-only)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, migrations: Sequence[Migration], *, name: str, component: str) -> int:
    """Brings `component` in `db` up to the last migration; returns its version. `db` is in autocommit mode:
    each migration is one explicit exclusive transaction."""
    if [m.version for m in migrations] != list(range(1, len(migrations) + 1)):
        raise ValueError(f"{name}: migrations must be numbered 1, 2, 3, ...")
    latest = len(migrations)
    current = db.schema_version(component)
    _refuse_newer(current, latest, name)
    for migration in migrations[current:]:
        db.begin(exclusive=True)
        try:
            if db.schema_version(component) < migration.version:  # another process may have run it meanwhile
                migration.apply(db)
                db.set_schema_version(component, migration.version)
            db.commit()
        except BaseException:
            db.rollback()
            raise
    return latest


def _refuse_newer(current: int, latest: int, name: str) -> None:
    if current > latest:
        raise SchemaTooNew(f"{name} has schema version {current}, newer than this whoknows knows ({latest}); it was left "
                           "as it is: run the whoknows that wrote it, or a newer one")


def refuse_newer_version(current: int, migrations: Sequence[Migration], *, name: str) -> None:
    """SchemaTooNew when a database at version `current` was written by a newer whoknows than these migrations."""
    _refuse_newer(current, len(migrations), name)


def refuse_newer(path: Path, migrations: Sequence[Migration], *, name: str) -> None:
    """SchemaTooNew when the file at `path` was written by a newer whoknows; checked before anything opens it to write
    (opening alone may switch its journal mode). Reads without writing: no journal file is created, nothing changes."""
    if not path.is_file():
        return
    # `immutable` reads the file as it lies, without the -wal/-shm files a read-only open would leave behind; a -wal
    # file present (a crash) may hold the latest version bump, so then read through it.
    crashed = path.with_name(path.name + "-wal").exists()
    db = sqlite3.connect(path.resolve().as_uri() + ("?mode=ro" if crashed else "?immutable=1"), uri=True)
    try:
        current = version_of(db)
    except sqlite3.DatabaseError:
        return  # not a database: opening it says so
    finally:
        db.close()
    _refuse_newer(current, len(migrations), name)


__all__ = ["Migration", "SchemaTooNew", "columns", "migrate", "refuse_newer", "refuse_newer_version", "script", "version_of"]

"""Numbered schema migrations for a SQLite file, recorded in `PRAGMA user_version`.

Each migration runs once, in its own transaction together with the version bump (SQLite's DDL is
transactional), so a crash leaves the file at the last version that completed. A file at a version newer
than the code knows is refused: an older whoknows must not write into a newer layout.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


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
    _refuse_newer(current, latest, name)
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


def _refuse_newer(current: int, latest: int, name: str) -> None:
    if current > latest:
        raise SchemaTooNew(f"{name} has schema version {current}, newer than this whoknows knows ({latest}); it was left "
                           "as it is: run the whoknows that wrote it, or a newer one")


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


__all__ = ["Migration", "SchemaTooNew", "columns", "migrate", "refuse_newer", "script", "version_of"]

"""Which of several whoknows processes sharing one PostgreSQL store is the one that applies events: the holder of a
session advisory lock, on a connection of its own.

A process that cannot take the lock stands by and tries again every `poll_s`; PostgreSQL releases a session lock the
moment its connection ends, so a leader killed outright (kill -9, a lost machine) frees it within a poll. The leader
checks its connection every `check_s`: once it is gone another process may already lead, so the leader must stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

from .postgres import PostgresDatabase, lock_key

log = logging.getLogger("whoknows.runtime")

POLL_S = 1.0
"""How often a standing-by process tries to take the lead."""
CHECK_S = 2.0
"""How often the leader makes sure its lock's connection is still there."""


class Leadership:
    def __init__(self, url: str, *, poll_s: float = POLL_S, check_s: float = CHECK_S) -> None:
        self._url = url
        self.poll_s, self.check_s = poll_s, check_s
        self._db: PostgresDatabase | None = None

    def _try(self) -> bool:
        """One attempt (blocking): a new connection when there is none or it broke, then the lock."""
        if self._db is not None and self._db.conn.broken:
            self._db.conn.close()
            self._db = None
        if self._db is None:
            self._db = PostgresDatabase(self._url)
        row = self._db.conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(f"{self._db.schema}:lead"),)).fetchone()
        return bool(row and row[0])

    async def try_take(self) -> bool:
        """One attempt: whether this process leads now (StartupError when the store cannot be reached)."""
        return await asyncio.to_thread(self._try)

    async def take(self, standing_by: Callable[[], None]) -> None:
        """Returns once this process leads; calls `standing_by` once if another process leads now. A store that cannot
        be reached at the first attempt stops the start (StartupError, as opening the store would); later, while
        standing by, it is only waited for."""
        if await asyncio.to_thread(self._try):
            return
        standing_by()
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                if await asyncio.to_thread(self._try):
                    return
            except Exception as error:  # the store went away while standing by: keep trying
                log.debug("leadership: %s", type(error).__name__)
                self._drop()

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend whose session holds (or tries for) the lock: what an operator finds in pg_stat_activity."""
        return self._db.conn.info.backend_pid if self._db is not None else None

    def held(self) -> bool:
        """Whether the lock's connection is still there (blocking; the lock lives as long as it does)."""
        if self._db is None or self._db.conn.broken:
            return False
        try:
            self._db.conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    async def watch(self, lost: Callable[[], None]) -> None:
        """Calls `lost` once and returns when the lead is lost."""
        while True:
            await asyncio.sleep(self.check_s)
            if not await asyncio.to_thread(self.held):
                lost()
                return

    def _drop(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except Exception:  # already broken: nothing to close cleanly
                log.debug("leadership: closing a broken connection")
            self._db = None

    def close(self) -> None:
        """Gives the lead up (the lock goes with its connection)."""
        self._drop()


__all__ = ["Leadership"]

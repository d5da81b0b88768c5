"""A replica that answers while another process leads keeps its in-memory view of the shared store in step.

The leader records what each commit changes (core.changes); this task reads those rows every `every_s` on a
connection of its own, off the event loop, and applies them to the conversation's facts table and channel list on
the loop (a few hundred array writes). A follower that missed changes (the log trimmed past it) loads the whole table
again. When the process takes the lead it reads the last changes (`catch_up`) and stops following.
"""

from __future__ import annotations

import asyncio
import logging

from ..core.changes import last_seq, read_changes
from ..core.conversation import Conversation
from ..core.database import Database
from ..core.facts import load_facts
from ..storage.store import connect

log = logging.getLogger("whoknows.runtime")

EVERY_S = 0.2
"""How often a follower reads the leader's changes: the longest a change is not yet seen here, after its commit."""


def start_of(url: str) -> int:
    """The change a follower that loads the store now starts after (read before the load: a change committed in
    between is read twice, which changes nothing)."""
    db = connect(url)
    try:
        return last_seq(db)
    finally:
        db.close()


class Following:
    def __init__(self, conversation: Conversation, url: str, since: int, *, every_s: float = EVERY_S) -> None:
        self.conversation = conversation
        self._url = url
        self.since = since
        self.every_s = every_s
        self._db: Database | None = None
        self._failing = False

    def _connection(self) -> Database:
        if self._db is None:
            self._db = connect(self._url)
        return self._db

    async def step(self) -> bool:
        """Reads and applies one round of changes; True when there may be more right away."""
        db, conv = self._connection(), self.conversation
        changed = await asyncio.to_thread(read_changes, db, self.since, conv.endorsing, conv.accepting)
        if changed.gap:
            log.warning("missed changes to the store after number %d; loading every post's facts again", self.since)
            since = await asyncio.to_thread(last_seq, db)
            conv.reload(await asyncio.to_thread(load_facts, db, conv.endorsing, conv.accepting))
            self.since = since
            return True
        conv.follow(changed)
        more = changed.last != self.since
        self.since = changed.last
        return more

    async def catch_up(self) -> None:
        """Every change committed so far (the process now leads: nobody else writes)."""
        while await self.step():
            pass

    async def run(self) -> None:
        while True:
            try:
                while await self.step():
                    pass
                if self._failing:
                    log.info("following the store's changes again")
                self._failing = False
            except Exception as error:  # the store away: answers come from what was read; retried
                if not self._failing:
                    log.warning("cannot read the store's changes (%s); retrying", type(error).__name__)
                self._failing = True
                self.close()
            await asyncio.sleep(self.every_s)

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except Exception:  # already broken
                log.debug("following: closing a broken connection")
            self._db = None


__all__ = ["EVERY_S", "Following", "start_of"]

"""Events from a replica that does not lead, for the one that does: the inbox table of the shared store.

Several whoknows processes on one PostgreSQL store answer requests, but only the leader applies events (service.writer).
What a follower's use cases produce (an opt-out, "Not helpful", a person introduced by name, the channels it discovers)
goes into `inbox` as JSON (`Inbox.put`); the leader reads the inbox in arrival order, applies what it finds through its
writer like any other event, and deletes the rows once they are searchable (`Inbox.drain`), so a follower knows its
events are applied when their rows are gone. A leader killed before the delete leaves them for the next one: events
apply idempotently, so one applied twice changes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any, Protocol, get_args

from ..clock import Clock
from ..core.database import Database
from ..core.events import Event

log = logging.getLogger("whoknows.runtime")

KINDS: dict[str, type[Any]] = {kind.__name__: kind for kind in get_args(Event)}
POLL_S = 0.2
"""How often the leader looks into the inbox, and a follower whether its events were applied."""
BATCH = 500


def encode(event: Event) -> str:
    return json.dumps({"kind": type(event).__name__, **dataclasses.asdict(event)}, separators=(",", ":"))


def decode(text: str) -> Event | None:
    """The event, or None for a row this release cannot read (a newer replica's kind): logged and dropped."""
    try:
        fields = json.loads(text)
        kind = KINDS[fields.pop("kind")]
        event: Event = kind(**fields)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("dropped an event in the inbox this release cannot read (%s)", type(error).__name__)
        return None
    return event


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.poll_s = POLL_S

    def put(self, events: Sequence[Event]) -> list[str]:
        """Hands events to the leader; returns their rows' ids (for `applied`)."""
        rows = [(uuid.uuid4().hex, self.clock(), encode(e)) for e in events]
        self.db.begin()
        try:
            for row in rows:
                self.db.execute("INSERT INTO inbox(id, at, event) VALUES(?,?,?)", row)
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()
        return [r[0] for r in rows]

    def applied(self, ids: Sequence[str]) -> bool:
        """Whether the leader has applied (and deleted) all of these rows."""
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            if self.db.execute(f"SELECT 1 FROM inbox WHERE id IN ({','.join('?' * len(chunk))}) LIMIT 1", tuple(chunk)).fetchone():
                return False
        return True

    def take(self) -> tuple[list[str], list[Event]]:
        """The oldest rows: their ids, and the events among them this release can read."""
        rows = self.db.execute("SELECT id, event FROM inbox ORDER BY at, id LIMIT ?", (BATCH,)).fetchall()
        events = [e for e in (decode(str(r[1])) for r in rows) if e is not None]
        return [str(r[0]) for r in rows], events

    def done(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            self.db.execute(f"DELETE FROM inbox WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))


class Submitter(Protocol):
    """What the leader's drain needs of the writer."""

    async def submit(self, items: Sequence[Event]) -> None: ...

    async def drained(self, timeout: float | None = 30.0) -> None: ...


async def drain(inbox: Inbox, writer: Submitter) -> None:
    """The leader's task: applies the followers' events as they arrive, then removes them from the inbox."""
    while True:
        try:
            ids, events = inbox.take()
            if ids:
                await writer.submit(events)
                await writer.drained(None)
                inbox.done(ids)
                continue
        except Exception:  # the store away for a moment: the rows stay and are read again
            log.exception("error %s: cannot read the inbox of events from other replicas", uuid.uuid4().hex[:8])
        await asyncio.sleep(inbox.poll_s)


__all__ = ["Inbox", "decode", "drain", "encode"]

"""Several whoknows processes on one PostgreSQL store: which one applies events, and what the others do meanwhile.

The holder of the store's lead (storage.leadership) applies events. In plugin mode with an index every process
reaches (OpenSearch) the others follow: they answer commands and buttons from the shared store and index, hand their
own events to the leader (service.relay), keep their in-memory facts in step (service.following), and refuse the
plugin's hook events (503) so the plugin sends those to the leader. Where each process has an index of its own in its
folder (Whoosh, tantivy), or in bot mode (Mattermost calls one URL), a process that does not lead stands by, answering
503, until it can lead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from .. import messages
from ..storage.leadership import Leadership
from ..storage.postgres import where
from ..core.conversation import Conversation
from ..core.index import IndexServer
from ..storage.state import ServiceState
from ..storage.store import Store
from .following import Following, start_of
from .repair import take_over
from .writer import Writer

log = logging.getLogger("whoknows.runtime")


class Replica:
    def __init__(self, url: str, *, answers: bool) -> None:
        self.url = url
        self.answers = answers
        """Whether this process may answer requests while another leads (plugin mode, a shared index)."""
        self.lead = Leadership(url)
        self.standing_by = False
        """Waiting for the lead without answering anything (every plugin route answers 503)."""
        self.following = False
        """Answering while another process leads (the plugin's hook events answered 503)."""
        self.since = 0
        """Following: the store's change after which this process's facts were loaded."""

    async def begin(self) -> bool:
        """True once this process leads (it may have stood by for it); False: it follows another from now on."""
        if await self.lead.try_take():
            return True
        if self.answers:
            self.since = await asyncio.to_thread(start_of, self.url)
            self.following = True
            log.info("%s", messages.following(where(self.url)))
            return False
        self.standing_by = True
        log.info("%s", messages.standing_by(where(self.url)))
        await self.lead.take(lambda: None)
        self.standing_by = False
        log.info("%s", messages.took_lead(where(self.url)))
        return True

    async def follow_until_lead(self, conversation: Conversation) -> None:
        """A follower: keeps the conversation's facts in step with the leader's changes until this process holds the
        lead, then reads the last of them (`following` stays set until the caller is ready to apply events)."""
        following = Following(conversation, self.url, self.since)
        try:
            task = asyncio.create_task(following.run())
            try:
                await self.lead.take(lambda: None)
                log.info("%s", messages.took_lead(where(self.url)))
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await following.catch_up()
        finally:
            following.close()

    async def take_lead(self, store: Store, state: ServiceState, writer: Writer, data: Path, engine: str,
                        server: IndexServer | None) -> None:
        """A follower: follows until it leads, then repairs the shared index from the store (the leader it replaces may
        have died between the two commits: repair.take_over) and turns its writer from relaying to applying."""
        await self.follow_until_lead(store.conversation)
        await asyncio.to_thread(take_over, store, state, data, engine, server, self.url)
        writer.relay = None
        self.following = False

    async def watch(self, lost: Callable[[str], None]) -> None:
        """The leader: calls `lost` with the reason once the lead is lost."""
        await self.lead.watch(lambda: lost(messages.lost_lead(where(self.url))))

    def close(self) -> None:
        self.lead.close()


__all__ = ["Replica"]

"""The inline-suggestion decisions that have finished, by the question's post id.

A suggestion is decided in a task of its own after the question is searchable, so `drained()` does not
cover it: tests wait here for the decision on one question instead of sleeping. Only the latest ones
are remembered, so a long-running service does not grow.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable

KEPT = 1024
"""How many finished decisions are remembered."""


class Decisions:
    def __init__(self, kept: int = KEPT) -> None:
        self.finished = 0
        """How many decisions have finished since start (a note posted or not)."""
        self._kept = kept
        self._done: OrderedDict[str, asyncio.Event] = OrderedDict()

    def _event(self, post_id: str) -> asyncio.Event:
        event = self._done.get(post_id)
        if event is None:
            event = self._done[post_id] = asyncio.Event()
            while len(self._done) > self._kept:
                self._done.popitem(last=False)
        return event

    def finish(self, post_id: str) -> None:
        self.finished += 1
        self._event(post_id).set()

    async def track(self, post_id: str, decision: Awaitable[None]) -> None:
        """Runs a decision and records that it finished, however it ended."""
        try:
            await decision
        finally:
            self.finish(post_id)

    async def wait(self, post_id: str, timeout: float = 30.0) -> None:
        """Until the decision on this question has finished (posted its note, or decided against one)."""
        await asyncio.wait_for(self._event(post_id).wait(), timeout)

"""Backfill pages history through the queue and resumes from its checkpoint after an interruption."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from whoknows.service.backfill import Backfill, Checkpointed
from whoknows.core.events import Event, PostCreated
from whoknows.storage.state import ServiceState


def _post(n: int) -> dict[str, Any]:
    return {"id": f"p{n:03d}", "channel_id": "c", "user_id": "u", "message": f"m{n}", "create_at": n, "update_at": n}


class FakeRest:
    """History of 450 posts, paged newest first like GET /channels/{id}/posts?before=."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.posts = [_post(n) for n in range(1, 451)]
        self.calls = 0
        self.fail_after = fail_after

    async def posts_before(self, channel_id: str, before: str) -> dict[str, Any]:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise ConnectionError("network down")
        older = [p for p in self.posts if not before or p["id"] < before]
        page = sorted(older, key=lambda p: -p["create_at"])[:200]
        return {"order": [p["id"] for p in page], "posts": {p["id"]: p for p in page}}

    async def posts_since(self, channel_id: str, since: int) -> dict[str, Any]:
        newer = [p for p in self.posts if p["update_at"] > since]
        return {"order": [p["id"] for p in newer], "posts": {p["id"]: p for p in newer}}


async def test_backfill_resumes_from_checkpoint_then_catches_up() -> None:
    state = ServiceState(":memory:")
    applied: list[str] = []

    async def submit(items: Sequence[Event | Checkpointed]) -> None:  # what the pipeline owner does, in order
        for item in items:
            if isinstance(item, PostCreated):
                applied.append(item.post_id)
            elif isinstance(item, Checkpointed):
                state.save_checkpoint(item.channel_id, item.checkpoint)

    interrupted = FakeRest(fail_after=1)
    with pytest.raises(ConnectionError):
        await Backfill(interrupted, state, submit, "bot").channel("c")  # type: ignore[arg-type]
    # The checkpoint sits one post newer than the page's oldest, so the oldest post's millisecond is
    # read again on resume (posts sharing it may lie beyond the page).
    assert len(applied) == 200 and state.checkpoint("c").history_before == "p252"

    rest = FakeRest()
    await Backfill(rest, state, submit, "bot").channel("c")  # type: ignore[arg-type]
    assert sorted(set(applied)) == [f"p{n:03d}" for n in range(1, 451)]
    assert len(applied) <= 450 + 3  # at most one re-read post per page boundary
    cp = state.checkpoint("c")
    assert cp.history_done and cp.since == 450

    rest.posts.append({**_post(451)})
    applied.clear()
    await Backfill(rest, state, submit, "bot").channel("c")  # type: ignore[arg-type]
    assert applied == ["p451"] and state.checkpoint("c").since == 451

"""Backfill pages history through the queue and resumes from its checkpoint after an interruption; a catch-up with
more changes than one `since` answer holds loses none of them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from whoknows.adapters.mattermost_rest import SINCE_LIMIT
from whoknows.service.backfill import Backfill, Checkpointed
from whoknows.core.events import Event, PostCreated, PostDeleted, PostEdited
from whoknows.storage.state import ServiceState
from conftest import new_state


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
    state = new_state()
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


class Server:
    """A channel as Mattermost serves it: history pages without deleted posts, and `since` answers of at most
    SINCE_LIMIT changes in no particular order (its store's LIMIT without ORDER BY)."""

    def __init__(self, n: int) -> None:
        self.posts = {p["id"]: p for p in (_post(i) for i in range(1, n + 1))}
        self.clock = n
        self.since_calls = 0

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    async def posts_before(self, channel_id: str, before: str) -> dict[str, Any]:
        alive = [p for p in self.posts.values() if not p.get("delete_at")]
        older = [p for p in alive if not before or p["create_at"] < self.posts[before]["create_at"]]
        page = sorted(older, key=lambda p: -p["create_at"])[:200]
        return {"order": [p["id"] for p in page], "posts": {p["id"]: p for p in page}}

    async def posts_since(self, channel_id: str, since: int) -> dict[str, Any]:
        self.since_calls += 1
        changed = [p for p in self.posts.values() if p["update_at"] > since]
        random.Random(self.since_calls).shuffle(changed)
        answer = changed[:SINCE_LIMIT]
        return {"order": [p["id"] for p in answer], "posts": {p["id"]: p for p in answer}}


class Applied:
    """The pipeline's owner, in order: the posts as applied, and the checkpoints saved after them."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.posts: dict[str, str] = {}

    async def submit(self, items: Sequence[Event | Checkpointed]) -> None:
        for item in items:
            match item:
                case PostCreated() | PostEdited():
                    self.posts[item.post_id] = item.message
                case PostDeleted():
                    self.posts.pop(item.post_id, None)
                case Checkpointed():
                    self.state.save_checkpoint(item.channel_id, item.checkpoint)


async def test_more_changes_than_one_since_answer_holds_are_all_caught_up() -> None:
    server, state = Server(300), new_state()
    applied = Applied(state)
    await Backfill(server, state, applied.submit, "bot").channel("c")  # type: ignore[arg-type]
    assert len(applied.posts) == 300
    # Away: 1,100 new posts, then 40 old ones edited and 30 deleted (more than one `since` answer holds).
    for i in range(301, 1401):
        server.posts[f"p{i:04d}"] = {**_post(i), "id": f"p{i:04d}", "create_at": server.tick(), "update_at": server.clock}
    for n in range(1, 41):
        server.posts[f"p{n:03d}"].update(message=f"edited {n}", edit_at=server.tick(), update_at=server.clock)
    for n in range(41, 71):
        server.posts[f"p{n:03d}"].update(delete_at=server.tick(), update_at=server.clock)
    await Backfill(server, state, applied.submit, "bot", kept=lambda _: set(applied.posts)).channel("c")  # type: ignore[arg-type]
    assert applied.posts == {i: p["message"] for i, p in server.posts.items() if not p.get("delete_at")}
    assert state.checkpoint("c").since == server.clock
    # And the next catch-up, with nothing changed, reads nothing again.
    before = dict(applied.posts)
    read = await Backfill(server, state, applied.submit, "bot", kept=lambda _: set(applied.posts)).channel("c")  # type: ignore[arg-type]
    assert read == 0 and applied.posts == before


async def test_a_checkpoint_never_falls_behind_what_live_events_queued() -> None:
    server, state = Server(10), new_state()
    applied = Applied(state)
    backfill = Backfill(server, state, applied.submit, "bot", live_since=lambda _: 99)  # type: ignore[arg-type]
    await backfill.channel("c")
    assert backfill.checkpoint is not None and backfill.checkpoint.since == 99 == state.checkpoint("c").since


class ThreadedRest:
    """Threads whose replies come long after their roots, paged as Mattermost pages them: `order` holds the page's
    own posts (created before the cursor post), and `posts` also carries every post of their threads, older or newer."""

    def __init__(self) -> None:
        roots = [{**_post(10 * k), "root_id": ""} for k in range(1, 101)]
        replies = [{**_post(10 * k + 500 + j), "id": f"r{k:03d}-{j}", "root_id": f"p{10 * k:03d}"} for k in range(1, 101) for j in (1, 2)]
        self.posts = {p["id"]: p for p in [*roots, *replies]}
        self.calls = 0

    async def posts_before(self, channel_id: str, before: str) -> dict[str, Any]:
        self.calls += 1
        if self.calls > 50:
            raise AssertionError("the backfill keeps asking for pages: its cursor does not move")
        limit = self.posts[before]["create_at"] if before else 10**9
        page = sorted((p for p in self.posts.values() if p["create_at"] < limit), key=lambda p: -p["create_at"])[:50]
        threads = {p["root_id"] or p["id"] for p in page}
        context = {p["id"]: p for p in self.posts.values() if (p["root_id"] or p["id"]) in threads}
        return {"order": [p["id"] for p in page], "posts": context}


async def test_thread_context_in_a_page_does_not_move_the_cursor() -> None:
    """A page also carries the roots and replies of its posts' threads: a cursor taken from them skipped history (an
    older root) or stood still (a newer reply, at the last page)."""
    state = new_state()
    applied: set[str] = set()

    async def submit(items: Sequence[Event | Checkpointed]) -> None:
        applied.update(i.post_id for i in items if isinstance(i, PostCreated))

    rest = ThreadedRest()
    await Backfill(rest, state, submit, "bot").channel("c")  # type: ignore[arg-type]
    assert applied == set(rest.posts)  # none skipped (and, by ThreadedRest's bound, no page asked for forever)

"""Replicas on one PostgreSQL store: what the leader commits, a follower's facts show a moment later (posts, edits,
deletions, reactions, an erasure), a follower that missed changes loads everything again, and a follower's own
events reach the leader through the inbox, exactly once applied, in the order they were handed over. Against the
local PostgreSQL (tests/postgres_node.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import postgres_node
from whoknows.core import changes
from whoknows.core.changes import last_seq
from whoknows.core.conversation import Conversation
from whoknows.core.events import (
    ChannelUpdated, Event, PostCreated, PostDeleted, PostEdited, ReactionAdded, ReactionRemoved, SuggestionRejected, UserErased,
    UserOptedOut, UserUpdated)
from whoknows.core.engine import Engine
from whoknows.core.index import IndexedPost, PostIndex, engine_folder, open_index
from whoknows.core.pipeline import Pipeline
from whoknows.service.following import Following, start_of
from whoknows.service.repair import take_over
from whoknows.service.relay import Inbox, decode, drain, encode
from whoknows.storage.postgres import PostgresDatabase
from whoknows.storage.state import ServiceState
from whoknows.storage.store import Store

T = 1_700_000_000_000


@pytest.fixture
def url(pg_database: str) -> str:
    return postgres_node.fresh_store(pg_database)


@pytest.fixture
def leader(url: str) -> Iterator[tuple[Conversation, Pipeline]]:
    conversation = Conversation(PostgresDatabase(url), change_log=True)
    pipeline = Pipeline(conversation, open_index("whoosh"))
    yield conversation, pipeline
    conversation.close()


def follower(url: str) -> tuple[Conversation, Following]:
    since = start_of(url)
    conversation = Conversation(PostgresDatabase(url))
    return conversation, Following(conversation, url, since)


def seen(conversation: Conversation, *ids: str) -> dict[str, tuple[object, ...]]:
    """What the ranking reads of these posts (author, thread, endorsements, acceptance, roles)."""
    return {i: (f.user_id, f.root_id, f.endorsements, f.accepted, f.is_question, f.content_free)
            for i, f in conversation.facts.get(ids).items()}


async def test_a_follower_sees_what_the_leader_commits(leader: tuple[Conversation, Pipeline], url: str) -> None:
    conv, pipeline = leader
    pipeline.apply([ChannelUpdated("c1", "t", "town", "O"),
                    PostCreated("q", "c1", "ann", "How do I rotate the certificates?", T),
                    PostCreated("a", "c1", "bob", "Run the rotate job first", T + 1, root_id="q")])
    them, following = follower(url)
    try:
        assert seen(them, "q", "a") == seen(conv, "q", "a"), "a follower starts from what is committed"
        pipeline.apply([PostCreated("b", "c1", "cid", "me too", T + 2, root_id="q"),
                        ReactionAdded("a", "ann", "white_check_mark", T + 3),
                        ReactionAdded("a", "cid", "+1", T + 4),
                        PostEdited("q", "the certificates expired", T + 5),
                        ChannelUpdated("c2", "t", "ops", "O")])
        assert seen(them, "a") != seen(conv, "a"), "nothing is seen before the follower reads the changes"
        await following.catch_up()
        assert seen(them, "q", "a", "b") == seen(conv, "q", "a", "b")
        assert seen(them, "a")["a"][2:4] == (2, True), "the endorsements and the asker's acceptance count"
        assert them.replies(["q"]) == {"q": ["a", "b"]}
        assert "c2" in them.all_channels()
        pipeline.apply([ReactionRemoved("a", "cid", "+1"), PostDeleted("b", T + 6), UserErased("ann", T + 7)])
        await following.catch_up()
        assert seen(them, "q", "a", "b") == seen(conv, "q", "a", "b") == {"a": ("bob", "q", 0, False, False, False)}, \
            "the deleted reply and everything the erased person wrote are gone on the follower too"
    finally:
        following.close()
        them.close()


async def test_a_follower_that_missed_changes_loads_everything_again(
        leader: tuple[Conversation, Pipeline], url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    conv, pipeline = leader
    them, following = follower(url)
    monkeypatch.setattr(changes, "KEEP", 1)  # the log keeps only the last change, trimmed at every commit:
    monkeypatch.setattr(changes, "TRIM_EVERY", 1)  # as if the follower had been away for KEEP changes
    try:
        for n in range(3):
            pipeline.apply([PostCreated(f"p{n}", "c1", "ann", f"the exporter fails, take {n}", T + n)])
        assert conv.db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 1
        await following.catch_up()
        assert set(seen(them, "p0", "p1", "p2")) == {"p0", "p1", "p2"}
        assert following.since == last_seq(conv.db)
        pipeline.apply([PostDeleted("p0", T + 9)])
        await following.catch_up()
        assert set(seen(them, "p0", "p1", "p2")) == {"p1", "p2"}, "and follows the changes again from there"
    finally:
        following.close()
        them.close()


def test_every_event_kind_crosses_the_inbox_unchanged() -> None:
    events: list[Event] = [PostCreated("p", "c", "u", "a \"quoted\"\nline ✓", T, root_id="r"), PostEdited("p", "new", T),
              PostDeleted("p", T), ReactionAdded("p", "u", "+1", T), ReactionRemoved("p", "u", "+1"),
              UserOptedOut("u", T), UserErased("u", T), SuggestionRejected("u", "k8s", "v", T),
              UserUpdated("u", "ann", "Ann", is_bot=False, deactivated=True), ChannelUpdated("c", "t", "town", "P")]
    assert [decode(encode(e)) for e in events] == events
    assert decode('{"kind": "PostCreated", "post_id": "p"}') is None, "a row missing fields is dropped, not raised"
    assert decode('{"kind": "SomethingNewer", "x": 1}') is None, "a newer release's kind is dropped"


class Applier:
    """The leader's writer, as the drain sees it: applies at once."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.batches: list[list[object]] = []

    async def submit(self, items: object) -> None:
        self.batches.append(list(items))  # type: ignore[call-overload]
        self.pipeline.apply(self.batches[-1])  # type: ignore[arg-type]

    async def drained(self, timeout: float | None = 30.0) -> None:
        return None


async def test_a_followers_events_are_applied_by_the_leader_once_and_in_order(
        leader: tuple[Conversation, Pipeline], url: str) -> None:
    conv, pipeline = leader
    theirs, ours = ServiceState(PostgresDatabase(url)), ServiceState(PostgresDatabase(url))
    clock = iter(range(T, T + 100))
    sent = Inbox(theirs.db, lambda: next(clock))
    applier = Applier(pipeline)
    draining = asyncio.create_task(drain(Inbox(ours.db, lambda: T), applier))
    try:
        ids = sent.put([UserUpdated("ann", "ann"), PostCreated("p", "c1", "ann", "the exporter fails", T), UserOptedOut("ann", T + 1)])
        ids += sent.put([PostEdited("p", "the exporter fails at night", T + 2)])
        for _ in range(100):
            if sent.applied(ids):
                break
            await asyncio.sleep(0.05)
        assert sent.applied(ids), "the leader took the rows out once applied"
        assert [type(e).__name__ for b in applier.batches for e in b] == ["UserUpdated", "PostCreated", "UserOptedOut", "PostEdited"]
        assert conv.messages(["p"]) == {"p": "the exporter fails at night"}
        assert conv.people(["ann"])["ann"].opted_out
    finally:
        draining.cancel()
        await asyncio.gather(draining, return_exceptions=True)
        theirs.close()
        ours.close()


def found(index: PostIndex, word: str) -> set[str]:
    return {h.post_id for h in index.search(index.terms(word), limit=10)}


def test_a_follower_taking_the_lead_indexes_what_the_dead_leader_committed_only_to_the_store(
        leader: tuple[Conversation, Pipeline], url: str, tmp_path: Path) -> None:
    conv, pipeline = leader
    state = ServiceState(PostgresDatabase(url))
    them = Conversation(PostgresDatabase(url))
    index = open_index("whoosh", tmp_path / engine_folder("whoosh"))  # where the start-up repair looks for it
    try:
        pipeline.apply([PostCreated("a", "c1", "ann", "the exporter fails", T), PostCreated("d", "c1", "bob", "the gateway leaks", T)])
        for post_id, user, text in (("a", "ann", "the exporter fails"), ("d", "bob", "the gateway leaks")):
            index.put(IndexedPost(post_id, "c1", user, text), replace=False)  # what the shared index got
        index.commit()
        assert conv.changes is not None and conv.changes.last is not None
        state.save_indexed_through(conv.changes.last)  # the leader's writer, after that commit
        # The leader's last batch reached the store; it died before the index's commit.
        pipeline.apply([PostEdited("a", "the exporter fails at night", T + 1), PostCreated("c", "c1", "cid", "the tracer drops spans", T + 2),
                        PostDeleted("d", T + 3)])
        store = Store(them, index, Pipeline(them, index), Engine(them, index), "http://localhost")
        take_over(store, state, tmp_path, "whoosh", None, url)
        assert found(index, "night") == {"a"} and found(index, "tracer") == {"c"} and found(index, "gateway") == set()
        state.db.execute("DELETE FROM settings WHERE key = 'indexed_through'")  # no mark: nothing can be told
        index.put(IndexedPost("z", "c1", "zed", "a stale zebra"), replace=False)
        index.commit()
        take_over(store, state, tmp_path, "whoosh", None, url)  # compares the whole index with the store
        again = open_index("whoosh", tmp_path / engine_folder("whoosh"))  # (a folder index: read as a new reader sees it)
        try:
            assert found(again, "zebra") == set() and found(again, "tracer") == {"c"}
        finally:
            again.close()
    finally:
        index.close()
        them.close()
        state.close()

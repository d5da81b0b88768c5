"""Leader fail-over at the bench's size: two replicas on one PostgreSQL store over the bench's shared index (OpenSearch).

The bench's store is copied into a fresh PostgreSQL schema (COPY, table by table: the same rows the import made,
without importing them a second time). Each round one replica leads, applying a stream of posts through the service's
own writer, while the other follows (service.replicas, the same `follow_until_lead` and `take_over` the runtime
runs). The leader is then killed as PostgreSQL sees a dead process: its writer stops mid-stream and the session
holding its lock is terminated. Measured: from the kill to a new post applied and searchable through the new leader
("events applied again"), and whether every post the dead leader committed to the store is searchable afterwards.
The dead replica comes back as a follower (loading the store's facts, as a restarted process does) for the next round.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from ..core.conversation import Conversation
from ..core.engine import Engine
from ..core.events import PostCreated, UserUpdated
from ..core.index import IndexServer, engine_folder, open_index
from ..core.pipeline import Pipeline
from ..service.relay import Inbox, drain
from ..service.replicas import Replica
from ..service.writer import Writer
from ..storage.state import ServiceState
from ..storage.store import Store, open_conversation, open_state, open_store_database
from .timing import Latencies

TABLES = ("teams", "channels", "users", "members", "posts", "reactions", "activity", "optouts", "erased", "rejections")
SCHEMA = "whoknows_bench_failover"
STREAM = 50
"""Posts the leader applies in each round before it is killed (and one more batch handed to it as it dies)."""


def with_schema(url: str, schema: str = SCHEMA) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def copy_store(sqlite_file: Path, url: str) -> int:
    """A fresh schema in `url` holding the SQLite store's rows; returns the posts copied."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    target = with_schema(url)
    open_store_database(sqlite_file.parent, target).close()  # the schema and both components' tables, migrated
    open_state(sqlite_file.parent, target).close()
    source = sqlite3.connect(sqlite_file)
    try:
        with psycopg.connect(target) as pg:
            pg.execute(f"SET search_path TO {SCHEMA}")
            for table in TABLES:
                columns = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
                with pg.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in source.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                        copy.write_row(row)
        return int(source.execute("SELECT COUNT(*) FROM posts").fetchone()[0])
    finally:
        source.close()


@dataclass
class Side:
    data: Path
    store: Store
    state: ServiceState
    replica: Replica
    writer: Writer
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def spawn(self, coro: Any) -> None:
        self.tasks.append(asyncio.create_task(coro))

    async def die(self) -> None:
        """As a killed process: its tasks stop where they are, its connections end (an open transaction rolls back,
        the lock's session ends), the index writes it had not committed are lost."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.store.index.close()  # drops what was not committed
        self.store.conversation.close()
        self.state.close()
        self.replica.close()


async def _nobody(user_ids: Any) -> list[UserUpdated]:
    return []


async def _side(url: str, data: Path, engine: str, server: IndexServer, users: set[str]) -> Side:
    """A replica as the runtime starts one: lead or follow, then the store, the state, the writer."""
    replica = Replica(url, answers=True)
    leading = await replica.begin()
    conversation: Conversation = await asyncio.to_thread(open_conversation, data, url)
    index = open_index(engine, data / engine_folder(engine), server)
    store = Store(conversation, index, Pipeline(conversation, index), Engine(conversation, index), "http://localhost:8065")
    state = open_state(data, url)
    writer = Writer(store, state, data, batch_events=200, batch_milliseconds=50, lookup_users=_nobody, known_users=users)
    side = Side(data, store, state, replica, writer)
    side.spawn(writer.run())
    if leading:
        side.spawn(drain(Inbox(state.db, lambda: 0), writer))
    else:
        writer.relay = Inbox(state.db, lambda: 0)
    return side


def _post(i: int, nonce: int, channel: str, user: str, at: int) -> PostCreated:
    word = "zqfail" + "".join(chr(ord("a") + int(d)) for d in f"{nonce:06d}{i:05d}")
    return PostCreated(f"failover{nonce}x{i}", channel, user, f"the {word} rollout finished", at)


def _searchable(store: Store, post: PostCreated) -> bool:
    word = post.message.split()[1]
    return any(h.post_id == post.post_id for h in store.index.search(store.index.terms(word), limit=5))


async def _rounds(url: str, data: Path, engine: str, server: IndexServer, rounds: int, channel: str, user: str, at: int) -> dict[str, Any]:
    took, made, missing = Latencies(), 0, 0
    users = {user}
    leader = await _side(url, data / "one", engine, server, users)
    follower = await _side(url, data / "two", engine, server, users)
    nonce = int(time.time()) % 1_000_000
    try:
        for r in range(rounds):
            leading = asyncio.Event()

            async def follow_then_lead(side: Side = follower, done: asyncio.Event = leading) -> None:
                await side.replica.take_lead(side.store, side.state, side.writer, side.data, engine, server)
                side.spawn(drain(Inbox(side.state.db, lambda: 0), side.writer))
                done.set()

            follower.spawn(follow_then_lead())
            stream = [_post(r * 1000 + i, nonce, channel, user, at + r * 1000 + i) for i in range(STREAM + 5)]
            await leader.writer.submit(stream[:STREAM])
            await leader.writer.drained()
            await leader.writer.submit(stream[STREAM:])  # handed over as it dies: applied, half applied or not at all
            await asyncio.sleep(0.02)  # the writer has the batch in hand
            killed = time.perf_counter()
            await leader.die()
            await asyncio.wait_for(leading.wait(), 60)
            after = _post(r * 1000 + 999, nonce, channel, user, at + r * 1000 + 999)
            await follower.writer.submit([after])
            await follower.writer.drained()
            took.samples.append(time.perf_counter() - killed)
            assert _searchable(follower.store, after)
            committed = {str(row[0]) for row in follower.store.conversation.db.execute(
                "SELECT post_id FROM posts WHERE post_id LIKE ?", (f"failover{nonce}x%",))} & {p.post_id for p in stream}
            made += len(committed)
            missing += sum(not _searchable(follower.store, p) for p in stream if p.post_id in committed)
            leader, follower = follower, await _side(url, data / ("one" if r % 2 else "two"), engine, server, users)
    finally:
        await follower.die()
        await leader.die()
    return {"rounds": rounds, "failover": took.figures(), "posts_committed": made, "missing_after_take_over": missing}


def failover(sqlite_file: Path, url: str, data: Path, engine: str, server: IndexServer, rounds: int = 5) -> dict[str, Any]:
    started = time.perf_counter()
    posts = copy_store(sqlite_file, url)
    copy_seconds = round(time.perf_counter() - started, 1)
    source = sqlite3.connect(sqlite_file)
    try:
        channel, user, at = source.execute("SELECT channel_id, user_id, MAX(create_at) FROM posts").fetchone()
    finally:
        source.close()
    result = asyncio.run(_rounds(with_schema(url), data, engine, server, rounds, channel, user, int(at) + 60_000))
    return {"posts": posts, "copy_seconds": copy_seconds, **result}


__all__ = ["copy_store", "failover"]

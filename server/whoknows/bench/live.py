"""Live ingestion lag: posts arrive at a steady rate, one task owns the pipeline and applies them the way
Runtime._apply_loop does (at most `batch_events` or `batch_ms`, then flush), and a reader polls the
index until each post's unique marker word is found: arrival -> searchable."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.events import PostCreated
from ..core.questions import is_question
from ..storage.store import Store
from ..app.suggestions import DAY_MS
from .timing import Latencies

POLL_SECONDS = 0.01


@dataclass
class LagRun:
    lag: Latencies = field(default_factory=Latencies)
    apply: Latencies = field(default_factory=Latencies)
    """Each batch: pipeline.apply + flush (the index commit and searcher refresh)."""
    batch_sizes: list[int] = field(default_factory=list)
    missing: int = 0


def _letters(n: int, width: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in f"{n:0{width}d}"[-width:])


def _marker(nonce: int, i: int) -> str:
    # Letters only after a fixed prefix: the stemmer leaves it whole, and no real post contains it.
    return "zqmark" + _letters(nonce, 6) + _letters(i, 7)


async def measure_lag(
    store: Store,
    texts: Sequence[str],
    channels: Sequence[str],
    users: Sequence[str],
    *,
    start_at: int,
    rate: float = 100.0,
    seconds: float = 30.0,
    batch_events: int = 200,
    batch_ms: int = 100,
    seed: int = 7,
    nonce: int = 0,
) -> LagRun:
    """`nonce` makes post ids and markers new on every run (a re-used data folder already holds old ones)."""
    rnd = random.Random(seed)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[PostCreated] = asyncio.Queue()
    arrived: dict[str, float] = {}
    searchable: dict[str, float] = {}
    marker_of: dict[str, str] = {}
    run = LagRun()
    total = int(rate * seconds)
    produced = asyncio.Event()

    async def produce() -> None:
        t0 = loop.time()
        roots: list[tuple[str, str]] = []
        for i in range(total):
            delay = t0 + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            marker = _marker(nonce, i)
            channel = rnd.choice(channels)
            root = ""
            if roots and rnd.random() < 0.6:  # most live posts are replies, as in the workspace
                root, channel = rnd.choice(roots[-50:])
            post = PostCreated(f"live{nonce}-{i:07d}", channel, rnd.choice(users), f"{rnd.choice(texts)} {marker}", start_at + i * 10, root)
            if not root:
                roots.append((post.post_id, channel))
            (term,) = store.index.terms(marker)  # searched as the index analyses it (stemmed)
            marker_of[post.post_id] = term
            arrived[post.post_id] = loop.time()
            queue.put_nowait(post)
        produced.set()

    async def own_pipeline() -> None:
        pipeline, conv = store.pipeline, store.conversation
        while True:
            batch = [await queue.get()]
            deadline = loop.time() + batch_ms / 1000
            while len(batch) < batch_events:
                try:
                    batch.append(await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time())))
                except TimeoutError:
                    break
            started = loop.time()
            pipeline.apply(batch)
            pipeline.flush()
            # Runtime._apply then decides, per live root post, whether it gets an inline suggestion.
            for post in batch:
                if not post.root_id:
                    conv.channel_posts_since(post.channel_id, post.create_at - DAY_MS)
                    is_question(post.message)
            run.apply.samples.append(loop.time() - started)
            run.batch_sizes.append(len(batch))

    async def poll() -> None:
        while True:
            waiting = [m for pid, m in marker_of.items() if pid not in searchable]
            if waiting:
                now = loop.time()
                for hit in store.index.search(waiting, limit=len(waiting)):
                    if hit.post_id not in searchable:
                        searchable[hit.post_id] = now
            elif produced.is_set():
                return
            await asyncio.sleep(POLL_SECONDS)

    owner = asyncio.create_task(own_pipeline())
    reader = asyncio.create_task(poll())
    try:
        await produce()
        await asyncio.wait_for(reader, timeout=60)
    except TimeoutError:
        pass
    finally:
        for task in (owner, reader):
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
    for pid, at in arrived.items():
        if pid in searchable:
            run.lag.samples.append(searchable[pid] - at)
        else:
            run.missing += 1
    return run

"""Live traffic through the service's own writer (`service.writer.Writer`, the one that owns the pipeline in
production): posts and reactions arrive at a steady rate while people run `/whoknows`.

Measured: post -> searchable (the clock starts when the post is made, before it is handed to the writer, and
stops when the batch holding it is committed), and `/whoknows` latency from the moment a request arrives to
its answer, first with no traffic (idle) and then while the traffic arrives (loaded). A request that has to
wait for a batch being applied on the same event loop shows that wait in its latency.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..app import commands
from ..core.events import Event, PostCreated, ReactionAdded, UserUpdated
from ..service.writer import Writer
from .scenarios import Asked
from .timing import Latencies


@dataclass
class LiveRun:
    lag: Latencies = field(default_factory=Latencies)
    idle: Latencies = field(default_factory=Latencies)
    loaded: Latencies = field(default_factory=Latencies)
    posts: int = 0
    reactions: int = 0
    missing: int = 0


def _letters(n: int, width: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in f"{n:0{width}d}"[-width:])


def _marker(nonce: int, i: int) -> str:
    # Letters only after a fixed prefix: the stemmer leaves it whole, and no real post contains it.
    return "zqmark" + _letters(nonce, 6) + _letters(i, 7)


async def _nobody(user_ids: Sequence[str]) -> list[UserUpdated]:
    return []


async def live_traffic(
    app: commands.UseCases,
    asked: Sequence[Asked],
    texts: Sequence[str],
    channels: Sequence[str],
    users: Sequence[str],
    targets: Sequence[str],
    *,
    start_at: int,
    posts_per_s: float = 100.0,
    reactions_per_s: float = 100.0,
    reads_per_s: float = 10.0,
    seconds: float = 30.0,
    seed: int = 7,
    nonce: int = 0,
) -> LiveRun:
    """`targets`: existing posts the reactions go to. `nonce` makes post ids and markers new on every run."""
    svc = app.services
    store, settings = svc.store, svc.settings
    rnd = random.Random(seed)
    loop = asyncio.get_running_loop()
    writer = Writer(store, svc.state, Path("."), batch_events=settings.batch_events, batch_milliseconds=settings.batch_milliseconds,
                    lookup_users=_nobody, known_users=set(users))
    made: dict[str, float] = {}
    searchable: dict[str, float] = {}
    run = LiveRun()

    def applied(events: Sequence[Event]) -> None:
        now = loop.time()
        for e in events:
            if isinstance(e, PostCreated) and e.post_id in made and e.post_id not in searchable:
                searchable[e.post_id] = now

    writer.on_applied = applied
    owner = asyncio.create_task(writer.run())

    async def read(into: Latencies, duration: float) -> None:
        t0, i = loop.time(), 0
        while (due := t0 + i / reads_per_s) < t0 + duration:
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            a = asked[i % len(asked)]
            await commands.command(app, {"text": a.text, "user_id": a.caller, "channel_id": ""})
            into.samples.append(loop.time() - due)  # from the request's arrival: waiting for the loop counts
            i += 1

    async def produce() -> None:
        t0, roots = loop.time(), list[tuple[str, str]]()
        total, step = int(posts_per_s * seconds), 1 / (posts_per_s + reactions_per_s)
        n_posts = n_reactions = 0
        while n_posts < total:
            due = t0 + (n_posts + n_reactions) * step
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            if n_reactions * posts_per_s < n_posts * reactions_per_s:
                target = rnd.choice(targets)
                await writer.submit([ReactionAdded(target, rnd.choice(users), rnd.choice(("+1", "heart", "tada")), start_at + n_reactions)])
                n_reactions += 1
                continue
            channel, root = rnd.choice(channels), ""
            if roots and rnd.random() < 0.6:  # most live posts are replies, as in the workspace
                root, channel = rnd.choice(roots[-50:])
            post_id = f"live{nonce}-{n_posts:07d}"
            made[post_id] = loop.time()  # the post exists from here: the lag clock starts before the writer sees it
            post = PostCreated(post_id, channel, rnd.choice(users), f"{rnd.choice(texts)} {_marker(nonce, n_posts)}",
                               start_at + n_posts * 10, root)
            if not root:
                roots.append((post_id, channel))
            await writer.submit([post])
            n_posts += 1
        run.posts, run.reactions = n_posts, n_reactions

    try:
        await read(run.idle, min(seconds, 10.0))
        await asyncio.gather(produce(), read(run.loaded, seconds))
        await writer.drained(120.0)
    finally:
        owner.cancel()
        try:
            await owner
        except asyncio.CancelledError:
            pass
    for post_id, at in made.items():
        if post_id in searchable:
            run.lag.samples.append(searchable[post_id] - at)
        else:
            run.missing += 1
    last = f"live{nonce}-{run.posts - 1:07d}"
    (term,) = store.index.terms(_marker(nonce, run.posts - 1))
    if last not in {h.post_id for h in store.index.search([term], limit=5)}:
        run.missing += 1  # the writer said applied, yet the index cannot find it
    return run

"""The timed requests: `/whoknows <topic>` through Mattermost's command endpoint, and the same requests in-process.

Both sides run the same plan (topic i, caller i), one request at a time, after one untimed pass over the
topics. Each answer is checked to be a card naming people, so a refusal or "starting" is not timed as an answer.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from e2e.bootstrap import User
from whoknows.app.commands import UseCases
from whoknows.app.digests import Digests
from whoknows.app.learning import Learning
from whoknows.app.ports import Presence
from whoknows.bench.production import production_permissions
from whoknows.bench.scenarios import Asked, slash_command
from whoknows.bench.timing import Latencies
from whoknows.clock import wall_clock
from whoknows.service.offline import offline_services, offline_settings
from whoknows.storage.store import open_store


@dataclass(frozen=True, slots=True)
class Request:
    topic: str
    caller: User


@dataclass
class Timed:
    latencies: Latencies
    cards: int  # answers that name at least one person
    other: list[str]  # the first words of answers that did not


def plan(topics: Sequence[str], callers: Sequence[User], count: int) -> list[Request]:
    """`count` requests: the topics in turn, each asked by the next caller."""
    return [Request(topics[i % len(topics)], callers[i % len(callers)]) for i in range(count)]


def _check(answer: dict[str, Any], timed: Timed) -> None:
    if answer.get("attachments"):
        timed.cards += 1
    elif len(timed.other) < 5:
        timed.other.append(str(answer.get("text", ""))[:120])


async def through_mattermost(url: str, channel_id: str, requests: Sequence[Request], warm_up: Sequence[Request]) -> Timed:
    """POST /api/v4/commands/execute as each caller (one kept-alive client each); the bot answers in the reply."""
    clients: dict[str, httpx.AsyncClient] = {}
    timed = Timed(Latencies(), 0, [])
    try:
        for r in [*requests, *warm_up]:
            if r.caller.id not in clients:
                clients[r.caller.id] = httpx.AsyncClient(base_url=f"{url}/api/v4", timeout=60.0,
                                                         headers={"Authorization": f"Bearer {r.caller.token}"})

        async def execute(r: Request) -> dict[str, Any]:
            answer = await clients[r.caller.id].post("/commands/execute", json={"channel_id": channel_id, "command": f"/whoknows {r.topic}"})
            answer.raise_for_status()
            result: dict[str, Any] = answer.json()
            return result

        for r in warm_up:
            await execute(r)
        for r in requests:
            started = time.perf_counter()
            answer = await execute(r)
            timed.latencies.samples.append(time.perf_counter() - started)
            _check(answer, timed)
    finally:
        for client in clients.values():
            await client.aclose()
    return timed


async def in_process(data: Path, site_url: str, channel_id: str, requests: Sequence[Request], warm_up: Sequence[Request]) -> Timed:
    """The same requests through `whoknows.bench.scenarios.slash_command` on the bot's store, with the production
    permission check answered from the store (as `python -m whoknows.bench` builds its app)."""
    timed = Timed(Latencies(), 0, [])
    with open_store(data, create=False) as store:
        settings = offline_settings({"WHOKNOWS_MATTERMOST_URL": site_url})
        presence = Presence(callback_url="http://127.0.0.1:8077")
        permissions = production_permissions(store, presence, settings.readable_cache_seconds, wall_clock)
        svc = dataclasses.replace(offline_services(store, wall_clock, settings=settings, permissions=permissions), presence=presence)
        learning = Learning(svc)
        app = UseCases(svc, learning, Digests(svc, learning))
        try:
            for r in warm_up:
                await slash_command(app, Asked(r.topic, r.caller.id, channel_id))
            for r in requests:
                started = time.perf_counter()
                answer = await slash_command(app, Asked(r.topic, r.caller.id, channel_id))
                timed.latencies.samples.append(time.perf_counter() - started)
                _check(answer, timed)
        finally:
            svc.state.close()
    return timed

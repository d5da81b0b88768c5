"""Several whoknows processes (bot mode) on one PostgreSQL store and one OpenSearch index, against the real Mattermost:
one leads and answers, the other stands by; the leader killed with SIGKILL is replaced, the posts made while nobody
led are read by the new leader, /whoknows answers from it, and nothing is lost or kept twice. Three rounds, the
killed one coming back each time to stand by; the fail-over times (kill -> events applied again) are reported. Then
the leader's connection to the database is cut: it stops with exit 1 and the other one leads."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import psycopg

from opensearch_node import count
from whoknows import messages
from whoknows.core.index import IndexServer

from .bootstrap import Workspace
from .botfixture import card_text, grant_command_rights, post, settings_env, slash
from .conftest import _note
from .mattermost import free_port
from .soak_process import CAUGHT_UP, BotProcess

ROUNDS = 3
TAKE_OVER_TIMEOUT_S = 60.0
STORE_TIMEOUT_S = 30.0
STANDING_BY = messages.standing_by("").split(";")[0].removeprefix("another ")
"""What a process that cannot lead says (the words before the store's name)."""


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


async def in_store(store_url: str, post_id: str, *, present: bool = True) -> None:
    """Waits (bounded) until the shared store holds the post (or, `present` False, no longer holds it)."""
    deadline = time.monotonic() + STORE_TIMEOUT_S
    while time.monotonic() < deadline:
        with psycopg.connect(store_url) as db:
            if bool(db.execute("SELECT 1 FROM posts WHERE post_id = %s", (post_id,)).fetchone()) == present:
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the store never {'got' if present else 'let go of'} post {post_id}")


def shared_env(store_url: str, opensearch: IndexServer, prefix: str) -> dict[str, str]:
    """The settings every process of one installation shares: the store and the index."""
    return {"WHOKNOWS_STORE_URL": store_url, "WHOKNOWS_INDEX_ENGINE": "opensearch",
            "WHOKNOWS_OPEN_SEARCH_URL": opensearch.url, "WHOKNOWS_OPEN_SEARCH_INDEX_PREFIX": prefix}


async def kill_and_take_over(workspace: Workspace, leader: BotProcess, standby: BotProcess, store_url: str) -> tuple[list[str], float]:
    """One round in the public channel: a post that /whoknows (through Mattermost) finds, answered by the leader; the
    leader killed; a post made while nobody leads, which the standby, once it leads, has read and answers for.
    Returns both posts' ids and the seconds from the kill to events applied again."""
    public = workspace.public_channel.id
    before, during = word(), word()
    first = await post(workspace, "alice", public, f"the {before} exporter needs its certificates rotated")
    await in_store(store_url, first["id"])
    assert "alice" in card_text(await slash(workspace, "bob", public, before)), "the leader answers, not the standby"

    applying = standby.expect(lambda text: CAUGHT_UP in text)
    killed_at = time.monotonic()
    await leader.kill()
    second = await post(workspace, "carol", public, f"notes on the {during} rollout")  # nobody leads now
    await asyncio.wait_for(applying, TAKE_OVER_TIMEOUT_S)
    took = time.monotonic() - killed_at
    await in_store(store_url, second["id"])
    answer = card_text(await slash(workspace, "bob", public, during))
    assert "carol" in answer, f"the new leader read what was said while nobody led, and answers: {answer}"
    assert "alice" in card_text(await slash(workspace, "bob", public, before))
    return [first["id"], second["id"]], took


async def test_a_killed_leader_is_replaced_and_nothing_is_lost_or_kept_twice(
        workspace: Workspace, opensearch: IndexServer, store_url: str, tmp_path: Path) -> None:
    grant_command_rights(workspace)
    prefix = f"whoknows-e2e-{uuid.uuid4().hex[:8]}"
    shared = shared_env(store_url, opensearch, prefix)
    bots = []
    for name in ("one", "two"):  # each with a folder of its own, as on two machines
        (tmp_path / name).mkdir()
        bots.append(BotProcess(tmp_path / name, settings_env(workspace, WHOKNOWS_HTTP_PORT=str(free_port()), **shared)))
    leader, standby = bots
    public = workspace.public_channel.id
    made: list[str] = []
    took: list[float] = []
    try:
        await leader.start()
        await standby.start(STANDING_BY)
        for _ in range(ROUNDS):
            posts, seconds = await kill_and_take_over(workspace, leader, standby, store_url)
            made += posts
            took.append(seconds)

            await leader.start(STANDING_BY)  # the killed one comes back and waits its turn
            leader, standby = standby, leader

        # The leader cut off from the database (its lock's connection ends): it stops, saying so, with the exit code a
        # supervisor retries, and the other one leads.
        applying = standby.expect(lambda text: CAUGHT_UP in text)
        with psycopg.connect(store_url, autocommit=True) as db:
            cut = db.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                             "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchall()
        assert len(cut) == 1, "one lead, held by one connection"
        assert await leader.exited(TAKE_OVER_TIMEOUT_S) == 1
        assert any("lost the connection to the store" in line.text for line in leader.lines)
        await asyncio.wait_for(applying, TAKE_OVER_TIMEOUT_S)
        last = await post(workspace, "dave", public, f"the {(after := word())} migration is done")
        await in_store(store_url, last["id"])
        assert "dave" in card_text(await slash(workspace, "bob", public, after))
        made.append(last["id"])
    finally:
        for bot in bots:
            await bot.stop()
    index = f"{prefix}-posts"
    assert {p: count(opensearch, index, "post_id", p) for p in made} == {p: 1 for p in made}, "every post in the index once"
    with psycopg.connect(store_url) as db:
        stored = {str(r[0]) for r in db.execute("SELECT post_id FROM posts WHERE post_id = ANY(%s)", (made,)).fetchall()}
    assert stored == set(made)
    errors = [line.text for bot in bots for line, _ in bot.error_lines()]
    assert errors == [], "a kill costs no error: " + "\n".join(errors[:5])
    _note(None, "replicas: fail-over (leader killed -> events applied again), s: " + ", ".join(f"{t:.1f}" for t in took))

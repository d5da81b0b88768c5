"""Backfill through threads whose replies came long after their roots: Mattermost's history page also carries
the other posts of its posts' threads, which must neither skip history nor hold the cursor still."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from .bootstrap import Api, Workspace
from .botfixture import TIMEOUT_S, running_bot
from .compare import assert_index_matches_server
from .conftest import MakeChannel

START_MS = 1_690_000_000_000


async def test_backfill_reads_every_post_around_old_threads_with_late_replies(workspace: Workspace, make_channel: MakeChannel,
                                                                             tmp_path: Path) -> None:
    room = make_channel(["carol", "whoknows"])
    headers = {"Authorization": f"Bearer {workspace.admin.token}"}  # the system admin may set create_at
    try:
        async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4", headers=headers, timeout=60.0) as api:

            async def put(message: str, at: int, root_id: str = "") -> str:
                answer = await api.post("/posts", json={"channel_id": room.id, "message": message, "create_at": at, "root_id": root_id})
                assert answer.status_code == 201 and answer.json()["create_at"] == at, answer.text
                post_id: str = answer.json()["id"]
                return post_id

            # Two old roots, 250 posts after them (more than one page), then a late reply to each root: the newest
            # page's answer carries both roots, and the oldest page's carries a reply newer than the page.
            roots = [await put(f"zookeeper quorum question {n}", START_MS + n) for n in range(2)]
            limit = asyncio.Semaphore(32)

            async def flat(i: int) -> None:
                async with limit:
                    await put(f"flat {i} kafka partition rebalancing", START_MS + 10 + i)

            await asyncio.gather(*(flat(i) for i in range(250)))
            for n, root in enumerate(roots):
                await put(f"late answer {n}: restart the follower", START_MS + 10_000 + n, root)
        async with asyncio.timeout(4 * TIMEOUT_S), running_bot(workspace, tmp_path):
            await assert_index_matches_server(workspace, tmp_path)
    finally:  # archived: the other tests' bots no longer read it
        with Api(workspace.url, workspace.admin.token) as admin:
            admin.call("DELETE", f"/channels/{room.id}")

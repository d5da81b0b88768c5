"""The check every fault test ends with: the posts indexed are exactly the posts the bot can read on the server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from whoknows.service.repair import indexed_ids
from whoknows.service.runtime import Runtime
from whoknows.storage.store import INDEX_DIR, STATE_FILE

from .bootstrap import Workspace
from .botfixture import TIMEOUT_S


async def server_posts(workspace: Workspace) -> dict[str, str]:
    """post id -> message of every person's post the bot can read in the team's public and private channels."""
    out: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {workspace.bot.token}"}
    async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4", headers=headers, timeout=30.0) as api:
        mine = (await api.get(f"/users/me/teams/{workspace.team_id}/channels")).json()
        for channel in mine:
            if channel["type"] not in ("O", "P"):
                continue
            page = 0
            while True:
                answer = (await api.get(f"/channels/{channel['id']}/posts", params={"page": page, "per_page": 200})).json()
                for p in answer["posts"].values():
                    props = p.get("props") or {}
                    if p["type"] or p["user_id"] == workspace.bot.id or props.get("from_bot") == "true" or props.get("from_webhook") == "true":
                        continue
                    out[p["id"]] = p["message"]
                if len(answer["order"]) < 200:
                    break
                page += 1
    return out


def local_posts(data: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{data / STATE_FILE}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT post_id, message FROM posts"))


async def assert_index_matches_server(workspace: Workspace, data: Path, rt: Runtime | None = None) -> None:
    """The store and the index hold exactly the server's readable posts, as they read now. With a running
    bot, waits (bounded, after each applied batch) for it to get there first."""
    expected = await server_posts(workspace)

    def matches() -> bool:
        return local_posts(data) == expected and indexed_ids(data / INDEX_DIR) == set(expected)

    if rt is not None and not matches():
        try:
            await rt.wait_for(matches, TIMEOUT_S)
        except TimeoutError:
            pass
    local = local_posts(data)
    assert set(local) == set(expected), (f"missing {len(set(expected) - set(local))}", f"extra {len(set(local) - set(expected))}")
    assert {k for k in local if local[k] != expected[k]} == set(), "stale edits"
    assert indexed_ids(data / INDEX_DIR) == set(expected)

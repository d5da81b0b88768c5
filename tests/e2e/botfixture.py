"""Runs the whoknows bot in-process against the harness's Mattermost server, and helpers for its tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from whoknows.service.runtime import Runtime
from whoknows.app.settings import load_from, manifest_path

from .bootstrap import Api, Workspace

TIMEOUT_S = 20.0


def grant_command_rights(workspace: Workspace) -> None:
    """The bot manages its slash command: make it a team admin (what an admin does when installing it)."""
    with Api(workspace.url, workspace.admin.token) as admin:
        admin.call("PUT", f"/teams/{workspace.team_id}/members/{workspace.bot.id}/roles", {"roles": "team_user team_admin"})


def settings_env(workspace: Workspace, **overrides: str) -> dict[str, str]:
    env = {"WHOKNOWS_MATTERMOST_URL": workspace.url, "WHOKNOWS_BOT_TOKEN": workspace.bot.token, "WHOKNOWS_HTTP_PORT": "0"}
    env.update({k: v for k, v in overrides.items()})
    return env


@asynccontextmanager
async def running_bot(workspace: Workspace, data: Path, **env: str) -> AsyncIterator[Runtime]:
    grant_command_rights(workspace)
    runtime = Runtime(load_from(manifest_path(), settings_env(workspace, **env)), data)
    await runtime.start()
    try:
        await runtime.backfilled.wait()
        await runtime.drained()
        yield runtime
    finally:
        await runtime.stop()


async def post(workspace: Workspace, username: str, channel_id: str, message: str, root_id: str = "") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4", headers={"Authorization": f"Bearer {workspace.user(username).token}"}) as c:
        answer = await c.post("/posts", json={"channel_id": channel_id, "message": message, "root_id": root_id})
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result


async def call(workspace: Workspace, username: str, method: str, path: str, body: Any = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4", headers={"Authorization": f"Bearer {workspace.user(username).token}"}, timeout=30.0) as c:
        return await c.request(method, path, json=body)


async def slash(workspace: Workspace, username: str, channel_id: str, text: str) -> dict[str, Any]:
    """Runs /whoknows as that person through Mattermost; returns the command's response."""
    answer = await call(workspace, username, "POST", "/commands/execute", {"channel_id": channel_id, "command": f"/whoknows {text}"})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def card_text(response: dict[str, Any]) -> str:
    """Everything a person reads in a reply: text and every attachment's text."""
    parts = [str(response.get("text", ""))]
    parts += [str(a.get("text", "")) for a in response.get("attachments") or []]
    return "\n".join(parts)


async def until(runtime: Runtime, condition: Callable[[], bool]) -> None:
    await runtime.wait_for(condition, TIMEOUT_S)


async def secret_edited_deleted(workspace: Workspace, runtime: Runtime, topic: str, other: str, gone: str
                                ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The storage scenarios' three posts, once the bot has them all and they are searchable: alice's on `topic` in
    the private channel, dave's on `other` (to be edited) and carol's on `gone` (to be deleted), both public."""
    public = workspace.public_channel.id
    secret = await post(workspace, "alice", workspace.private_channel.id, f"the {topic} budget is frozen until March")
    edited = await post(workspace, "dave", public, f"I run the {other} exporter")
    deleted = await post(workspace, "carol", public, f"notes on {gone} alerts")
    await until(runtime, lambda: all(runtime.store.conversation.has_post(p["id"]) for p in (secret, edited, deleted)))
    await runtime.drained()
    return secret, edited, deleted


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1)[:3000]


@asynccontextmanager
async def listen(workspace: Workspace, username: str) -> AsyncIterator[Callable[[Callable[[dict[str, Any]], bool]], Any]]:
    """A person's websocket; yields `wait(predicate)` returning the first event that matches (bounded)."""
    import asyncio

    import aiohttp

    url = workspace.url.replace("http://", "ws://", 1) + "/api/v4/websocket"
    headers = {"Authorization": f"Bearer {workspace.user(username).token}"}
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        hello = json.loads(await asyncio.wait_for(ws.receive_str(), TIMEOUT_S))
        assert hello["event"] == "hello"

        async def next_matching(predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
            async def scan() -> dict[str, Any]:
                async for frame in ws:
                    event: dict[str, Any] = json.loads(frame.data)
                    if predicate(event):
                        return event
                raise AssertionError("websocket closed")

            return await asyncio.wait_for(scan(), TIMEOUT_S)

        yield next_matching


def posted(event: dict[str, Any]) -> dict[str, Any]:
    """The post inside a posted or ephemeral_message event (empty for other events)."""
    if event.get("event") not in ("posted", "ephemeral_message"):
        return {}
    result: dict[str, Any] = json.loads(event["data"]["post"])
    return result

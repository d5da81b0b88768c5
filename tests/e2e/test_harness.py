"""Proves the end-to-end harness: a real server, a known workspace, a live bot."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiohttp
import httpx

from .bootstrap import Api, Workspace
from .conftest import MakeChannel
from .mattermost import MattermostServer

WEBSOCKET_TIMEOUT_S = 20.0


def _post(workspace: Workspace, username: str, channel_id: str, message: str) -> dict[str, Any]:
    with workspace.user(username).api(workspace.url) as api:
        post: dict[str, Any] = api.post("/posts", {"channel_id": channel_id, "message": message})
    return post


def test_bot_reads_a_public_post_over_rest(workspace: Workspace) -> None:
    message = f"who knows about kubernetes ingress? {uuid.uuid4().hex}"
    post = _post(workspace, "alice", workspace.public_channel.id, message)

    with workspace.bot.api(workspace.url) as bot:
        assert bot.get("/users/me")["is_bot"] is True
        read = bot.get(f"/posts/{post['id']}")
        recent = bot.get(f"/channels/{workspace.public_channel.id}/posts?per_page=20")

    assert read["message"] == message
    assert read["user_id"] == workspace.users["alice"].id
    assert post["id"] in recent["order"]


async def _next_posted(ws: aiohttp.ClientWebSocketResponse, message: str) -> dict[str, Any]:
    async for frame in ws:
        if frame.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"websocket closed or failed: {frame!r}")
        event: dict[str, Any] = json.loads(frame.data)
        if event.get("event") == "posted":
            post: dict[str, Any] = json.loads(event["data"]["post"])
            if post["message"] == message:
                return event
    raise AssertionError("websocket closed before the post arrived")


async def test_bot_websocket_receives_posted_event(workspace: Workspace) -> None:
    url = workspace.url.replace("http://", "ws://", 1) + "/api/v4/websocket"
    headers = {"Authorization": f"Bearer {workspace.bot.token}"}
    message = f"flaky ios build again {uuid.uuid4().hex}"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, headers=headers, heartbeat=30.0) as ws:
            hello = json.loads(await asyncio.wait_for(ws.receive_str(), WEBSOCKET_TIMEOUT_S))
            assert hello["event"] == "hello"
            async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4") as client:
                sent = await client.post(
                    "/posts",
                    json={"channel_id": workspace.public_channel.id, "message": message},
                    headers={"Authorization": f"Bearer {workspace.users['bob'].token}"},
                )
                assert sent.status_code == 201, sent.text
            event = await asyncio.wait_for(_next_posted(ws, message), WEBSOCKET_TIMEOUT_S)

    post = json.loads(event["data"]["post"])
    assert post["channel_id"] == workspace.public_channel.id
    assert post["user_id"] == workspace.users["bob"].id
    assert event["broadcast"]["channel_id"] == workspace.public_channel.id


def test_private_channel_is_invisible_to_non_members(workspace: Workspace) -> None:
    private = workspace.private_channel
    assert private.members == {"alice", "bob", "whoknows"}
    post = _post(workspace, "alice", private.id, "the reorg happens in March")

    with workspace.bot.api(workspace.url) as bot:
        assert bot.get(f"/posts/{post['id']}")["message"] == "the reorg happens in March"

    with workspace.user("carol").api(workspace.url) as carol:
        for path in (
            f"/channels/{private.id}",
            f"/channels/{private.id}/posts",
            f"/posts/{post['id']}",
        ):
            status = carol.request("GET", path).status_code
            assert status in (403, 404), f"carol read {path}: HTTP {status}"
        carol_channels = carol.get(f"/users/me/teams/{workspace.team_id}/channels")
        assert private.id not in {c["id"] for c in carol_channels}


def test_make_channel_sets_exact_members(workspace: Workspace, make_channel: MakeChannel) -> None:
    channel = make_channel(["carol", "whoknows"], private=True)
    with Api(workspace.url, workspace.admin.token) as admin:
        members = admin.get(f"/channels/{channel.id}/members?per_page=200")
        assert admin.get(f"/channels/{channel.id}")["type"] == "P"
    member_ids = {m["user_id"] for m in members}
    assert member_ids == {workspace.users["carol"].id, workspace.bot.id}

    with workspace.user("dave").api(workspace.url) as dave:
        assert dave.request("GET", f"/channels/{channel.id}/posts").status_code in (403, 404)


def test_server_never_calls_home(workspace: Workspace) -> None:
    with Api(workspace.url, workspace.admin.token) as admin:
        config = admin.get("/config")

    assert config["LogSettings"]["EnableDiagnostics"] is False
    assert config["LogSettings"]["EnableSentry"] is False
    assert config["ServiceSettings"]["EnableSecurityFixAlert"] is False
    assert config["ServiceSettings"]["EnableLinkPreviews"] is False
    assert config["AnnouncementSettings"]["AdminNoticesEnabled"] is False
    assert config["AnnouncementSettings"]["UserNoticesEnabled"] is False
    assert config["PluginSettings"]["Enable"] is False
    assert config["PluginSettings"]["EnableMarketplace"] is False
    assert config["PluginSettings"]["EnableRemoteMarketplace"] is False
    assert config["PluginSettings"]["AutomaticPrepackagedPlugins"] is False
    assert config["EmailSettings"]["SendPushNotifications"] is False
    assert config["EmailSettings"]["SendEmailNotifications"] is False
    assert config["RateLimitSettings"]["Enable"] is False
    assert config["ServiceSettings"]["SiteURL"] == workspace.url
    assert config["ServiceSettings"]["AllowedUntrustedInternalConnections"] == "127.0.0.1 localhost"


def test_restart_keeps_data_and_tokens(mattermost: MattermostServer, workspace: Workspace) -> None:
    post = _post(workspace, "dave", workspace.public_channel.id, "before the crash")
    mattermost.restart(graceful=False)
    assert mattermost.running
    with workspace.bot.api(workspace.url) as bot:
        assert bot.get(f"/posts/{post['id']}")["message"] == "before the crash"
        assert bot.get("/users/me")["id"] == workspace.bot.id

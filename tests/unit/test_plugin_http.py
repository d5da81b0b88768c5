"""The service's /plugin/v1 routes in-process: the secret before anything, the caller only from the header, bad input
as a 4xx with a reason; and plugin-mode settings (from the environment the plugin hands the child, and the System
Console's check naming the setting)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from whoknows.adapters import plugin_http
from whoknows.adapters.mattermost_events import Decoded
from whoknows.adapters.plugin_link import Numbered, PluginCommand, PluginConfig
from whoknows.app.settings import load, manifest_path
from whoknows.errors import StartupError
from whoknows.service.plugin import console_sources

SECRET = "s" * 43
MANIFEST: dict[str, Any] = json.loads(manifest_path().read_text())


class Calls:
    def __init__(self) -> None:
        self.events: list[Decoded | Numbered] = []
        self.commands: list[PluginCommand] = []
        self.actions: list[dict[str, Any]] = []
        self.configs: list[PluginConfig] = []

    def endpoints(self) -> plugin_http.PluginEndpoints:
        async def config(cfg: PluginConfig) -> None:
            self.configs.append(cfg)

        def check(settings: Mapping[str, Any]) -> str | None:
            return "CardPeople must be at least 1" if settings.get("CardPeople") == 0 else None

        async def events(decoded: list[Decoded | Numbered]) -> None:
            self.events.extend(decoded)

        async def command(cmd: PluginCommand) -> dict[str, Any]:
            self.commands.append(cmd)
            return {"response_type": "ephemeral", "text": "ok"}

        async def action(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
            self.actions.append(body)
            return {"ephemeral_text": "done"}, 200

        return plugin_http.PluginEndpoints(SECRET, lambda: "bot", lambda: {"subcommands": []}, config, check, events, command, action)


@pytest.fixture
async def client() -> AsyncIterator[tuple[TestClient[Any, Any], Calls]]:
    calls = Calls()
    server = TestServer(plugin_http.app(calls.endpoints()))
    async with TestClient(server) as c:
        yield c, calls


async def test_every_route_needs_the_secret(client: tuple[TestClient[Any, Any], Calls]) -> None:
    c, calls = client
    for method, path in (("GET", "/plugin/v1/autocomplete"), ("POST", "/plugin/v1/events"), ("POST", "/plugin/v1/command"),
                         ("POST", "/plugin/v1/config"), ("POST", "/plugin/v1/config/check"), ("POST", "/plugin/v1/actions/action")):
        for headers in ({}, {"X-Whoknows-Secret": "wrong"}, {"Authorization": f"Bearer {SECRET}"}):
            answer = await c.request(method, path, json={}, headers=headers)
            assert answer.status == 401, (method, path, headers)
    assert not (calls.events or calls.commands or calls.actions or calls.configs)


async def test_the_caller_comes_only_from_the_header(client: tuple[TestClient[Any, Any], Calls]) -> None:
    c, calls = client
    ok = {"X-Whoknows-Secret": SECRET, "X-Whoknows-User-Id": "carol"}
    clicked = await c.post("/plugin/v1/actions/action", json={"user_id": "dave", "context": {}}, headers=ok)
    assert clicked.status == 200 and calls.actions[0]["user_id"] == "carol"
    no_caller = await c.post("/plugin/v1/actions/action", json={"user_id": "dave"}, headers={"X-Whoknows-Secret": SECRET})
    assert no_caller.status == 401
    other = await c.post("/plugin/v1/command", json={"user_id": "dave", "command": "/whoknows me"}, headers=ok)
    assert other.status == 400 and "differ" in (await other.json())["error"]
    mine = await c.post("/plugin/v1/command", json={"user_id": "carol", "command": "/whoknows me", "channel_id": "c"}, headers=ok)
    assert mine.status == 200 and calls.commands == [PluginCommand("carol", "c", "", "", "/whoknows me", "")]


async def test_bad_input_is_a_4xx_with_a_reason(client: tuple[TestClient[Any, Any], Calls]) -> None:
    c, calls = client
    h = {"X-Whoknows-Secret": SECRET}
    assert (await c.post("/plugin/v1/events", data=b"{not json", headers=h)).status == 400
    unknown = await c.post("/plugin/v1/events", json={"kind": "nope"}, headers=h)
    assert unknown.status == 400 and "unknown kind" in (await unknown.json())["error"]
    dm = await c.post("/plugin/v1/events", json={"kind": "posted", "channel_type": "D", "post": {"id": "p", "message": "hi"}}, headers=h)
    assert dm.status == 200 and calls.events == []
    refused = await c.post("/plugin/v1/config/check", json={"settings": {"CardPeople": 0}}, headers=h)
    assert refused.status == 422 and "CardPeople" in (await refused.json())["error"]
    assert (await c.post("/plugin/v1/config/check", json={"settings": {"CardPeople": 3}}, headers=h)).status == 200
    assert (await c.post("/plugin/v1/config", json={"settings": {}}, headers=h)).status == 400


@pytest.mark.parametrize("mode", ["following", "standing_by"])
async def test_a_process_that_does_not_lead_refuses_events_and_answers_only_when_it_follows(mode: str) -> None:
    calls = Calls()
    yes: Callable[[], bool] = lambda: True
    endpoints = (dataclasses.replace(calls.endpoints(), following=yes) if mode == "following"
                 else dataclasses.replace(calls.endpoints(), standing_by=yes))
    async with TestClient(TestServer(plugin_http.app(endpoints))) as c:
        h = {"X-Whoknows-Secret": SECRET, "X-Whoknows-User-Id": "u1"}
        event = {"kind": "posted", "channel_type": "O", "post": {"id": "p", "channel_id": "c", "user_id": "u", "message": "hi"}}
        assert (await c.post("/plugin/v1/events", json=event, headers=h)).status == 503, "events go to the leader"
        command = await c.post("/plugin/v1/command", json={"command": "/whoknows k8s", "user_id": "u1", "channel_id": "c"}, headers=h)
        config = await c.post("/plugin/v1/config", json={"settings": {}, "plugin_url": "http://x", "bot_user_id": "b"}, headers=h)
    assert calls.events == []
    if mode == "following":
        assert command.status == 200 and len(calls.commands) == 1, "a follower answers commands from the shared store"
        assert config.status == 200 and len(calls.configs) == 1, "and takes the configuration"
    else:
        assert command.status == 503 and calls.commands == []


def test_plugin_mode_settings_from_the_childs_environment() -> None:
    env = {"WHOKNOWS_MODE": "plugin", "WHOKNOWS_PLUGIN_URL": "http://127.0.0.1:8065/plugins/whoknows/", "WHOKNOWS_PLUGIN_SECRET": SECRET}
    s = load(MANIFEST, {**env, "WHOKNOWS_JOIN_PUBLIC_CHANNELS": "true"})
    assert s.mode == "plugin" and not s.join_public_channels and s.mattermost_url == "http://127.0.0.1:8065/plugins/whoknows/service" and s.bot_token == SECRET
    assert SECRET not in repr(s), "a logged Settings never shows the secret"
    with pytest.raises(StartupError, match="WHOKNOWS_PLUGIN_SECRET"):
        load(MANIFEST, {"WHOKNOWS_MODE": "plugin", "WHOKNOWS_PLUGIN_URL": "http://x"})
    with pytest.raises(StartupError, match="People per card"):
        load(MANIFEST, {**env, "WHOKNOWS_CARD_PEOPLE": "0"}, console_sources(MANIFEST))

"""Every HTTP endpoint that reads a body, in both modes, answers a malformed one with a 400 and its reason (never a 500
with an error id), and hands nothing to the use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from whoknows.adapters import http, plugin_http
from whoknows.adapters.mattermost_events import Decoded

from whoknows.adapters.plugin_link import Numbered, PluginCommand, PluginConfig

SECRET = "s" * 43
MALFORMED: list[tuple[str, bytes]] = [
    ("a list", b'[{"context": {}}]'), ("a string", b'"ask"'), ("a number", b"42"), ("null", b"null"), ("empty", b""),
    ("not JSON", b"{context: }"), ("not UTF-8", b'{"a": "\xff\xfe"}'), ("too deep", b"[" * 100_000 + b"]" * 100_000),
]


class Handed:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    async def command(self, form: Any) -> dict[str, Any]:
        self.calls.append(form)
        return {"text": "ok"}

    async def action(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        self.calls.append(body)
        return {"ephemeral_text": "done"}, 200

    async def config(self, cfg: PluginConfig) -> None:
        self.calls.append(cfg)

    async def events(self, decoded: list[Decoded | Numbered]) -> None:
        self.calls.append(decoded)


@pytest.fixture
async def bot() -> AsyncIterator[tuple[str, Handed]]:
    handed = Handed()
    server = await http.serve("127.0.0.1", 0, http.Endpoints(lambda team: "tok", handed.command, handed.action, "whoknows"))
    try:
        yield f"http://127.0.0.1:{server.port}", handed
    finally:
        await server.close()


@pytest.fixture
async def plugin() -> AsyncIterator[tuple[str, Handed]]:
    handed = Handed()
    endpoints = plugin_http.PluginEndpoints(SECRET, lambda: "bot", lambda: {}, handed.config, lambda s: None, handed.events,
                                            handed.command, handed.action)
    server = await plugin_http.serve("127.0.0.1", 0, endpoints)
    try:
        yield f"http://127.0.0.1:{server.port}", handed
    finally:
        await server.close()


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as answer:
        return answer.status, await answer.json(content_type=None)


@pytest.mark.parametrize(("what", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_bot_button_endpoint_refuses_a_malformed_body_with_its_reason(bot: tuple[str, Handed], what: str, body: bytes) -> None:
    url, handed = bot
    status, answer = await _post(f"{url}/action", body, {"Content-Type": "application/json"})
    assert status == 400 and "JSON" in answer["error"] and "error id" not in str(answer)
    assert not handed.calls


async def test_bot_command_endpoint_refuses_a_body_that_is_not_a_form(bot: tuple[str, Handed]) -> None:
    url, handed = bot
    status, answer = await _post(f"{url}/command", b"--x\r\nnot a part", {"Content-Type": "multipart/form-data; boundary=x"})
    assert status == 400 and "not a form" in answer["error"]
    status, _ = await _post(f"{url}/command", b'["token"]', {"Content-Type": "application/json"})
    assert status == 401  # no form fields: no token
    assert not handed.calls


PLUGIN_ROUTES = ("/plugin/v1/actions/ask", "/plugin/v1/config", "/plugin/v1/config/check", "/plugin/v1/events", "/plugin/v1/command")


@pytest.mark.parametrize("route", PLUGIN_ROUTES)
@pytest.mark.parametrize(("what", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_plugin_routes_refuse_a_malformed_body_with_its_reason(plugin: tuple[str, Handed], route: str, what: str,
                                                                      body: bytes) -> None:
    url, handed = plugin
    headers = {"X-Whoknows-Secret": SECRET, "X-Whoknows-User-Id": "carol", "Content-Type": "application/json"}
    status, answer = await _post(url + route, body, headers)
    assert status == 400 and "JSON" in answer["error"], answer
    assert not handed.calls

"""Until start-up has finished, the endpoints answer "whoknows is starting" and hand nothing to the use cases (bot mode:
a 200 Mattermost shows; plugin mode: a 503 the Go plugin turns into the same line). Once started they answer as usual;
the plugin's handshake routes answer throughout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from whoknows import messages
from whoknows.adapters import http, plugin_http
from whoknows.adapters.mattermost_events import Decoded
from whoknows.adapters.plugin_link import SECRET_HEADER, USER_HEADER, Numbered, PluginConfig

SECRET = "s" * 43


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


async def test_bot_endpoints_say_starting_until_started() -> None:
    handed, started = Handed(), [False]
    server = await http.serve("127.0.0.1", 0, http.Endpoints(lambda team: "tok", handed.command, handed.action, "whoknows",
                                                             starting=lambda: not started[0]))
    url = f"http://127.0.0.1:{server.port}"
    form = {"token": "tok", "team_id": "t", "user_id": "u", "text": "kafka"}
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/command", data=form) as answer:
                assert answer.status == 200 and answer.headers[http.SERVICE_HEADER] == "whoknows"
                assert await answer.json() == {"response_type": "ephemeral", "text": messages.starting()}
            async with session.post(f"{url}/action", json={"context": {}}) as answer:
                assert answer.status == 200 and await answer.json() == {"ephemeral_text": messages.starting()}
            assert handed.calls == []
            started[0] = True
            async with session.post(f"{url}/command", data=form) as answer:
                assert await answer.json() == {"text": "ok"}
        assert await http.held_by_whoknows(f"{url}/command")
    finally:
        await server.close()


async def test_plugin_routes_say_starting_until_started() -> None:
    handed, started = Handed(), [False]
    endpoints = plugin_http.PluginEndpoints(SECRET, lambda: "bot", lambda: {"table": 1}, handed.config, lambda s: None, handed.events,
                                            handed.command, handed.action, starting=lambda: not started[0])
    server = await plugin_http.serve("127.0.0.1", 0, endpoints)
    url = f"http://127.0.0.1:{server.port}/plugin/v1"
    headers = {SECRET_HEADER: SECRET, USER_HEADER: "alice-id"}
    command = {"user_id": "alice-id", "channel_id": "c", "command": "/whoknows kafka"}
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            for route, body in [("/command", command), ("/actions/more", {"context": {}}), ("/events", [])]:
                async with session.post(url + route, json=body) as answer:
                    said = await answer.json()
                    assert answer.status == 503 and said["text"] == said["ephemeral_text"] == messages.starting(), (route, said)
            async with session.get(url + "/autocomplete") as answer:  # the plugin's handshake is not held up
                assert answer.status == 200 and await answer.json() == {"table": 1}
            assert handed.calls == []
            started[0] = True
            async with session.post(url + "/command", json=command) as answer:
                assert answer.status == 200 and await answer.json() == {"text": "ok"}
    finally:
        await server.close()


async def test_nothing_listening_is_not_another_whoknows() -> None:
    assert not await http.held_by_whoknows("http://127.0.0.1:9/command")


def test_the_plugin_says_the_same_starting_line() -> None:
    go = (Path(__file__).resolve().parents[2] / "server" / "plugin" / "command.go").read_text(encoding="utf-8")
    assert f'msgStarting      = "{messages.starting()}"' in go

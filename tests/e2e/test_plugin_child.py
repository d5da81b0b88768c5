"""The plugin starting the service itself (ServiceCommand), against the real server and the real bundle.

The child is plugin_service.py run as a script: it records its environment and every request it gets. The tests show
the plugin hands it the generated secret and the addresses (LINK.md, "The child's environment"), sends it events with
that secret, puts its output in the server log, restarts it when it dies and stops it on deactivation.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .plugin_bundle import PLUGIN_ID, Installed, configure, disable, enable, installed_plugin, plugin_bundle

__all__ = ["installed_plugin", "plugin_bundle"]  # fixtures, imported for pytest

CHILD = Path(__file__).resolve().parent / "plugin_service.py"
WAIT_S = 30.0


class Record:
    """The child's record file: one JSON object a line, appended by every child the plugin started."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def wait(self, match: Callable[[dict[str, Any]], bool], what: str, timeout: float = WAIT_S) -> dict[str, Any]:
        """Another process writes the file, so this polls it (there is nothing to wait on across processes)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.entries() if match(e)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} in {timeout} s; the child wrote {self.entries()[-5:]}")
            time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def child(installed_plugin: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Record]:
    record = Record(tmp_path_factory.mktemp("plugin-child") / "record.jsonl")
    answer = configure(installed_plugin.admin, ServiceCommand=f"{sys.executable} {CHILD} {record.path}")
    assert answer.status_code == 200, answer.text
    record.wait(lambda e: e["type"] == "request" and e["path"] == "/plugin/v1/config", "handshake")
    yield record


def started(record: Record) -> dict[str, Any]:
    return record.wait(lambda e: e["type"] == "env", "start")


def test_the_child_gets_the_secret_and_the_addresses(installed_plugin: Installed, child: Record) -> None:
    env = started(child)["env"]
    secret = env["WHOKNOWS_PLUGIN_SECRET"]
    assert len(secret) >= 32, "the plugin generates a long secret"
    route = installed_plugin.route
    assert env["WHOKNOWS_MODE"] == "plugin" and env["WHOKNOWS_PLUGIN_URL"] == route
    assert env["WHOKNOWS_MATTERMOST_URL"] == f"{route}/service" and env["WHOKNOWS_BOT_TOKEN"] == secret
    assert env["WHOKNOWS_BOT_USER_ID"] == installed_plugin.workspace.bot.id
    assert env["WHOKNOWS_HTTP_HOST"] == "127.0.0.1" and int(env["WHOKNOWS_HTTP_PORT"]) > 0
    assert env["WHOKNOWS_CARD_PEOPLE"] == "3" and env["WHOKNOWS_JOIN_PUBLIC_CHANNELS"] == "false"
    assert (Path(env["WHOKNOWS_ASSETS"]) / "templates" / "card.md.j2").is_file()
    assert json.loads(Path(env["WHOKNOWS_MANIFEST"]).read_text())["id"] == PLUGIN_ID
    # The secret is what the plugin sends and what its service routes accept.
    handshake = child.wait(lambda e: e["type"] == "request" and e["path"] == "/plugin/v1/config", "handshake")
    assert handshake["headers"]["x-whoknows-secret"] == secret
    with httpx.Client(timeout=10) as c:
        me = c.get(f"{env['WHOKNOWS_MATTERMOST_URL']}/api/v4/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["username"] == "whoknows"


def test_events_reach_the_child(installed_plugin: Installed, child: Record) -> None:
    ws = installed_plugin.workspace
    with ws.users["carol"].api(ws.url) as api:
        post = api.post("/posts", {"channel_id": ws.public_channel.id, "message": "anyone know terraform?"})
    got = child.wait(lambda e: e["type"] == "request" and isinstance(e["body"], dict)
                     and (e["body"].get("post") or {}).get("id") == post["id"], "the post's event")
    assert got["body"]["kind"] == "posted" and got["headers"]["x-whoknows-secret"] == started(child)["env"]["WHOKNOWS_PLUGIN_SECRET"]


def test_the_childs_output_is_in_the_server_log(installed_plugin: Installed, child: Record) -> None:
    pid = started(child)["pid"]
    deadline = time.monotonic() + WAIT_S
    while True:
        log = installed_plugin.server.log_path.read_text(encoding="utf-8", errors="replace")
        lines = [line for line in log.splitlines() if f"plugin-child {pid}" in line]
        if len(lines) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert any(line.startswith("info") and "listening on" in line for line in lines), lines
    assert any(line.startswith("warn") and "says this on stderr" in line for line in lines), lines


def test_a_dead_child_is_restarted_and_keeps_the_secret(installed_plugin: Installed, child: Record) -> None:
    first = started(child)
    os.kill(first["pid"], signal.SIGKILL)
    second = child.wait(lambda e: e["type"] == "env" and e["pid"] != first["pid"], "a restarted child")
    assert second["env"]["WHOKNOWS_PLUGIN_SECRET"] == first["env"]["WHOKNOWS_PLUGIN_SECRET"]
    child.wait(lambda e: e["type"] == "request" and e["pid"] == second["pid"] and e["path"] == "/plugin/v1/config",
               "the restarted child's handshake")


def test_deactivation_stops_the_child_and_activation_starts_it_again(installed_plugin: Installed, child: Record) -> None:
    before = started(child)
    disable(installed_plugin.admin)
    deadline = time.monotonic() + WAIT_S
    while alive(before["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(before["pid"]), "the child outlived the plugin"
    enable(installed_plugin.admin)
    again = child.wait(lambda e: e["type"] == "env" and e["pid"] != before["pid"], "a child after enable")
    assert again["env"]["WHOKNOWS_PLUGIN_SECRET"] == before["env"]["WHOKNOWS_PLUGIN_SECRET"], "the secret is kept (KV)"

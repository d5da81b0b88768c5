"""The plugin starting the real whoknows service itself (ServiceCommand = the venv's `whoknows serve-plugin`), against
the real server and the real bundle: it answers /whoknows, indexes what the hooks send, and loses nothing when it is
killed (the plugin restarts it and it catches up from the server's history) or when the server restarts.

The service is another process, so these tests observe it the way a person does, through /whoknows answers, polled
with a deadline (there is nothing to wait on across processes).
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .bootstrap import Workspace
from .plugin_bundle import Installed, configure, installed_plugin, plugin_bundle

__all__ = ["installed_plugin", "plugin_bundle"]  # fixtures, imported for pytest

WHOKNOWS = Path(sys.executable).parent / "whoknows"
WAIT_S = 60.0
STARTING = "starting"


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def data(installed_plugin: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("plugin-service") / "data"
    answer = configure(installed_plugin.admin, ServiceURL="", ServiceSecret="", ServiceCommand=f"{WHOKNOWS} --data {folder} serve-plugin")
    assert answer.status_code == 200, answer.text
    yield folder
    configure(installed_plugin.admin, ServiceCommand="")


def slash(installed: Installed, username: str, text: str) -> dict[str, Any]:
    ws = installed.workspace
    with ws.users[username].api(ws.url) as api:
        answer: dict[str, Any] = api.post("/commands/execute", {"channel_id": ws.public_channel.id, "command": f"/whoknows {text}"})
    return answer


def shown(answer: dict[str, Any]) -> str:
    return "\n".join([str(answer.get("text", "")), *(str(a.get("text", "")) for a in answer.get("attachments") or [])])


def eventually(what: str, check: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.2)


def answers(installed: Installed, username: str, topic: str, who: str) -> Callable[[], bool]:
    return lambda: f"({who})" in shown(slash(installed, username, topic))


def service_pid(data: Path) -> int | None:
    """The service the plugin started, found by its own data folder in its command line (ours, by id)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(data).encode() in cmdline and b"serve-plugin" in cmdline and not any(b"/bin/sh" == c for c in cmdline[:1]):
                return int(entry.name)
    return None


def post(ws: Workspace, username: str, message: str) -> dict[str, Any]:
    with ws.users[username].api(ws.url) as api:
        created: dict[str, Any] = api.post("/posts", {"channel_id": ws.public_channel.id, "message": message})
    return created


def test_the_real_service_answers_and_indexes(installed_plugin: Installed, data: Path) -> None:
    eventually("the service's help", lambda: "what you can ask" in shown(slash(installed_plugin, "carol", "help")).lower()
               or "optout" in shown(slash(installed_plugin, "carol", "help")))
    ws, topic = installed_plugin.workspace, word()
    post(ws, "alice", f"the {topic} exporter needs a restart after upgrades")
    eventually("alice in carol's card", answers(installed_plugin, "carol", topic, "alice"))
    assert STARTING not in shown(slash(installed_plugin, "carol", topic))

    def registered() -> bool:
        with ws.users["alice"].api(ws.url) as api:
            found = api.get(f"/teams/{ws.team_id}/commands/autocomplete_suggestions?channel_id={ws.public_channel.id}"
                            f"&user_input=/whoknows%20")
        return {"optout", "learn", "digest"} <= {s.get("Suggestion") or s.get("suggestion") for s in found}

    eventually("the service's sub-commands in autocomplete", registered, timeout=20.0)


def test_killed_and_restarted_the_service_loses_nothing(installed_plugin: Installed, data: Path) -> None:
    ws, before, during = installed_plugin.workspace, word(), word()
    post(ws, "alice", f"the {before} queue drains at midnight")
    eventually("the post before the kill", answers(installed_plugin, "carol", before, "alice"))
    first = service_pid(data)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    post(ws, "bob", f"the {during} cluster was resized while whoknows was down")  # no service heard its hook
    eventually("a restarted service", lambda: service_pid(data) not in (None, first))
    eventually("the post made while it was down", answers(installed_plugin, "carol", during, "bob"))
    assert f"(alice)" in shown(slash(installed_plugin, "carol", before)), "the index survived the kill"


def test_the_server_restarts_and_the_service_comes_back(installed_plugin: Installed, data: Path) -> None:
    ws, topic = installed_plugin.workspace, word()
    first = service_pid(data)
    installed_plugin.server.restart()
    eventually("the service after the server restart", lambda: service_pid(data) not in (None, first), timeout=90.0)
    post(ws, "dave", f"the {topic} certificate renews on Fridays")
    eventually("dave's post after the restart", answers(installed_plugin, "carol", topic, "dave"), timeout=90.0)

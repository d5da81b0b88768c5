"""The real whoknows service in plugin mode, in-process, behind the real plugin (linked by ServiceURL + ServiceSecret).

The module fixture `service_link` points the installed plugin at a fixed loopback port; each test starts the service on
that port with `plugin_runtime` (a fresh data folder), so the tests can wait on the runtime's own state (`drained`,
`wait_for`) instead of sleeping. The plugin reaches it for hooks, commands and buttons; it reaches the server only
through the plugin's `/service` routes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from whoknows.app.settings import load
from whoknows.service.runtime import Runtime

from .plugin_bundle import MANIFEST, SECRET, Installed, configure
from .mattermost import free_port

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Link:
    installed: Installed
    port: int

    def env(self, **overrides: str) -> dict[str, str]:
        return {"WHOKNOWS_MODE": "plugin", "WHOKNOWS_PLUGIN_URL": self.installed.route, "WHOKNOWS_PLUGIN_SECRET": SECRET,
                "WHOKNOWS_HTTP_HOST": "127.0.0.1", "WHOKNOWS_HTTP_PORT": str(self.port), "WHOKNOWS_JOIN_PUBLIC_CHANNELS": "false",
                **overrides}


@pytest.fixture(scope="module")
def service_link(installed_plugin: Installed) -> Iterator[Link]:
    link = Link(installed_plugin, free_port())
    answer = configure(installed_plugin.admin, ServiceSecret=SECRET, ServiceURL=f"http://127.0.0.1:{link.port}",
                       CardPeople=3, SuggestionMode="thread")
    assert answer.status_code == 200, answer.text
    yield link


@asynccontextmanager
async def plugin_runtime(link: Link, data: Path, **env: str) -> AsyncIterator[Runtime]:
    """The service started as an admin would start it for ServiceURL; yields once its history is read."""
    environment = link.env(**env)
    runtime = Runtime(load(MANIFEST, environment), data, manifest=MANIFEST, env=environment)
    runtime.token_check_s = 3600.0
    await runtime.start()
    try:
        await runtime.backfilled.wait()
        await runtime.drained()
        yield runtime
    finally:
        await runtime.stop()


async def until(runtime: Runtime, condition: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    """Waits for the condition after an applied batch (the writer wakes on each), or fails after `timeout`."""
    if not condition():
        await runtime.wait_for(condition, timeout)


def actions_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    props = card.get("props") or {}
    attachments = card.get("attachments") or props.get("attachments") or []
    return {a["id"]: a for att in attachments for a in att.get("actions") or []}


def dumps(obj: Any) -> str:
    return json.dumps(obj)[:2000]

"""The plugin bundle in the end-to-end tests: built by `make dist` (cached on its sources' hash), uploaded to the
real server over REST, enabled, configured, and disabled again when a test module is done with it.

Fixtures here are imported by the test_plugin_*.py modules:
- `plugin_bundle`: the path of dist/<id>-<version>.tar.gz for the current sources;
- `installed_plugin`: plugins switched on, the bundle uploaded and enabled (module scope; at the end the plugin is
  disabled and plugins are switched off again, so the bot-mode tests that follow find the server as they expect);
- `fake_service`: the stand-in service of plugin_service.py, which the plugin reaches through ServiceURL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .bootstrap import Api, Workspace
from .mattermost import MattermostServer
from .plugin_service import FakeService

ROOT = Path(__file__).resolve().parents[2]
MANIFEST: dict[str, Any] = json.loads((ROOT / "plugin.json").read_text(encoding="utf-8"))
PLUGIN_ID: str = MANIFEST["id"]
SECRET = "e2e-service-secret-0123456789abcdefghij"
# What goes into the bundle: a change to any of these builds it again.
_SOURCES = ("server/plugin", "server/whoknows", "webapp-assets", "plugin.json", "pyproject.toml", "requirements.lock", "Makefile")
_SKIP = {"dist", "__pycache__", ".mypy_cache"}
RUNNING = 2  # model.PluginStateRunning
ACTIVATE_TIMEOUT_S = 60.0


def sources_hash() -> str:
    digest = hashlib.sha256()
    for name in _SOURCES:
        top = ROOT / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file() and not _SKIP & set(p.parts))
        for path in files:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_bundle() -> Path:
    """The bundle for the current sources, from the cache or built by `make dist` (a cold build takes minutes)."""
    cache = Path(os.environ.get("WHOKNOWS_CACHE", Path.home() / ".cache" / "whoknows")) / "plugin-bundle"
    name = f"{PLUGIN_ID}-{MANIFEST['version']}.tar.gz"
    cached = cache / sources_hash() / name
    if cached.is_file():
        return cached
    done = subprocess.run(["make", "-s", "dist"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"make dist failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dist" / name, cached.with_suffix(".tmp"))
    cached.with_suffix(".tmp").rename(cached)
    return cached


def plugin_state(admin: Api) -> int | None:
    for status in admin.get("/plugins/statuses"):
        if status["plugin_id"] == PLUGIN_ID:
            return int(status["state"])
    return None


def wait_state(admin: Api, want: Callable[[int | None], bool], what: str, timeout: float = ACTIVATE_TIMEOUT_S) -> None:
    """Polls the server's plugin status (it has no way to wait on it)."""
    deadline = time.monotonic() + timeout
    state = plugin_state(admin)
    while not want(state):
        if time.monotonic() > deadline:
            raise AssertionError(f"the plugin did not become {what} in {timeout} s (state {state})")
        time.sleep(0.2)
        state = plugin_state(admin)


def upload(admin: Api, bundle: Path) -> dict[str, Any]:
    with httpx.Client(base_url=f"{admin.url}/api/v4", headers={"Authorization": f"Bearer {admin.token}"}, timeout=120) as c:
        with bundle.open("rb") as f:
            answer = c.post("/plugins", files={"plugin": (bundle.name, f, "application/gzip")}, data={"force": "true"})
    assert answer.status_code == 201, answer.text
    manifest: dict[str, Any] = answer.json()
    return manifest


def enable(admin: Api) -> None:
    admin.post(f"/plugins/{PLUGIN_ID}/enable")
    wait_state(admin, lambda s: s == RUNNING, "running")


def disable(admin: Api) -> None:
    admin.post(f"/plugins/{PLUGIN_ID}/disable")
    wait_state(admin, lambda s: s != RUNNING, "stopped")


def configure(admin: Api, **settings: Any) -> httpx.Response:
    """Sets plugin settings the way the System Console saves them: keys lowercased, and the plugin's whole map
    (a config patch replaces the map, so the settings not named keep their stored values)."""
    stored = plugin_settings(admin)
    stored.update({k.lower(): v for k, v in settings.items()})
    return admin.request("PUT", "/config/patch", {"PluginSettings": {"Plugins": {PLUGIN_ID: stored}}})


def plugin_settings(admin: Api) -> dict[str, Any]:
    stored: dict[str, Any] = admin.get("/config")["PluginSettings"]["Plugins"].get(PLUGIN_ID, {})
    return stored


@dataclass(frozen=True)
class Installed:
    """The enabled plugin and the people who talk to it."""

    server: MattermostServer
    workspace: Workspace
    admin: Api
    manifest: dict[str, Any]

    @property
    def route(self) -> str:
        return f"{self.server.url}/plugins/{PLUGIN_ID}"


@pytest.fixture(scope="session")
def plugin_bundle() -> Path:
    try:
        return build_bundle()
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def fake_service() -> Iterator[FakeService]:
    service = FakeService().start()
    yield service
    service.stop()


def switch_plugins(admin: Api, on: bool) -> None:
    """Plugins on or off for the whole server (the test server starts with them off)."""
    answer = admin.request("PUT", "/config/patch", {"PluginSettings": {"Enable": on}})
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + ACTIVATE_TIMEOUT_S
    while (admin.request("GET", "/plugins/statuses").status_code == 200) != on:
        if time.monotonic() > deadline:
            raise AssertionError(f"plugins did not switch {'on' if on else 'off'} in {ACTIVATE_TIMEOUT_S} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def installed_plugin(mattermost: MattermostServer, workspace: Workspace, plugin_bundle: Path) -> Iterator[Installed]:
    with Api(workspace.url, workspace.admin.token) as admin:
        switch_plugins(admin, True)
        manifest = upload(admin, plugin_bundle)
        # Start from no link at all, whatever an earlier module left.
        assert configure(admin, ServiceURL="", ServiceCommand="", ServiceSecret="").status_code == 200
        enable(admin)
        try:
            yield Installed(mattermost, workspace, admin, manifest)
        finally:
            configure(admin, ServiceURL="", ServiceCommand="", ServiceSecret="")
            disable(admin)
            switch_plugins(admin, False)

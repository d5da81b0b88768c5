"""Behind the real plugin (uploaded bundle), two whoknows service processes on one PostgreSQL store and one OpenSearch
index, the plugin's Service URL listing both: the plugin's hooks, commands and buttons reach the one that leads (the
other answers 503 while it stands by); the leader killed with SIGKILL is replaced, what was posted while nobody led
is read by the new leader, and /whoknows through the plugin answers from it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from whoknows.core.index import IndexServer

from .botfixture import card_text, post, slash
from .conftest import _note
from .mattermost import free_port
from .plugin_bundle import SECRET, Installed, configure, installed_plugin, plugin_bundle
from .plugin_mode import Link
from .soak_process import BotProcess
from .test_replicas import STANDING_BY, in_store, kill_and_take_over, shared_env, word

__all__ = ["installed_plugin", "plugin_bundle"]  # fixtures, imported for pytest


@pytest.fixture(scope="module")
def two_services(installed_plugin: Installed) -> Iterator[tuple[Installed, list[int]]]:
    ports = [free_port(), free_port()]
    answer = configure(installed_plugin.admin, ServiceSecret=SECRET, ServiceURL=", ".join(f"http://127.0.0.1:{p}" for p in ports))
    assert answer.status_code == 200, answer.text
    yield installed_plugin, ports


async def test_behind_the_plugin_a_killed_leader_is_replaced_and_answers_go_to_the_new_one(
        two_services: tuple[Installed, list[int]], opensearch: IndexServer, store_url: str, tmp_path: Path) -> None:
    installed, ports = two_services
    ws = installed.workspace
    shared = shared_env(store_url, opensearch, f"whoknows-e2e-{uuid.uuid4().hex[:8]}")
    bots = []
    for name, port in zip(("one", "two"), ports):
        (tmp_path / name).mkdir()
        bots.append(BotProcess(tmp_path / name, Link(installed, port).env(**shared)))
    leader, standby = bots
    public = ws.public_channel.id
    try:
        await leader.start()
        await standby.start(STANDING_BY)
        _, took = await kill_and_take_over(ws, leader, standby, store_url)  # commands and hooks through the plugin
        third = await post(ws, "dave", public, f"the {(after := word())} migration is done")
        await in_store(store_url, third["id"])  # the plugin's hooks reach the new leader
        assert "dave" in card_text(await slash(ws, "bob", public, after))
    finally:
        for bot in bots:
            await bot.stop()
    errors = [line.text for bot in bots for line, _ in bot.error_lines()]
    assert errors == [], "\n".join(errors[:5])
    _note(None, f"plugin with two service processes: fail-over (leader killed -> events applied again) {took:.1f} s")

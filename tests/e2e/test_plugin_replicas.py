"""Behind the real plugin (uploaded bundle), two whoknows service processes on one PostgreSQL store and one OpenSearch
index, the plugin's Service URL listing both: one leads (the hooks' events reach it), the other follows and answers
too (commands take turns over the two), a post deleted at the leader is gone from the follower's answers as well; the
leader killed with SIGKILL is replaced by the follower, what was posted while nobody led is read by the new leader,
and /whoknows through the plugin answers from it; a process killed while commands are in flight costs none of them."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from whoknows import messages
from whoknows.core.index import IndexServer
from whoknows.service.following import EVERY_S

from .botfixture import call, card_text, post, slash
from .conftest import _note
from .bootstrap import Workspace
from .mattermost import free_port
from .plugin_bundle import SECRET, Installed, configure, installed_plugin, plugin_bundle
from .plugin_mode import Link
from .soak_process import BotProcess
from .test_replicas import in_store, kill_and_take_over, shared_env, word

__all__ = ["installed_plugin", "plugin_bundle"]  # fixtures, imported for pytest

FOLLOWING = messages.following("").split(";")[0].removeprefix("another ")
COMMAND = "a command from the plugin"
COMMANDS = 6


@pytest.fixture(scope="module")
def two_services(installed_plugin: Installed) -> Iterator[tuple[Installed, list[int]]]:
    ports = [free_port(), free_port()]
    answer = configure(installed_plugin.admin, ServiceSecret=SECRET, ServiceURL=", ".join(f"http://127.0.0.1:{p}" for p in ports))
    assert answer.status_code == 200, answer.text
    yield installed_plugin, ports


async def answered(ws: Workspace, channel: str, topic: str, who: str, within_s: float = 10.0) -> None:
    """Waits (bounded) until /whoknows through the plugin names `who` for the topic."""
    deadline = time.monotonic() + within_s
    while True:
        answer = card_text(await slash(ws, "bob", channel, topic))
        if who in answer or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert who in answer, f"/whoknows {topic} never named {who}: {answer}"


def commands(bot: BotProcess) -> int:
    return sum(COMMAND in line.text for line in bot.lines)


async def test_behind_the_plugin_both_answer_and_a_killed_leader_is_replaced_by_the_follower(
        two_services: tuple[Installed, list[int]], opensearch: IndexServer, store_url: str, tmp_path: Path) -> None:
    installed, ports = two_services
    ws = installed.workspace
    shared = shared_env(store_url, opensearch, f"whoknows-e2e-{uuid.uuid4().hex[:8]}")
    bots = []
    for name, port in zip(("one", "two"), ports):
        (tmp_path / name).mkdir()
        bots.append(BotProcess(tmp_path / name, Link(installed, port).env(**shared, SOAK_DEBUG="whoknows.plugin")))
    leader, follower = bots
    public = ws.public_channel.id
    try:
        await leader.start()
        following = follower.expect(lambda text: FOLLOWING in text)
        await follower.start()
        await asyncio.wait_for(following, 5)

        topic = word()
        first = await post(ws, "alice", public, f"the {topic} exporter needs its certificates rotated")
        await in_store(store_url, first["id"])
        await asyncio.sleep(EVERY_S * 3)  # the follower reads the leader's changes every EVERY_S
        before = [commands(b) for b in bots]
        for _ in range(COMMANDS):
            assert "alice" in card_text(await slash(ws, "bob", public, topic)), "whichever process answers, it knows"
        served = [commands(b) - n for b, n in zip(bots, before)]
        assert sum(served) == COMMANDS and min(served) >= COMMANDS // 2 - 1, f"commands take turns: {served}"

        gone = await call(ws, "alice", "DELETE", f"/posts/{first['id']}")
        assert gone.status_code == 200, gone.text
        await in_store(store_url, first["id"], present=False)
        await asyncio.sleep(EVERY_S * 3)
        for _ in range(4):
            answer = card_text(await slash(ws, "bob", public, topic))
            assert "alice" not in answer, f"a deleted post is answerable nowhere: {answer}"

        _, took = await kill_and_take_over(ws, leader, follower, store_url)  # the follower leads now
        third = await post(ws, "dave", public, f"the {(after := word())} migration is done")
        await in_store(store_url, third["id"])  # the plugin's hooks reach the new leader
        await answered(ws, public, after, "dave")  # the store commits just before the index: searchable a moment later

        # The killed one comes back and follows; then it is killed while commands are in flight to both: the plugin
        # sends a request whose process died to the other one, so every command is answered.
        following = leader.expect(lambda text: FOLLOWING in text)
        await leader.start()
        await asyncio.wait_for(following, 5)
        asking = [asyncio.create_task(slash(ws, "bob", public, after)) for _ in range(8)]
        await asyncio.sleep(0.05)
        await leader.kill()
        answers = [card_text(a) for a in await asyncio.gather(*asking)]
        assert all("dave" in a for a in answers), f"a process killed while answering costs no command: {answers}"
    finally:
        for bot in bots:
            await bot.stop()
    errors = [line.text for bot in bots for line, _ in bot.error_lines()]
    assert errors == [], "\n".join(errors[:5])
    _note(None, f"plugin with two service processes: commands served {served}; fail-over (leader killed -> events applied "
                f"again) {took:.1f} s")

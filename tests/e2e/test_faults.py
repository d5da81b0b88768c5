"""Faults against the real server. Each ends with the same check: the posts indexed are exactly the posts
the bot can read on the server (`assert_index_matches_server`)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from whoknows.errors import StartupError
from whoknows.service.repair import indexed_ids
from whoknows.service.runtime import Runtime
from whoknows.app.settings import load_from, manifest_path
from whoknows.storage.store import INDEX_DIR, STATE_FILE

from .bootstrap import Api, Workspace
from .botfixture import TIMEOUT_S, card_text, grant_command_rights, post, running_bot, settings_env, slash, until
from .compare import assert_index_matches_server
from .conftest import MakeChannel
from .mattermost import MattermostServer

WHOKNOWS = Path(sys.executable).parent / "whoknows"


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


# -- 7. the index folder deleted or damaged while the bot is stopped -----------------------------


@pytest.mark.parametrize("damage", ["deleted", "garbage", "truncated"])
async def test_damaged_index_is_rebuilt_from_mattermost(workspace: Workspace, tmp_path: Path, damage: str) -> None:
    topic = word()
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        created = await post(workspace, "bob", channel, f"the {topic} cache needs a warm-up")
        await until(rt, lambda: rt.store.conversation.has_post(created["id"]))
    index = tmp_path / INDEX_DIR
    if damage == "deleted":
        for f in index.iterdir():
            f.unlink()
        index.rmdir()
    else:
        for f in index.iterdir():
            f.write_bytes(os.urandom(64) if damage == "garbage" else f.read_bytes()[: max(0, f.stat().st_size // 3)])
    gone = await post(workspace, "carol", channel, f"posted while the index was broken {topic}")
    async with running_bot(workspace, tmp_path) as rt:
        assert rt.store.conversation.has_post(created["id"]) and rt.store.conversation.has_post(gone["id"])
        assert "bob" in card_text(await slash(workspace, "dave", channel, topic))
        await assert_index_matches_server(workspace, tmp_path, rt)


async def test_rebuild_command_reads_everything_again(workspace: Workspace, tmp_path: Path) -> None:
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path):
        assert "no longer appear" in (await slash(workspace, "dave", channel, "optout"))["text"]
    dave = workspace.users["dave"].id
    env = {**os.environ, **settings_env(workspace)}
    done = await asyncio.create_subprocess_exec(str(WHOKNOWS), "--data", str(tmp_path), "rebuild", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(done.communicate(), 60)
    assert done.returncode == 0, err.decode()
    assert "Rebuilt the index" in err.decode() and "Traceback" not in err.decode()
    await assert_index_matches_server(workspace, tmp_path)
    with sqlite3.connect(tmp_path / STATE_FILE) as db:  # people's choices survive a rebuild
        assert db.execute("SELECT opted_out FROM optouts WHERE user_id=?", (dave,)).fetchone() == (1,)
    async with running_bot(workspace, tmp_path):
        await slash(workspace, "dave", channel, "optin")


def test_crash_between_store_and_index_commits_is_repaired_at_start(tmp_path: Path) -> None:
    """No server needed: the window a SIGKILL rarely hits, made on purpose (store committed, index not)."""
    from whoknows.core.events import ChannelUpdated, PostCreated, PostDeleted, PostEdited
    from whoknows.service.repair import Outcome, mark_stopped, prepare
    from whoknows.storage.store import open_store

    with open_store(tmp_path) as store:
        store.pipeline.apply([ChannelUpdated("c", "t", "town", "O"), PostCreated("p1", "c", "u", "old words", 1),
                              PostCreated("p2", "c", "u", "doomed", 1)])
    mark_stopped(tmp_path)
    assert prepare(tmp_path) is Outcome.INTACT
    with open_store(tmp_path) as store:
        store.pipeline.apply([PostCreated("p3", "c", "u", "kafka lag", 2), PostEdited("p1", "grafana panels", 3), PostDeleted("p2", 4)])
        store.index.commit = lambda: None  # type: ignore[method-assign]  # killed before the index commit
    assert prepare(tmp_path) is Outcome.REPAIRED  # no clean-stop mark: a crash
    with open_store(tmp_path) as store:
        assert indexed_ids(tmp_path / INDEX_DIR) == {"p1", "p3"}
        assert [h.post_id for h in store.index.search(store.index.terms("grafana kafka"), limit=5)] != []
        assert {h.post_id for h in store.index.search(store.index.terms("grafana"), limit=5)} == {"p1"}
        assert store.index.search(store.index.terms("old"), limit=5) == []


# -- 8. the bot's token is revoked ------------------------------------------------------------------


def fresh_bot_token(workspace: Workspace) -> tuple[str, str]:
    with Api(workspace.url, workspace.admin.token) as admin:
        made = admin.post(f"/users/{workspace.bot.id}/tokens", {"description": "revoked by a test"})
    return str(made["id"]), str(made["token"])


def revoke(workspace: Workspace, token_id: str) -> None:
    with Api(workspace.url, workspace.admin.token) as admin:
        admin.post("/users/tokens/revoke", {"token_id": token_id})


async def test_revoked_token_stops_the_bot_with_one_message(workspace: Workspace, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    grant_command_rights(workspace)
    token_id, token = fresh_bot_token(workspace)
    rt = Runtime(load_from(manifest_path(), settings_env(workspace, WHOKNOWS_BOT_TOKEN=token)), tmp_path)
    rt.token_check_s = 0.2
    running = asyncio.create_task(rt.run_forever())
    await asyncio.wait_for(rt.backfilled.wait(), TIMEOUT_S)
    revoke(workspace, token_id)
    with caplog.at_level(logging.INFO, "whoknows"), pytest.raises(StartupError) as stopped:
        await asyncio.wait_for(running, TIMEOUT_S)
    assert "401" in str(stopped.value) and "WHOKNOWS_BOT_TOKEN" in str(stopped.value) and token not in str(stopped.value)
    stops = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(stops) == 1 and stops[0].exc_info is None, [r.getMessage() for r in stops]

    # Started again with the revoked token: one line, exit 2, no traceback, no restart loop.
    env = {**os.environ, **settings_env(workspace, WHOKNOWS_BOT_TOKEN=token)}
    again = await asyncio.create_subprocess_exec(str(WHOKNOWS), "--data", str(tmp_path), "run", env=env,
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(again.communicate(), 30)
    lines = err.decode().strip().splitlines()
    assert again.returncode == 2 and len(lines) == 1 and "401" in lines[0] and "Traceback" not in err.decode(), err.decode()


# -- 9. the websocket cut by a server crash while posts, edits and deletions keep coming ------------


async def test_server_crash_amid_posts_edits_and_deletions(workspace: Workspace, mattermost: MattermostServer,
                                                         make_channel: MakeChannel, tmp_path: Path) -> None:
    room = make_channel(["alice", "bob", "whoknows"])
    async with running_bot(workspace, tmp_path) as rt:
        before = [(await post(workspace, "alice", room.id, f"before {word()} {i}"))["id"] for i in range(8)]

        async def churn(tag: str, targets: list[str]) -> None:
            """New posts, edits and deletions, one after the other; a request that meets the dead server is retried
            (bounded) until it comes back. A retried request that now gets a 4xx had landed the first time."""
            async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4", timeout=5.0,
                                         headers={"Authorization": f"Bearer {workspace.user('alice').token}"}) as alice:
                for i, target in enumerate(targets):
                    for method, path, body in (("POST", "/posts", {"channel_id": room.id, "message": f"{tag} {word()} {i}"}),
                                               ("PUT", f"/posts/{target}/patch", {"message": f"edited {tag} {word()}"}) if i % 2 else
                                               ("DELETE", f"/posts/{target}", None)):
                        for attempt in range(120):
                            try:
                                answer = await alice.request(method, path, json=body)
                            except httpx.TransportError:
                                answer = None
                            if answer is not None and (answer.status_code < 400 or (attempt and answer.status_code < 500)):
                                break
                            assert attempt < 119, f"the server did not come back for {method} {path}"
                            await asyncio.sleep(0.25)  # bounded wait for the restarting server

        churning = asyncio.create_task(churn("during", before[:4]))
        await asyncio.to_thread(mattermost.restart, graceful=False)
        await churning
        await churn("after", before[4:])
        last = await post(workspace, "alice", room.id, f"last {word()}")
        await until(rt, lambda: rt.store.conversation.has_post(last["id"]))
        await assert_index_matches_server(workspace, tmp_path, rt)
        assert rt.ws.gaps >= 1  # the crash really cut the websocket beyond what the server could replay


# -- 10. SIGKILL in the middle of a backfill ---------------------------------------------------------


START_MS = 1_700_000_000_000


async def bulk_posts(workspace: Workspace, channel_id: str, times: list[int]) -> None:
    """Posts by the system admin (who may set create_at), many at once."""
    headers = {"Authorization": f"Bearer {workspace.admin.token}"}
    limit = asyncio.Semaphore(64)
    async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4", headers=headers, timeout=60.0) as api:

        async def one(i: int, at: int) -> None:
            async with limit:
                body = {"channel_id": channel_id, "message": f"bulk {i} {word()} kafka partition rebalancing", "create_at": at}
                answer = await api.post("/posts", json=body)
                assert answer.status_code == 201 and answer.json()["create_at"] == at, answer.text

        await asyncio.gather(*(one(i, at) for i, at in enumerate(times)))


async def test_backfill_keeps_posts_that_share_a_millisecond_across_pages(workspace: Workspace, make_channel: MakeChannel,
                                                                         tmp_path: Path) -> None:
    room = make_channel(["carol", "whoknows"])
    try:
        await bulk_posts(workspace, room.id, [START_MS] * 100 + [START_MS + 1 + i for i in range(150)])
        async with running_bot(workspace, tmp_path):
            await assert_index_matches_server(workspace, tmp_path)
    finally:  # archived: the other tests' bots no longer read it
        with Api(workspace.url, workspace.admin.token) as admin:
            admin.call("DELETE", f"/channels/{room.id}")


async def test_sigkill_mid_backfill_then_restart(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    room = make_channel(["carol", "whoknows"])
    await bulk_posts(workspace, room.id, [START_MS + i for i in range(2000)])  # distinct times: see the test above
    grant_command_rights(workspace)
    env = {**os.environ, **settings_env(workspace), "WHOKNOWS_BATCH_EVENTS": "50"}
    bot = await asyncio.create_subprocess_exec(str(WHOKNOWS), "--data", str(tmp_path), "run", env=env,
                                               stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert bot.stderr is not None
    seen: list[str] = []
    try:
        async def until_mid_backfill() -> None:
            while True:
                line = (await bot.stderr.readline()).decode()  # type: ignore[union-attr]
                assert line, "the bot exited early:\n" + "".join(seen)
                seen.append(line)
                if f"backfill ~{room.name}:" in line and "so far" in line and "done" not in line:
                    return

        await asyncio.wait_for(until_mid_backfill(), 60)
    finally:
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
    assert bot.returncode == -signal.SIGKILL
    with sqlite3.connect(tmp_path / "service.sqlite") as db:
        done = db.execute("SELECT history_done FROM checkpoints WHERE channel_id=?", (room.id,)).fetchone()
    assert done is None or done == (0,), "killed too late: the backfill had finished"
    async with running_bot(workspace, tmp_path) as rt:
        await assert_index_matches_server(workspace, tmp_path, rt)
        assert "sysadmin" in card_text(await slash(workspace, "alice", workspace.public_channel.id, "kafka rebalancing"))

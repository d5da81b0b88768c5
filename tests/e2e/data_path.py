"""The data path's promises, each written once and run in both modes (test_data_path.py: bot mode, test_plugin_data_path.py:
plugin mode) against the real server: nothing said while the service was away is lost, whatever its amount; a restart
reads nothing again that was heard live; people are named whenever they joined; a suggestion survives a failed write
and is never posted twice; a data folder of the previous release opens with nothing lost, one of a newer release is
refused and left as it was.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from whoknows.core.conversation_schema import MIGRATIONS as CONVERSATION_MIGRATIONS
from whoknows.core.migrations import version_of
from whoknows.service.repair import STOPPED_CLEANLY, indexed_ids
from whoknows.service.runtime import Runtime
from whoknows.storage.service_schema import MIGRATIONS as SERVICE_MIGRATIONS
from whoknows.storage.state import STATE_FILE as SERVICE_FILE
from whoknows.storage.store import INDEX_DIR, STATE_FILE

from .bootstrap import Api, Workspace
from .botfixture import card_text, post, slash, until
from .conftest import MakeChannel
from .faultproxy import FaultProxy

WHOKNOWS = Path(sys.executable).parent / "whoknows"
AWAY_POSTS = 1100
"""More than one `since` answer holds (SINCE_LIMIT, 1,000)."""


@dataclass(frozen=True)
class Mode:
    """How a test starts the service in one mode, against the session's real server."""

    name: str
    workspace: Workspace
    start: Callable[..., AbstractAsyncContextManager[Runtime]]
    """start(data, **env): the running service, once its history is read."""
    through: Callable[[str], dict[str, str]]
    """The environment that sends the service's calls to the server through a proxy at this URL."""
    cli: list[str] = field(default_factory=list)
    """The `whoknows` sub-command that starts this mode, and its environment."""
    cli_env: dict[str, str] = field(default_factory=dict)


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


def archive(workspace: Workspace, channel_id: str) -> None:
    """The other tests' services no longer read it."""
    with Api(workspace.url, workspace.admin.token) as admin:
        admin.call("DELETE", f"/channels/{channel_id}")


async def room_posts(workspace: Workspace, channel_id: str) -> dict[str, str]:
    """post id -> message of the people's posts in one channel, as the server has them now (read by the admin)."""
    out: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4", timeout=30.0,
                                 headers={"Authorization": f"Bearer {workspace.admin.token}"}) as api:
        page = 0
        while True:
            answer = (await api.get(f"/channels/{channel_id}/posts", params={"page": page, "per_page": 200})).json()
            for p in answer["posts"].values():
                if p["channel_id"] == channel_id and not p["type"] and p["user_id"] != workspace.bot.id:
                    out[p["id"]] = p["message"]
            if len(answer["order"]) < 200:
                return out
            page += 1


def kept(rt: Runtime, channel_id: str) -> dict[str, str]:
    return dict(rt.store.conversation.db.execute("SELECT post_id, message FROM posts WHERE channel_id=?", (channel_id,)))


class CatchUpReads(logging.Handler):
    """How many posts the catch-ups said they read again, per channel (their log lines, as an admin reads them)."""

    LINE = re.compile(r"caught up ~(\S+)(?:: (\d+) posts changed since the last run| from its whole history: (\d+) posts read)")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.posts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        found = self.LINE.match(record.getMessage())
        if found and not record.getMessage().endswith("whole history again"):
            self.posts[found[1]] = self.posts.get(found[1], 0) + int(found[2] or found[3])


@contextmanager
def catch_up_reads() -> Iterator[CatchUpReads]:
    logger, reads = logging.getLogger("whoknows.backfill"), CatchUpReads()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(reads)
    try:
        yield reads
    finally:
        logger.removeHandler(reads)
        logger.setLevel(level)


async def many_posts(workspace: Workspace, username: str, channel_id: str, messages: list[str]) -> None:
    limit = asyncio.Semaphore(24)
    async with httpx.AsyncClient(base_url=f"{workspace.url}/api/v4", timeout=60.0,
                                 headers={"Authorization": f"Bearer {workspace.user(username).token}"}) as api:
        async def one(message: str) -> None:
            async with limit:
                answer = await api.post("/posts", json={"channel_id": channel_id, "message": message})
                assert answer.status_code == 201, answer.text

        await asyncio.gather(*(one(m) for m in messages))


# -- 1. a long absence: more changes than one `since` answer holds ---------------------------------------------------


async def long_absence_loses_nothing(mode: Mode, make_channel: MakeChannel, data: Path) -> None:
    ws = mode.workspace
    room = make_channel(["alice", "bob", "whoknows"])
    try:
        old = [await post(ws, "alice", room.id, f"first notes {word()} {i}") for i in range(30)]
        async with mode.start(data) as rt:
            await until(rt, lambda: all(rt.store.conversation.has_post(p["id"]) for p in old))
        # Away: more new posts than one answer holds, then old posts edited and deleted (changes the cut would lose).
        await many_posts(ws, "bob", room.id, [f"while away {word()} {i}" for i in range(AWAY_POSTS)])
        edited, deleted = word(), word()
        with Api(ws.url, ws.user("alice").token) as alice:
            for i, p in enumerate(old[:15]):
                alice.call("PUT", f"/posts/{p['id']}/patch", {"message": f"corrected {edited} runbook step {i}"})
            for p in old[15:25]:
                alice.call("PUT", f"/posts/{p['id']}/patch", {"message": f"soon gone {deleted}"})
                alice.call("DELETE", f"/posts/{p['id']}")
        async with mode.start(data) as rt:
            expected = await room_posts(ws, room.id)
            assert len(expected) == AWAY_POSTS + 20
            here = kept(rt, room.id)
            assert set(here) == set(expected), (f"missing {len(set(expected) - set(here))}", f"kept deleted {len(set(here) - set(expected))}")
            assert {k for k in here if here[k] != expected[k]} == set(), "stale edits"
            indexed = indexed_ids(data / INDEX_DIR)
            assert set(expected) <= indexed and not {p["id"] for p in old[15:25]} & indexed
            assert "alice" in card_text(await slash(ws, "bob", room.id, f"{edited} runbook"))
            assert "alice" not in card_text(await slash(ws, "bob", room.id, deleted))
    finally:
        archive(ws, room.id)


# -- 2. live events advance the checkpoints: a restart reads nothing again -------------------------------------------


async def restart_reads_nothing_heard_live(mode: Mode, make_channel: MakeChannel, data: Path) -> None:
    ws = mode.workspace
    room = make_channel(["alice", "bob", "whoknows"])
    async with mode.start(data) as rt:
        conv, made = rt.store.conversation, []
        for i in range(5):
            root = await post(ws, "alice", room.id, f"the {word()} exporter restarts nightly, note {i}")
            made += [root, await post(ws, "bob", room.id, f"seen the {word()} exporter too, note {i}", root_id=root["id"])]
        with Api(ws.url, ws.user("alice").token) as alice:
            alice.call("PUT", f"/posts/{made[0]['id']}/patch", {"message": f"the exporter restarts hourly {word()}"})
        await until(rt, lambda: all(conv.has_post(p["id"]) for p in made) and "hourly" in kept(rt, room.id)[made[0]["id"]])
        await rt.drained()
        before = kept(rt, room.id)
    with catch_up_reads() as reads:
        async with mode.start(data) as rt:
            assert reads.posts.get(room.name, 0) == 0, f"the catch-up read {reads.posts[room.name]} post(s) again, none had changed"
            assert kept(rt, room.id) == before == await room_posts(ws, room.id)


# -- 3. a person who joined while the service was away is known by name ----------------------------------------------


async def someone_who_joined_while_away_is_named(mode: Mode, data: Path) -> None:
    ws = mode.workspace
    async with mode.start(data):
        pass
    name = f"erin{uuid.uuid4().hex[:6]}"
    with Api(ws.url, ws.admin.token) as admin:
        erin = admin.post("/users", {"username": name, "email": f"{name}@whoknows.test", "password": "Erin-e2e-Passw0rd!",
                                     "first_name": "Erin", "last_name": "Newcomer"})
        admin.post(f"/teams/{ws.team_id}/members", {"team_id": ws.team_id, "user_id": erin["id"]})
        admin.post(f"/channels/{ws.public_channel.id}/members", {"user_id": erin["id"]})
        token = admin.post(f"/users/{erin['id']}/tokens", {"description": "e2e"})["token"]
    async with mode.start(data):
        async with httpx.AsyncClient(base_url=f"{ws.url}/api/v4", headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            answer = await c.post("/commands/execute", json={"channel_id": ws.public_channel.id, "command": "/whoknows me"})
        assert answer.status_code == 200, answer.text
        me = card_text(answer.json())
        assert "Erin Newcomer" in me and name in me and erin["id"] not in me, me
        other = card_text(await slash(ws, "alice", ws.public_channel.id, f"@{name}"))
        assert "Erin Newcomer" in other and "don't know" not in other, other


# -- 4. a suggestion whose write fails is retried safely -------------------------------------------------------------


QUESTION = "how do I rotate the {t} signing keys, case {n}?"
ANSWER = "rotate {t} keys with the {t} rotate job, then reload"


async def suggestion_survives_a_failed_write(mode: Mode, make_channel: MakeChannel, data: Path, *, landed: bool) -> None:
    """Mattermost answers 500 to the bot's reply (as when a person's reply races it into a brand-new thread): whether the
    write was lost (nothing saved) or only its answer, the question gets exactly one suggestion."""
    ws = mode.workspace
    room = make_channel(["alice", "bob", "carol", "dave", "whoknows"])
    topic = word()
    for n in range(3):
        question = await post(ws, "carol", room.id, QUESTION.format(t=topic, n=n))
        await post(ws, "bob", room.id, ANSWER.format(t=topic, n=n), root_id=question["id"])
    await post(ws, "dave", room.id, f"we use {topic} as well {topic}")  # the topic is not bob's word alone
    proxy = FaultProxy(ws.url)
    await proxy.start()
    try:
        async with mode.start(data, **mode.through(proxy.url)) as rt:
            failed = proxy.fail(r"/api/v4/posts$", 500, count=1, method="POST", landed=landed)
            asked = await post(ws, "dave", room.id, f"who knows how to rotate {topic} keys safely?")
            await rt.decisions.wait(asked["id"])  # the decision on this question, a note posted or not
            with Api(ws.url, ws.admin.token) as admin:
                thread = admin.get(f"/posts/{asked['id']}/thread")["posts"].values()
            notes = [p["message"] for p in thread if p["user_id"] == ws.bot.id]
            assert failed.served == 1 and len(notes) == 1 and "bob" in notes[0], notes
    finally:
        await proxy.close()
        archive(ws, room.id)


# -- 5. upgrades ----------------------------------------------------------------------------------------------------


def _set_version(path: Path, version: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute(f"PRAGMA user_version = {version:d}")
    finally:
        db.close()


def as_previous_release(data: Path, *, before_questions: bool) -> None:
    """The folder as the release before numbered migrations left it: the same tables (tests/unit/test_migrations.py has
    that release's DDL), no version recorded; `before_questions`: the posts table from before its is_question column."""
    if before_questions:
        db = sqlite3.connect(data / STATE_FILE, isolation_level=None)
        try:
            db.execute("ALTER TABLE posts DROP COLUMN is_question")
        finally:
            db.close()
    _set_version(data / STATE_FILE, 0)
    _set_version(data / SERVICE_FILE, 0)


def version(path: Path) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return version_of(db)
    finally:
        db.close()


async def previous_release_folder_opens_with_nothing_lost(mode: Mode, make_channel: MakeChannel, data: Path, *,
                                                         before_questions: bool) -> None:
    ws = mode.workspace
    room = make_channel(["alice", "bob", "carol", "dave", "whoknows"])
    topic = word()
    asked = await post(ws, "carol", room.id, f"how do we rotate the {topic} keys?")
    await post(ws, "bob", room.id, f"rotate the {topic} keys with the rotate job", root_id=asked["id"])
    await post(ws, "dave", room.id, f"the {topic} rotate job needs the vault token", root_id=asked["id"])
    async with mode.start(data) as rt:
        assert {"bob", "dave"} <= set(card_text(await slash(ws, "alice", room.id, topic)).replace("(", " ").replace(")", " ").split())
        await slash(ws, "dave", room.id, "optout")  # kept only in this folder: the server cannot give it back
        assert "dave" not in card_text(await slash(ws, "alice", room.id, topic))
        secret = rt.state.action_secret()
    as_previous_release(data, before_questions=before_questions)
    with catch_up_reads() as reads:
        async with mode.start(data) as rt:
            assert version(data / STATE_FILE) == len(CONVERSATION_MIGRATIONS) and version(data / SERVICE_FILE) == len(SERVICE_MIGRATIONS)
            assert reads.posts.get(room.name, 0) == 0, "the folder was not taken as it was: its history was read again"
            card = card_text(await slash(ws, "alice", room.id, topic))
            assert "bob" in card and "dave" not in card, card  # the posts answer, and the opt-out holds
            assert rt.store.conversation.post_facts([asked["id"]])[asked["id"]].is_question
            assert rt.state.action_secret() == secret, "the buttons of cards shown before the upgrade stopped working"


def folder_bytes(data: Path) -> dict[str, str]:
    return {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(data.rglob("*")) if p.is_file()}


async def newer_release_folder_is_refused_untouched(mode: Mode, data: Path, newer: str) -> None:
    """Started by the real `whoknows` command on a folder a newer release wrote: one line, exit 2, and not a byte changed
    (not even the clean-stop mark, nor the index)."""
    async with mode.start(data):
        pass
    assert (data / STOPPED_CLEANLY).exists()
    latest = len(CONVERSATION_MIGRATIONS) if newer == STATE_FILE else len(SERVICE_MIGRATIONS)
    _set_version(data / newer, latest + 1)
    before = folder_bytes(data)
    started = await asyncio.create_subprocess_exec(str(WHOKNOWS), "--data", str(data), *mode.cli, env={**os.environ, **mode.cli_env},
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(started.communicate(), 60)
    finally:
        if started.returncode is None:
            started.kill()
            await started.wait()
    text = err.decode()
    lines = text.strip().splitlines()
    assert started.returncode == 2 and len(lines) == 1, text
    assert "newer than this whoknows knows" in lines[0] and newer in lines[0] and "Traceback" not in text, text
    assert folder_bytes(data) == before


__all__ = ["Mode", "long_absence_loses_nothing", "newer_release_folder_is_refused_untouched", "previous_release_folder_opens_with_nothing_lost",
           "restart_reads_nothing_heard_live", "someone_who_joined_while_away_is_named", "suggestion_survives_a_failed_write"]


# -- 6. a deletion or an edit wins over batching ---------------------------------------------------------------------

WIDE_BATCH_MS = 4000
"""A batch window far longer than a /whoknows round trip: the answers below are given while the changes still wait."""


async def heard(rt: Runtime, count: int) -> None:
    """Waits until the service has heard `count` items in all (polled: hearing is not an applied batch)."""
    async def reached() -> None:
        while rt.writer.submitted < count:
            await asyncio.sleep(0.005)
    await asyncio.wait_for(reached(), 30.0)


async def heard_deletion_is_never_shown(mode: Mode, make_channel: MakeChannel, data: Path) -> None:
    ws = mode.workspace
    room = make_channel(["alice", "bob", "whoknows"])
    gone, old, new, along = word(), word(), word(), word()
    try:
        async with mode.start(data) as rt:
            doomed = await post(ws, "alice", room.id, f"the {gone} certificate rotation is scripted in ops/rotate.sh")
            changed = await post(ws, "alice", room.id, f"the {old} exporter needs a restart after upgrades")
            reply = await post(ws, "alice", room.id, f"and the {along} renewal cron runs it weekly", root_id=doomed["id"])
            made = (doomed, changed, reply)
            await until(rt, lambda: all(rt.store.conversation.has_post(p["id"]) for p in made))
            await rt.drained()
            assert doomed["id"] in card_text(await slash(ws, "bob", room.id, gone))  # found before: the checks below can fail
            assert changed["id"] in card_text(await slash(ws, "bob", room.id, old))
            assert reply["id"] in card_text(await slash(ws, "bob", room.id, along))
            rt.writer.batch_milliseconds = WIDE_BATCH_MS
            before = rt.writer.submitted
            with Api(ws.url, ws.user("alice").token) as alice:
                alice.call("DELETE", f"/posts/{doomed['id']}")
                alice.call("PUT", f"/posts/{changed['id']}/patch", {"message": f"the {new} exporter restarts by itself now"})
            await heard(rt, before + 2)
            assert rt.store.conversation.has_post(doomed["id"]), "the batch was applied already: this run proves nothing"
            # The root's deletion takes its reply with it (Mattermost reports only the root's).
            for topic, post_id in ((gone, doomed["id"]), (old, changed["id"]), (along, reply["id"])):
                answer = card_text(await slash(ws, "bob", room.id, topic))
                assert post_id not in answer, f"a card asked after the service heard the change still shows it:\n{answer}"
            person = card_text(await slash(ws, "bob", room.id, "@alice"))
            assert doomed["id"] not in person and gone not in person and old not in person, person
            await rt.drained()
            assert doomed["id"] not in card_text(await slash(ws, "bob", room.id, gone))
            assert changed["id"] in card_text(await slash(ws, "bob", room.id, new))  # withheld only until applied
    finally:
        archive(ws, room.id)

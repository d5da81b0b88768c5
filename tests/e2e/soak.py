"""The soak's driver: people post, reply, edit, delete, react and ask /whoknows against the real server, while
faults are injected one after another at random; every answer is checked as it comes, the index at checkpoints.

Users' requests go straight to Mattermost; the bot's go through the fault proxy. Waiting for the bot (a process of
its own, so it can be killed) is bounded polling of its store: there is no in-process hook to wait on.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .bootstrap import Workspace
from .faultproxy import FaultProxy
from .mattermost import MattermostServer
from .soak_check import PERMALINK, Ledger, Verdicts, Window, check_card, index_differences, local_posts, server_posts, store_error, store_has
from .soak_process import BotProcess

TOPICS = ("kafka", "terraform", "grafana", "postgres", "ingress", "redis", "vault", "helm")
FILLER = ("lag", "rollout", "dashboards", "replication", "certificates", "eviction", "secrets", "charts", "partition")
EMOJI = ("+1", "white_check_mark", "heart", "tada")
NOT_WEBSOCKET = r"^/api/v4/(?!websocket)"
SETTLE_TIMEOUT_S = 90.0
POLL_S = 0.2
"""How often the store is looked at while waiting for the bot to catch up (bounded by SETTLE_TIMEOUT_S)."""
BURST_S = 3.0
DISK_FULL_S = 4.0
DISK_BACK_TIMEOUT_S = 40.0


@dataclass
class Room:
    id: str
    name: str
    members: frozenset[str]


@dataclass
class Soak:
    workspace: Workspace
    mattermost: MattermostServer
    proxy: FaultProxy
    bot: BotProcess
    rooms: list[Room]
    disk_flag: Path
    rng: random.Random
    ledger: Ledger = field(default_factory=Ledger)
    verdicts: Verdicts = field(default_factory=Verdicts)
    windows: list[Window] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    failed_ops: int = 0
    checkpoints: int = 0
    rss: list[int] = field(default_factory=list)
    rss_anon: list[int] = field(default_factory=list)
    """The heap part of each RSS sample (the rest is mapped files: index segments, libraries)."""
    _running: asyncio.Event = field(default_factory=asyncio.Event)
    _busy: int = 0
    _idle: asyncio.Condition = field(default_factory=asyncio.Condition)
    _stopping: bool = False

    # -- people ---------------------------------------------------------------------------------------

    def rooms_of(self, user: str) -> list[Room]:
        return [r for r in self.rooms if user in r.members]

    def client(self, user: str) -> httpx.AsyncClient:
        token = self.workspace.user(user).token
        return httpx.AsyncClient(base_url=f"{self.workspace.url}/api/v4", headers={"Authorization": f"Bearer {token}"}, timeout=30.0)

    async def person(self, user: str) -> None:
        """One person's loop: an operation at a time, paused at checkpoints, until the soak stops."""
        async with self.client(user) as api:
            while not self._stopping:
                await self._running.wait()
                self._busy += 1
                try:
                    await self.operate(api, user)
                except (httpx.TransportError, httpx.HTTPStatusError):
                    self.failed_ops += 1  # the server is restarting: not the bot's fault, not checked
                finally:
                    self._busy -= 1
                    async with self._idle:
                        self._idle.notify_all()
                await asyncio.sleep(self.rng.uniform(0.05, 0.3))  # pacing: two cores, several people

    async def operate(self, api: httpx.AsyncClient, user: str) -> None:
        room = self.rng.choice(self.rooms_of(user))
        kinds: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("post", lambda: self.post(api, user, room)), ("reply", lambda: self.post(api, user, room, reply=True)),
            ("edit", lambda: self.edit(api, user, room)), ("delete", lambda: self.delete(api, user, room)),
            ("react", lambda: self.react(api, user, room)), ("ask", lambda: self.ask(api, user, room, self.rng.choice(TOPICS))),
        ]
        kind, run = self.rng.choices(kinds, weights=(30, 12, 12, 14, 10, 22))[0]
        self.ops[kind] += 1
        await run()

    def message(self, tag: str) -> str:
        return f"{self.rng.choice(TOPICS)} {self.rng.choice(FILLER)} {tag} {self.rng.randrange(10**6)}"

    async def post(self, api: httpx.AsyncClient, user: str, room: Room, *, reply: bool = False, text: str = "") -> str:
        roots = [p for p in self.ledger.live(room.id)] if reply else []
        root = self.rng.choice(roots) if roots else ""
        text = text or self.message("reply" if root else "note")
        answer = await api.post("/posts", json={"channel_id": room.id, "message": text, "root_id": root})
        answer.raise_for_status()
        post_id = str(answer.json()["id"])
        self.ledger.made(post_id, room.id, user, text, root)
        return post_id

    def own(self, user: str, room: Room) -> str | None:
        mine = self.ledger.live(room.id, user)
        return self.rng.choice(mine) if mine else None

    async def edit(self, api: httpx.AsyncClient, user: str, room: Room) -> None:
        target = self.own(user, room)
        if target is None:
            return
        text = self.message("edited")
        answer = await api.put(f"/posts/{target}/patch", json={"message": text})
        answer.raise_for_status()
        self.ledger.text_of[target] = text

    async def delete(self, api: httpx.AsyncClient, user: str, room: Room) -> None:
        target = self.own(user, room)
        if target is None:
            return
        try:
            answer = await api.delete(f"/posts/{target}")
        except httpx.TransportError:
            self.ledger.uncertain.add(target)  # may have landed, when is unknown: neither a target nor held against a card
            raise
        answer.raise_for_status()
        self.ledger.deleted(target, time.monotonic())
        if self.rng.random() < 0.5:  # ask about it at once: the deletion races its event to the bot ("near" below GRACE_S)
            topic = self.ledger.text_of[target].split()[0]
            self.ops["ask after delete"] += 1
            await self.ask(api, user, room, topic)

    async def react(self, api: httpx.AsyncClient, user: str, room: Room) -> None:
        live = self.ledger.live(room.id)
        if not live:
            return
        body = {"user_id": self.workspace.user(user).id, "post_id": self.rng.choice(live), "emoji_name": self.rng.choice(EMOJI)}
        answer = await api.post("/reactions", json=body)
        if answer.status_code not in (400, 404):  # the post was deleted meanwhile
            answer.raise_for_status()

    async def ask(self, api: httpx.AsyncClient, user: str, room: Room, topic: str) -> None:
        asked_at = time.monotonic()
        answer = await api.post("/commands/execute", json={"channel_id": room.id, "command": f"/whoknows {topic}"})
        if answer.status_code != 200:
            self.verdicts.failed += 1  # the bot is down or cut off: Mattermost says the command failed
            if "Traceback" in answer.text:
                self.verdicts.violations.append(f"a trace reached {user}: {answer.text[:200]!r}")
            return
        body: dict[str, Any] = answer.json()
        text = "\n".join([str(body.get("text", ""))] + [str(a.get("text", "")) for a in body.get("attachments") or []])
        shown = set(PERMALINK.findall(text))
        for post_id in shown - set(self.ledger.channel_of):
            await self.adopt(post_id)
        for post_id in shown & self.ledger.cascaded:
            await self.confirm(post_id)
        readable = {r.id for r in self.rooms_of(user)}
        check_card(text, user, readable, asked_at, self.ledger, self.windows, self.verdicts)

    async def adopt(self, post_id: str) -> None:
        """A card shows a post the ledger does not know: a POST that failed on the soak's side (a transport error
        while the server restarted) may still have been saved. Ask the server (as admin, deleted posts included) and
        judge the post by its real channel; a post the server never had stays unknown and counts against the card."""
        post = await self.server_post(post_id)
        if post is None:
            return
        author = next((u.username for u in self.workspace.everyone.values() if u.id == post["user_id"]), post["user_id"])
        self.ledger.made(post_id, post["channel_id"], author, post["message"], post.get("root_id") or "")
        self.ops["adopted"] += 1
        if post.get("delete_at"):  # the server's clock (ms since the epoch) on this machine's monotonic clock
            self.ledger.deleted(post_id, time.monotonic() - (time.time() - post["delete_at"] / 1000))

    async def confirm(self, post_id: str) -> None:
        """A card shows a reply the ledger took to be deleted with its root: the server says whether it was."""
        post = await self.server_post(post_id)
        if post is not None:
            self.ledger.confirmed(post_id, deleted=bool(post.get("delete_at")))
            self.ops["reply outlived its root"] += not post.get("delete_at")

    async def server_post(self, post_id: str) -> dict[str, Any] | None:
        """The post as the server has it now (asked as admin, deleted posts included), None if it has none."""
        async with httpx.AsyncClient(base_url=f"{self.workspace.url}/api/v4", timeout=30.0,
                                     headers={"Authorization": f"Bearer {self.workspace.admin.token}"}) as api:
            answer = await api.get(f"/posts/{post_id}", params={"include_deleted": "true"})
        return answer.json() if answer.status_code == 200 else None

    # -- pausing, catching up, checkpoints --------------------------------------------------------------

    async def pause(self) -> None:
        self._running.clear()
        async with self._idle:
            await self._idle.wait_for(lambda: self._busy == 0)

    async def settle(self) -> bool:
        """A marker in every room, then (bounded) until the bot's store holds them all and its last catch-up is over
        (a marker heard live after a websocket that could not resume says nothing of the changes made while it was
        down): it has caught up."""
        async with self.client("alice") as api:
            marks = []
            for room in self.rooms:
                for _ in range(60):  # the server may still be coming back
                    try:
                        marks.append(await self.post(api, "alice", room, text=f"marker {self.rng.randrange(10**9)}"))
                        break
                    except (httpx.TransportError, httpx.HTTPStatusError):
                        await asyncio.sleep(0.5)
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while not (store_has(self.bot.data, marks) and self.bot.caught_up()):
            if time.monotonic() > deadline:
                what = "its catch-up did not finish" if store_has(self.bot.data, marks) else "the markers are not in its store"
                recent = sum(1 for line in self.bot.lines if "httpx" in line.text and line.at > deadline - SETTLE_TIMEOUT_S)
                self.verdicts.violations.append(
                    f"the bot did not catch up within {SETTLE_TIMEOUT_S:.0f} s ({what}; {store_error(self.bot.data) or 'the store reads fine'}; "
                    f"{recent} REST requests meanwhile)\n{self.bot.tail(25, without='INFO httpx: HTTP Request')}\n"
                    f"its threads:\n{await self.bot.stacks()}")
                return False
            await asyncio.sleep(POLL_S)
        return True

    async def checkpoint(self) -> None:
        """Everyone pauses; once the bot has caught up, its store and index must equal the server's posts."""
        await self.pause()
        try:
            if await self.settle():
                self.sample_rss()  # at every checkpoint: memory over time, not only at the ends
                await self.compare()
            self.checkpoints += 1
        finally:
            self._running.set()

    async def compare(self) -> None:
        expected = await server_posts(self.workspace.url, self.workspace.bot.token, [r.id for r in self.rooms])
        differences = index_differences(expected, self.bot.data, self.workspace.bot.id)
        if differences:  # the last batch may still be on its way to the index: look once more after it
            await asyncio.sleep(1.0)
            differences = index_differences(expected, self.bot.data, self.workspace.bot.id)
        self.verdicts.violations += [f"checkpoint {self.checkpoints}: {d}" for d in differences]
        if differences:
            self.verdicts.violations.append(self.explain(set(local_posts(self.bot.data)) ^ set(expected)))

    def explain(self, post_ids: set[str]) -> str:
        """What the soak knows of the posts the store and the server disagree on (for whoever reads the failure)."""
        lines = []
        for post_id in sorted(post_ids)[:10]:
            deleted = self.ledger.deleted_at.get(post_id)
            during = [w.kind for w in self.windows if deleted is not None and w.covers(deleted, 2.0)]
            lines.append(f"{post_id}: room {self.ledger.channel_of.get(post_id, '(not the soak)')}, "
                         f"deleted at {deleted}, during {during or 'no fault'}, "
                         f"root {self.ledger.root_of.get(post_id) or '-'} (deleted: {self.ledger.root_of.get(post_id) in self.ledger.deleted_at})")
        return "the posts in question:\n" + "\n".join(lines)

    def sample_rss(self) -> None:
        kib, anon = self.bot.rss_kib(), self.bot.rss_kib("RssAnon")
        if kib is not None and anon is not None:
            self.rss.append(kib)
            self.rss_anon.append(anon)

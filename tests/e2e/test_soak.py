"""A bounded soak against the real server: people post, edit, delete, react and ask /whoknows while the bot is killed,
its websocket cut, the server restarted, its requests answered 429 and 5xx, and its disk filled. No answer may show a
deleted post or a post its caller cannot read; at checkpoints and at the end the index equals the server's posts;
every error id in the bot's log is explained by a fault. Short by default (part of `make test`); the long form is
`SOAK_SECONDS=1200 .venv/bin/pytest tests/e2e/test_soak.py -s` (`make soak`).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections import Counter
from pathlib import Path

from .bootstrap import Api, Workspace
from .botfixture import grant_command_rights, settings_env
from .conftest import MakeChannel, _note
from .faultproxy import FaultProxy
from .mattermost import MattermostServer, free_port
from .soak import Room, Soak
from .soak_check import unexplained_errors
from .soak_faults import inject_until
from .soak_process import BotProcess

SECONDS = float(os.environ.get("SOAK_SECONDS", "75"))
PEOPLE = ("alice", "bob", "carol", "dave")


def rooms(make_channel: MakeChannel) -> list[Room]:
    """Two public rooms for everyone, one private room that carol and dave cannot read."""
    made = [(make_channel([*PEOPLE, "whoknows"]), PEOPLE), (make_channel([*PEOPLE, "whoknows"]), PEOPLE),
            (make_channel(["alice", "bob", "whoknows"], private=True), ("alice", "bob"))]
    return [Room(c.id, c.name, frozenset(members)) for c, members in made]


def bot_env(workspace: Workspace, proxy: FaultProxy, rooms: list[Room], disk_flag: Path) -> dict[str, str]:
    return settings_env(workspace, WHOKNOWS_MATTERMOST_URL=proxy.url, WHOKNOWS_HTTP_PORT=str(free_port()),
                        WHOKNOWS_INDEX_CHANNELS="allowlist", WHOKNOWS_CHANNEL_LIST=",".join(r.name for r in rooms),
                        WHOKNOWS_SOAK_DISK_FULL=str(disk_flag), SOAK_MEMSTATS=str(disk_flag.with_name("memstats.txt")))


def live_memory(stats: Path) -> str:
    """What the bot's live objects did (soak_bot's SOAK_MEMSTATS lines) in its longest-lived process: RSS growth with
    these flat is memory the allocators keep after it was freed, not a leak. Each process's first line is taken before
    its store is open: skipped."""
    processes = stats.read_text().split("== process ")[1:] if stats.exists() else []
    lines = max((p.splitlines()[2:] for p in processes), key=len, default=[])
    if len(lines) < 2:
        return "live memory: too short a run to say"
    blocks = [int(re.search(r"python blocks (\d+)", line)[1]) for line in (lines[0], lines[-1])]  # type: ignore[index]
    in_use = [float(re.search(r"malloc in use ([\d.]+)", line)[1]) for line in (lines[0], lines[-1])]  # type: ignore[index]
    free = [float(re.search(r"free ([\d.]+)", line)[1]) for line in (lines[0], lines[-1])]  # type: ignore[index]
    return (f"live memory of the longest-lived bot process: Python blocks {blocks[0]} -> {blocks[1]}, C heap in use {in_use[0]:.1f} -> {in_use[1]:.1f} MiB, "
            f"C heap free but kept {free[0]:.1f} -> {free[1]:.1f} MiB")


def summary(soak: Soak, faults: Counter[str], seconds: float, errors: int) -> str:
    mib = [f"{kib / 1024:.0f} MiB" for kib in (soak.rss[0], soak.rss[-1])] if soak.rss else ["?", "?"]
    series = " ".join(f"{kib / 1024:.0f}" for kib in soak.rss)
    heap = " ".join(f"{kib / 1024:.0f}" for kib in soak.rss_anon)
    return (f"soak: {seconds:.0f} s, operations {sum(soak.ops.values())} ({dict(soak.ops)}, {soak.failed_ops} failed), "
            f"faults {sum(faults.values())} ({dict(faults)}), checkpoints {soak.checkpoints}, "
            f"answers checked {soak.verdicts.answers} ({soak.verdicts.failed} failed), near {len(soak.verdicts.near)}, "
            f"violations {len(soak.verdicts.violations)}, RSS start {mib[0]} end {mib[1]} (bot started {soak.bot.starts}x; "
            f"every sample, MiB: {series}; of which heap: {heap}), "
            f"error ids {errors}")


async def run(soak: Soak, seconds: float) -> Counter[str]:
    faults: Counter[str] = Counter()
    soak._running.set()
    people = [asyncio.create_task(soak.person(p)) for p in PEOPLE]
    try:
        await inject_until(soak, time.monotonic() + seconds, (2.0, 6.0), max(30.0, seconds / 10), faults)
    finally:
        soak._stopping = True
        await asyncio.gather(*people, return_exceptions=True)
    soak._running.set()
    await soak.checkpoint()  # the end: everything the people did, and nothing else
    return faults


async def test_soak_under_faults(workspace: Workspace, mattermost: MattermostServer, make_channel: MakeChannel,
                                 tmp_path: Path) -> None:
    made = rooms(make_channel)
    proxy = FaultProxy(workspace.url)
    await proxy.start()
    flag = tmp_path / "disk-full"
    grant_command_rights(workspace)
    bot = BotProcess(tmp_path / "data", bot_env(workspace, proxy, made, flag))
    soak = Soak(workspace, mattermost, proxy, bot, made, flag, random.Random(os.environ.get("SOAK_SEED", "14")))
    began = time.monotonic()
    try:
        await bot.start()
        await soak.settle()
        soak.sample_rss()
        faults = await run(soak, SECONDS)
        soak.sample_rss()
    finally:
        await bot.stop()
        await proxy.close()
        with Api(workspace.url, workspace.admin.token) as admin:  # archived: the other tests' bots no longer read them
            for room in made:
                admin.call("DELETE", f"/channels/{room.id}")
    errors = bot.error_lines()
    soak.verdicts.violations += unexplained_errors(errors, soak.windows)
    line = summary(soak, faults, time.monotonic() - began, len(errors)) + "; " + live_memory(tmp_path / "memstats.txt")
    print(line)
    _note(mattermost, line)
    for near in soak.verdicts.near:
        print("near:", near)
    assert soak.verdicts.violations == [], "\n".join(soak.verdicts.violations[:20])
    assert soak.verdicts.answers > 0 and sum(faults.values()) >= 1

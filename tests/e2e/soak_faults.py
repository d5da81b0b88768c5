"""The faults the soak injects, one at a time, each followed by a wait until the bot has caught up.

Each fault is a window in the soak's record, from injection to the catch-up that follows it: deletions it hid,
and the error ids it caused, are judged against that window (soak_check).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from .soak import BURST_S, DISK_BACK_TIMEOUT_S, DISK_FULL_S, NOT_WEBSOCKET, Soak
from .soak_check import Window

DISK_FULL_LINE = "the disk is full"
DISK_BACK_LINE = "writable again"


async def kill_bot(soak: Soak) -> None:
    soak.sample_rss()
    await soak.bot.kill()
    await soak.bot.start()


async def cut_websocket(soak: Soak) -> None:
    await soak.proxy.cut_websockets()


async def restart_server(soak: Soak) -> None:
    await asyncio.to_thread(soak.mattermost.restart, graceful=False)


async def rate_limit_burst(soak: Soak) -> None:
    soak.proxy.rate_limit(NOT_WEBSOCKET, retry_after=1, seconds=BURST_S)
    await asyncio.sleep(BURST_S)


async def server_error_burst(soak: Soak) -> None:
    soak.proxy.fail(NOT_WEBSOCKET, soak.rng.choice((500, 502, 503)), seconds=BURST_S)
    await asyncio.sleep(BURST_S)


async def fill_disk(soak: Soak) -> None:
    """The index's disk full for a while, under traffic; then space is back and the bot must say so by itself."""
    full = soak.bot.expect(lambda text: DISK_FULL_LINE in text)
    back = soak.bot.expect(lambda text: DISK_BACK_LINE in text)
    soak.disk_flag.touch()
    try:
        await asyncio.sleep(DISK_FULL_S)
    finally:
        soak.disk_flag.unlink()
    if full.done():
        try:
            await asyncio.wait_for(back, DISK_BACK_TIMEOUT_S)
        except TimeoutError:
            soak.verdicts.violations.append(f"the index stayed unwritable {DISK_BACK_TIMEOUT_S:.0f} s after space was back")
    else:
        full.cancel()
        back.cancel()


FAULTS: dict[str, Callable[[Soak], Awaitable[None]]] = {
    "bot killed": kill_bot, "websocket cut": cut_websocket, "server restarted": restart_server,
    "429 burst": rate_limit_burst, "5xx burst": server_error_burst, "disk full": fill_disk,
}


def chosen_faults() -> list[str]:
    """$SOAK_FAULTS (comma-separated kinds) or every kind: without "bot killed", one bot process lives through the
    whole run, so its memory at the start and at the end can be compared."""
    wanted = [k.strip() for k in os.environ.get("SOAK_FAULTS", "").split(",") if k.strip()]
    unknown = [k for k in wanted if k not in FAULTS]
    if unknown:
        raise ValueError(f"SOAK_FAULTS: unknown kind(s) {unknown}; known: {sorted(FAULTS)}")
    return wanted or list(FAULTS)


async def inject(soak: Soak, kind: str, counts: Counter[str]) -> None:
    window = Window(kind, time.monotonic())
    soak.windows.append(window)
    counts[kind] += 1
    try:
        await FAULTS[kind](soak)
        await soak.settle()
    finally:
        window.end = time.monotonic()


async def inject_until(soak: Soak, deadline: float, gap_s: tuple[float, float], checkpoint_s: float, counts: Counter[str]) -> None:
    """Faults in shuffled rounds (every kind once per round, in a random order), a checkpoint now and then."""
    last_checkpoint = time.monotonic()
    kinds: list[str] = []
    while time.monotonic() + gap_s[1] < deadline:
        await asyncio.sleep(soak.rng.uniform(*gap_s))
        if not kinds:
            kinds = list(chosen_faults())
            soak.rng.shuffle(kinds)
        await inject(soak, kinds.pop(), counts)
        if time.monotonic() - last_checkpoint > checkpoint_s:
            await soak.checkpoint()
            last_checkpoint = time.monotonic()

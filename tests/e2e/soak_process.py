"""The bot as a process of its own (the soak's, the replicas'), so it can be killed with SIGKILL and started again on
the same data.

Its log lines are read as they come, each stamped with the time it was read (the soak matches error ids to the
faults it injected by that time), and its resident memory is read from /proc.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "soak_bot.py"
READY = "whoknows is running"
CATCHING_UP = "catching up over REST"
"""The websocket could not resume: the bot reads every channel's changes (runtime's catch-up)."""
CAUGHT_UP = "history is up to date"
"""Logged when a catch-up (at start or after a lost websocket) has read every channel."""
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
ERROR_ID = re.compile(r"\berror ([0-9a-f]{8})\b")


@dataclass(frozen=True)
class Line:
    at: float
    """time.monotonic() when it was read."""
    text: str


@dataclass
class BotProcess:
    data: Path
    env: dict[str, str]
    lines: list[Line] = field(default_factory=list)
    starts: int = 0
    _first_line: int = 0
    """Where the running process's lines begin in `lines`."""
    _process: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None
    _waiters: list[tuple[Callable[[str], bool], asyncio.Future[None]]] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self, ready_line: str = READY) -> None:
        """Starts it and returns once it says it is running, or whatever `ready_line` names (bounded)."""
        ready = self.expect(lambda text: ready_line in text)
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, str(LAUNCHER), "-v", "--data", str(self.data), "run", env={**os.environ, **self.env},
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        self.starts += 1
        self._first_line = len(self.lines)
        self._reader = asyncio.create_task(self._read(self._process))
        try:
            await asyncio.wait_for(ready, START_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(f"the bot did not say {ready_line!r}:\n" + self.tail()) from None

    def expect(self, predicate: Callable[[str], bool]) -> asyncio.Future[None]:
        """A future that is done at the first log line from now on that matches."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return future

    def caught_up(self) -> bool:
        """Whether the running process's last catch-up (the one at its start, or after a websocket it could not
        resume) has finished: a post made before it may be seen live first while its deletion is still unread."""
        mine = self.lines[self._first_line:]
        began = max((i for i, line in enumerate(mine) if CATCHING_UP in line.text), default=-1)
        return any(CAUGHT_UP in line.text for line in mine[began + 1:])

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            text = line.decode(errors="replace").rstrip("\n")
            self.lines.append(Line(time.monotonic(), text))
            for predicate, future in list(self._waiters):
                if not future.done() and predicate(text):
                    future.set_result(None)
                    self._waiters.remove((predicate, future))

    async def exited(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """Waits (bounded) until the process ends by itself; returns its exit code."""
        assert self._process is not None
        code = await asyncio.wait_for(self._process.wait(), timeout)
        if self._reader is not None:
            await self._reader
        self._process = None
        return code

    async def kill(self) -> None:
        """SIGKILL: no clean stop, no last write."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> None:
        await self._end(signal.SIGTERM)

    async def _end(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(how)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._reader is not None:
            await self._reader
        self.lines.append(Line(time.monotonic(), f"=== soak: bot exited with {process.returncode}"))

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def rss_kib(self, kind: str = "VmRSS") -> int | None:
        """Resident memory now, or None when it is not running: VmRSS in all, RssAnon the process's own heap,
        RssFile pages of mapped files (the index's segments, the libraries) that the kernel can drop."""
        if self.pid is None:
            return None
        try:
            status = Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8")
        except OSError:
            return None
        found = re.search(rf"^{kind}:\s+(\d+)", status, re.MULTILINE)
        return int(found.group(1)) if found else None

    def error_lines(self) -> list[tuple[Line, str]]:
        """Every log line that carries an error id, with the id."""
        return [(line, m.group(1)) for line in self.lines if (m := ERROR_ID.search(line.text))]

    async def stacks(self) -> str:
        """Every thread's and every asyncio task's stack, as the running process writes them on SIGUSR1 and SIGUSR2
        (soak_bot), for a bot that seems stuck."""
        if not self.alive or self._process is None:
            return "(the bot is not running)"
        before = len(self.lines)
        self._process.send_signal(signal.SIGUSR1)
        await asyncio.sleep(0.5)
        if self._process is not None:
            self._process.send_signal(signal.SIGUSR2)
        await asyncio.sleep(1.0)
        return "\n".join(line.text for line in self.lines[before:] if "httpx" not in line.text)

    def tail(self, count: int = 40, without: str = "") -> str:
        """The last `count` log lines (those containing `without` left out, when given)."""
        kept = [line.text for line in self.lines if not without or without not in line.text]
        return "\n".join(kept[-count:])

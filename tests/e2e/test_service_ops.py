"""Running whoknows as a service, as a new admin would (bot mode, the real `whoknows run` where it matters): a busy port,
SIGTERM and SIGINT from a script, and the seconds of a restart."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from whoknows import messages
from whoknows.app.settings import load_from, manifest_path
from whoknows.service.repair import STOPPED_CLEANLY
from whoknows.service.runtime import Runtime

from .bootstrap import Api, Workspace
from .botfixture import card_text, grant_command_rights, running_bot, settings_env, slash
from .faultproxy import FaultProxy
from .mattermost import free_port

WHOKNOWS = Path(sys.executable).parent / "whoknows"
EXIT_TIMEOUT_S = 30.0


@contextmanager
def occupied(port: int) -> Iterator[socket.socket]:
    """Another program on the port: it accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield sock


def commands_calling(workspace: Workspace, port: int) -> list[dict[str, Any]]:
    with Api(workspace.url, workspace.admin.token) as admin:
        listed: list[dict[str, Any]] = admin.call("GET", f"/commands?team_id={workspace.team_id}&custom_only=true")
    return [c for c in listed if c.get("trigger") == "whoknows" and f":{port}/" in c.get("url", "")]


async def run_subprocess(workspace: Workspace, data: Path, port: int) -> tuple[int, str]:
    env = {**os.environ, **settings_env(workspace, WHOKNOWS_HTTP_PORT=str(port))}
    bot = await asyncio.create_subprocess_exec(str(WHOKNOWS), "--data", str(data), "run", env=env,
                                               stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(bot.communicate(), EXIT_TIMEOUT_S)
    assert bot.returncode is not None
    return bot.returncode, err.decode()


async def test_busy_port_is_one_line_and_the_command_no_longer_calls_it(workspace: Workspace, tmp_path: Path) -> None:
    port = free_port()
    async with running_bot(workspace, tmp_path, WHOKNOWS_HTTP_PORT=str(port)):
        pass  # an earlier run registered /whoknows to call this port
    assert commands_calling(workspace, port)
    with occupied(port):
        code, err = await run_subprocess(workspace, tmp_path, port)
        lines = err.strip().splitlines()
        assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
        assert "WHOKNOWS_HTTP_PORT" in lines[0] and str(port) in lines[0] and "unregistered" in lines[0], err
        assert commands_calling(workspace, port) == [], "people's /whoknows would reach the program holding the port"
    async with running_bot(workspace, tmp_path, WHOKNOWS_HTTP_PORT=str(port)):  # the next start registers it again
        assert messages.HELP_TITLE in card_text(await slash(workspace, "alice", workspace.public_channel.id, "help"))


async def test_busy_port_held_by_another_whoknows_keeps_its_command(workspace: Workspace, tmp_path: Path) -> None:
    port = free_port()
    async with running_bot(workspace, tmp_path / "first", WHOKNOWS_HTTP_PORT=str(port)):
        code, err = await run_subprocess(workspace, tmp_path / "second", port)
        lines = err.strip().splitlines()
        assert code != 0 and len(lines) == 1 and "another whoknows" in lines[0] and "Traceback" not in err, err
        assert commands_calling(workspace, port), "the running whoknows lost its command"
        assert messages.HELP_TITLE in card_text(await slash(workspace, "alice", workspace.public_channel.id, "help"))


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a non-interactive shell does to a background job


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_stops_the_bot_cleanly(workspace: Workspace, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                            sig: signal.Signals) -> None:
    grant_command_rights(workspace)
    env = {**os.environ, **settings_env(workspace)}
    bot = await asyncio.create_subprocess_exec(str(WHOKNOWS), "--data", str(tmp_path), "run", env=env, start_new_session=True,
                                               preexec_fn=_ignore_sigint, stdout=asyncio.subprocess.DEVNULL,
                                               stderr=asyncio.subprocess.PIPE)
    assert bot.stderr is not None
    seen: list[str] = []
    try:
        async def until_running() -> None:
            while "whoknows is running" not in (line := (await bot.stderr.readline()).decode()):  # type: ignore[union-attr]
                assert line, "the bot exited early:\n" + "".join(seen)
                seen.append(line)

        await asyncio.wait_for(until_running(), EXIT_TIMEOUT_S)
        bot.send_signal(sig)
        rest = (await asyncio.wait_for(bot.stderr.read(), EXIT_TIMEOUT_S)).decode()
        await asyncio.wait_for(bot.wait(), EXIT_TIMEOUT_S)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    assert bot.returncode == 0, rest
    assert messages.stopping(sig.name) in rest and "Traceback" not in rest, rest
    assert (tmp_path / STOPPED_CLEANLY).exists(), "the clean stop was not marked"
    with caplog.at_level(logging.INFO, "whoknows"):
        async with running_bot(workspace, tmp_path):
            pass
    again = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [m for m in again if "repaired" in m or "rebuilding" in m or "reading the whole history" in m], again


async def test_command_while_starting_says_so(workspace: Workspace, tmp_path: Path) -> None:
    port = free_port()
    async with running_bot(workspace, tmp_path, WHOKNOWS_HTTP_PORT=str(port)):
        pass  # registered to call this port: what a restart finds
    proxy = FaultProxy(workspace.url)
    await proxy.start()
    held = proxy.hold(r"^/api/v4/users/me")  # start-up waits for Mattermost here, after listening
    rt = Runtime(load_from(manifest_path(), settings_env(workspace, WHOKNOWS_HTTP_PORT=str(port),
                                                         WHOKNOWS_MATTERMOST_URL=proxy.url)), tmp_path)
    starting = asyncio.create_task(rt.start())
    try:
        await asyncio.wait_for(held.arrived.wait(), EXIT_TIMEOUT_S)
        answer = await slash(workspace, "alice", workspace.public_channel.id, "kafka rebalancing")
        assert answer.get("text") == messages.starting() and answer.get("response_type") == "ephemeral", answer
        held.release.set()
        await asyncio.wait_for(starting, EXIT_TIMEOUT_S)
        assert messages.HELP_TITLE in card_text(await slash(workspace, "alice", workspace.public_channel.id, "help"))
    finally:
        held.release.set()
        if not starting.done():
            starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await rt.stop()
        await proxy.close()

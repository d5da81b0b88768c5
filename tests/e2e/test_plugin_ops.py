"""Running the plugin's service as a new admin would (`whoknows serve-plugin` for the plugin's Service URL): SIGTERM and
SIGINT from a script stop it cleanly, and while it starts the real plugin answers /whoknows with "starting"."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from whoknows import messages
from whoknows.app.settings import load
from whoknows.service.repair import STOPPED_CLEANLY
from whoknows.service.runtime import Runtime

from .botfixture import card_text, slash
from .faultproxy import FaultProxy
from .plugin_bundle import MANIFEST, PLUGIN_ID, installed_plugin, plugin_bundle
from .plugin_mode import Link, plugin_runtime, service_link

__all__ = ["installed_plugin", "plugin_bundle", "service_link"]  # fixtures, imported for pytest
WHOKNOWS = Path(sys.executable).parent / "whoknows"
TIMEOUT_S = 30.0


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a non-interactive shell does to a background job


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_stops_the_plugin_service_cleanly(service_link: Link, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                       sig: signal.Signals) -> None:
    env = {**os.environ, **service_link.env()}
    service = await asyncio.create_subprocess_exec(str(WHOKNOWS), "--data", str(tmp_path), "serve-plugin", env=env,
                                                   start_new_session=True, preexec_fn=_ignore_sigint,
                                                   stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert service.stderr is not None
    seen: list[str] = []
    try:
        async def until_running() -> None:
            while "whoknows is running" not in (line := (await service.stderr.readline()).decode()):  # type: ignore[union-attr]
                assert line, "the service exited early:\n" + "".join(seen)
                seen.append(line)

        await asyncio.wait_for(until_running(), TIMEOUT_S)
        service.send_signal(sig)
        rest = (await asyncio.wait_for(service.stderr.read(), TIMEOUT_S)).decode()
        await asyncio.wait_for(service.wait(), TIMEOUT_S)
    finally:
        if service.returncode is None:
            service.kill()
            await service.wait()
    assert service.returncode == 0 and messages.stopping(sig.name) in rest and "Traceback" not in rest, rest
    assert (tmp_path / STOPPED_CLEANLY).exists(), "the clean stop was not marked"
    with caplog.at_level(logging.INFO, "whoknows"):
        async with plugin_runtime(service_link, tmp_path):
            pass
    again = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [m for m in again if "repaired" in m or "rebuilding" in m or "reading the whole history" in m], again


async def test_command_while_the_service_starts_says_so(service_link: Link, tmp_path: Path) -> None:
    ws = service_link.installed.workspace
    proxy = FaultProxy(ws.url)
    await proxy.start()
    held = proxy.hold(r"/service/api/v4/users/me")  # start-up waits for the server here, after listening
    env = service_link.env(WHOKNOWS_PLUGIN_URL=f"{proxy.url}/plugins/{PLUGIN_ID}")
    rt = Runtime(load(MANIFEST, env), tmp_path, manifest=MANIFEST, env=env)
    starting = asyncio.create_task(rt.start())
    try:
        await asyncio.wait_for(held.arrived.wait(), TIMEOUT_S)
        answer = await slash(ws, "alice", ws.public_channel.id, "kafka rebalancing")
        assert answer.get("text") == messages.starting() and answer.get("response_type") == "ephemeral", answer
        held.release.set()
        await asyncio.wait_for(starting, TIMEOUT_S)
        assert messages.HELP_TITLE in card_text(await slash(ws, "alice", ws.public_channel.id, "help"))
    finally:
        held.release.set()
        if not starting.done():
            starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await rt.stop()
        await proxy.close()

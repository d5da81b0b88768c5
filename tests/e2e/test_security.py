"""Security promises checked against the real server: nasty command text, oversized requests, and secrets
that never reach the log."""

from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from whoknows.app import commands as responder

from .bootstrap import Workspace
from .botfixture import card_text, post, running_bot, slash, until

NASTY = ["   ", "\u202eevil\u202c kafka", "\U0001f525\U0001f680", "author:alice", "user_id:{alice}", "*", "\"", "(", "a AND NOT b",
         "[click](http://evil.example) <script>x</script>", "@channel @here @all", "x" * 3_000]
LEAK = re.compile(r"Traceback|File \"|\b[A-Z]\w*(?:Error|Exception)\b")


async def test_nasty_command_text_through_mattermost(workspace: Workspace, tmp_path: Path) -> None:
    topic = f"zq{uuid.uuid4().hex[:8]}"
    secret = workspace.private_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        hidden = await post(workspace, "alice", secret, f"the {topic} budget is frozen")
        await until(rt, lambda: rt.store.conversation.has_post(hidden["id"]))
        for text in NASTY + [f"channel_id:{secret}"]:
            text = text.format(alice=workspace.users["alice"].id)
            answer = await slash(workspace, "carol", workspace.public_channel.id, text)
            shown = card_text(answer)
            assert answer["response_type"] == "ephemeral" and shown.strip(), (text, answer)
            assert not LEAK.search(shown), (text, shown[:300])
            assert "budget" not in shown and hidden["id"] not in shown
        # carol cannot read ~secret-plans: no query syntax brings alice's post to her.
        for syntax in (f"channel_id:{secret} {topic}", f"user_id:{workspace.users['alice'].id} {topic}", f"{topic}*", f"\"{topic}\""):
            shown = card_text(await slash(workspace, "carol", workspace.public_channel.id, syntax))
            assert "budget" not in shown and "Nobody yet" in shown, (syntax, shown)


async def test_oversized_request_is_refused_before_any_work(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    async def recording(rt: Any, form: dict[str, str]) -> dict[str, Any]:
        calls.append(form)
        return {"response_type": "ephemeral", "text": "ok"}

    async with running_bot(workspace, tmp_path) as rt:
        monkeypatch.setattr(responder, "command", recording)
        token = rt.state.command_token(workspace.team_id) or ""
        form = {"token": token, "team_id": workspace.team_id, "channel_id": workspace.public_channel.id,
                "user_id": workspace.users["carol"].id, "command": "/whoknows"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{rt.http_port}") as client:
            big = await client.post("/command", data={**form, "text": "kafka " * 60_000})
            big_action = await client.post("/action", content=b"{\"context\": \"" + b"x" * 400_000 + b"\"}",
                                           headers={"Content-Type": "application/json"})
            small = await client.post("/command", data={**form, "text": "kafka"})
    assert big.status_code == 413 and big_action.status_code == 413
    assert small.status_code == 200 and len(calls) == 1 and calls[0]["text"] == "kafka"


async def test_tokens_and_secrets_never_reach_the_log(workspace: Workspace, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = f"wrong-{uuid.uuid4().hex}"
    async with running_bot(workspace, tmp_path) as rt:
        form = {"token": wrong, "team_id": workspace.team_id, "channel_id": workspace.public_channel.id,
                "user_id": workspace.users["carol"].id, "command": "/whoknows", "text": "kafka"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{rt.http_port}") as client:
            assert (await client.post("/command", data=form)).status_code == 401
            assert (await client.post("/action", json={"user_id": "x", "context": {"s": wrong}})).status_code == 403
        assert (await slash(workspace, "carol", workspace.public_channel.id, "kafka"))["response_type"] == "ephemeral"
        secrets = [workspace.bot.token, wrong, rt.state.action_secret().hex(), *rt.state.command_tokens()]
    assert rt.settings.http_host == "127.0.0.1"
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "refused a slash command with a wrong token" in logged
    for secret in secrets:
        assert secret and secret not in logged

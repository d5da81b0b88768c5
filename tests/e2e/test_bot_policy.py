"""Which channels are indexed, channel switches for suggestions, and how failures look to a person."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from .bootstrap import Api, Workspace
from .botfixture import call, card_text, post, running_bot, slash, until
from .conftest import MakeChannel
from .test_bot_events import NO_QUIET, suggestion_under


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


async def test_bot_never_indexes_direct_messages_denied_channels_or_bots(
    workspace: Workspace, make_channel: MakeChannel, tmp_path: Path
) -> None:
    topic = word()
    denied = make_channel(["alice", "bob", "whoknows"])
    async with running_bot(workspace, tmp_path, WHOKNOWS_INDEX_CHANNELS="denylist", WHOKNOWS_CHANNEL_LIST=denied.name) as rt:
        assert denied.id not in rt.indexed and workspace.public_channel.id in rt.indexed
        with Api(workspace.url, workspace.admin.token) as admin:
            dm = admin.post("/channels/direct", [workspace.users["alice"].id, workspace.bot.id])
        in_dm = await post(workspace, "alice", dm["id"], f"{topic} in a direct message")
        in_denied = await post(workspace, "alice", denied.id, f"{topic} in a denied channel")
        from_bot = await call(workspace, "whoknows", "POST", "/posts", {"channel_id": workspace.public_channel.id, "message": f"{topic} said by the bot"})
        marker = await post(workspace, "bob", workspace.public_channel.id, f"marker {word()}")
        await until(rt, lambda: rt.store.conversation.has_post(marker["id"]))
        conv = rt.store.conversation
        assert not any(conv.has_post(p) for p in (in_dm["id"], in_denied["id"], from_bot.json()["id"]))
        assert "Nobody yet" in card_text(await slash(workspace, "carol", workspace.public_channel.id, topic))


async def test_bot_channel_switch_needs_a_channel_admin(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    topic = word()
    room = make_channel(["alice", "bob", "carol", "whoknows"])  # alice created it: she is its admin
    for n in range(3):
        question = await post(workspace, "carol", room.id, f"how do I tune {topic} retries, take {n}?")
        await post(workspace, "bob", room.id, f"set {topic} retries to five and back off", root_id=question["id"])
    async with running_bot(workspace, tmp_path, **NO_QUIET) as rt:
        assert "Only a channel admin" in (await slash(workspace, "bob", room.id, "channel off"))["text"]
        assert "now off" in (await slash(workspace, "alice", room.id, "channel off"))["text"]
        assert rt.state.channel_suggestions(room.id) is False
        asking = f"anyone know how to set {topic} retries with back off?"
        assert await suggestion_under(workspace, rt, "alice", room.id, asking) == ""
        assert "now on" in (await slash(workspace, "alice", room.id, "channel on"))["text"]
        assert "bob" in await suggestion_under(workspace, rt, "alice", room.id, asking)  # the same question, now answered


async def test_bot_unexpected_error_shows_only_an_error_id(workspace: Workspace, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(workspace, tmp_path) as rt:
        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("secret internals")

        rt.store.engine.ask = broken  # type: ignore[method-assign,assignment]
        with caplog.at_level(logging.ERROR, logger="whoknows"):
            reply = await slash(workspace, "carol", workspace.public_channel.id, "kafka")
    assert reply["response_type"] == "ephemeral"
    assert "error id" in reply["text"] and "secret internals" not in reply["text"] and "Traceback" not in reply["text"]
    error_id = reply["text"].rstrip(".").split()[-1]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)

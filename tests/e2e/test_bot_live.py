"""The bot in a real Mattermost: live posts, edits and deletes reach /whoknows; nothing is lost while it is away or
while its websocket brings nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from whoknows.service import stream_watch

from .bootstrap import Workspace
from .botfixture import call, card_text, post, running_bot, slash, until
from .faultproxy import FaultProxy


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


async def test_bot_post_edit_delete_reflected_in_whoknows(workspace: Workspace, tmp_path: Path) -> None:
    first, second = word(), word()
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        conv = rt.store.conversation
        created = await post(workspace, "alice", channel, f"to fix {first} restart the {first} daemon")
        await until(rt, lambda: conv.has_post(created["id"]))
        reply = await slash(workspace, "bob", channel, first)
        assert reply["response_type"] == "ephemeral"
        assert "alice" in card_text(reply)

        edited = await call(workspace, "alice", "PUT", f"/posts/{created['id']}/patch", {"message": f"all about {second} now"})
        assert edited.status_code == 200, edited.text
        await until(rt, lambda: second in conv.post_facts([created["id"]])[created["id"]].message)
        assert "alice" not in card_text(await slash(workspace, "bob", channel, first))
        assert "alice" in card_text(await slash(workspace, "bob", channel, second))

        deleted = await call(workspace, "alice", "DELETE", f"/posts/{created['id']}")
        assert deleted.status_code == 200, deleted.text
        await until(rt, lambda: not conv.has_post(created["id"]))
        assert "alice" not in card_text(await slash(workspace, "bob", channel, second))


async def test_bot_finds_post_made_while_stopped(workspace: Workspace, tmp_path: Path) -> None:
    topic = word()
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path):
        pass
    away = await post(workspace, "carol", channel, f"the {topic} migration needs a reindex first")
    async with running_bot(workspace, tmp_path) as rt:
        assert rt.store.conversation.has_post(away["id"])
        assert "carol" in card_text(await slash(workspace, "dave", channel, topic))


async def test_a_websocket_that_brings_nothing_is_noticed_and_what_it_missed_is_read(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a Mattermost restart the bot's new connection can stay open, answer pings and bring no event: the bot
    must notice (the channel list says a post was made), read what it missed and listen on a new connection."""
    monkeypatch.setattr(stream_watch, "EVERY_S", 0.5)
    proxy = FaultProxy(workspace.url)
    await proxy.start()
    channel = workspace.public_channel.id
    try:
        async with running_bot(workspace, tmp_path, WHOKNOWS_MATTERMOST_URL=proxy.url) as rt:
            assert proxy.deafen() == 1, "the bot listens on one websocket, through the proxy"
            missed = await post(workspace, "alice", channel, f"the {word()} exporter needs a restart")
            await until(rt, lambda: rt.store.conversation.has_post(missed["id"]))
            assert rt.stream_watch is not None and rt.stream_watch.renewed == 1
            heard = await post(workspace, "bob", channel, f"the {word()} dashboards are back")
            await until(rt, lambda: rt.store.conversation.has_post(heard["id"]))
            assert rt.stream_watch.renewed == 1, "the new connection brings events again: no second catch-up was needed"
    finally:
        await proxy.close()

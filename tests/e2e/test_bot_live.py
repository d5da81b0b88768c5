"""The bot in a real Mattermost: live posts, edits and deletes reach /whoknows; nothing is lost while it is away."""

from __future__ import annotations

import uuid
from pathlib import Path

from .bootstrap import Workspace
from .botfixture import call, card_text, post, running_bot, slash, until


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

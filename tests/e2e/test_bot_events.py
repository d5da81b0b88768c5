"""Live events beyond posts: reconnects, membership changes, deactivation, and inline suggestions."""

from __future__ import annotations

import uuid
from pathlib import Path

from .bootstrap import Api, Workspace
from .botfixture import call, card_text, listen, post, posted, running_bot, slash, until
from .conftest import MakeChannel
from .mattermost import MattermostServer


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


async def test_bot_websocket_resumes_after_drop_and_catches_up_after_server_restart(
    workspace: Workspace, mattermost: MattermostServer, tmp_path: Path
) -> None:
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        connection = rt.ws.connection_id
        await rt.ws.drop()
        during = await post(workspace, "bob", channel, f"posted around the drop {word()}")
        await until(rt, lambda: rt.store.conversation.has_post(during["id"]))
        assert rt.ws.connection_id == connection and rt.ws.resumed >= 1 and rt.ws.gaps == 0

        mattermost.restart(graceful=False)
        after = await post(workspace, "bob", channel, f"posted right after the restart {word()}")
        await until(rt, lambda: rt.store.conversation.has_post(after["id"]) and rt.ws.gaps == 1)
        assert rt.ws.connection_id != connection


async def test_bot_follows_membership_and_deactivation(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    topic = word()
    public = workspace.public_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        conv = rt.store.conversation
        room = make_channel(["carol", "whoknows"], private=True)  # the bot is added live
        await until(rt, lambda: room.id in rt.indexed)
        created = await post(workspace, "carol", room.id, f"the {topic} contract renews in May")
        await until(rt, lambda: conv.has_post(created["id"]))
        assert "carol" not in card_text(await slash(workspace, "dave", public, topic))

        with Api(workspace.url, workspace.admin.token) as admin:
            admin.post(f"/channels/{room.id}/members", {"user_id": workspace.users["dave"].id})
        await until(rt, lambda: (room.id, workspace.users["dave"].id) in set(conv.db.execute("SELECT channel_id, user_id FROM members")))
        assert "carol" in card_text(await slash(workspace, "dave", public, topic))

        carol = workspace.users["carol"].id
        assert (await call(workspace, "sysadmin", "DELETE", f"/users/{carol}")).status_code == 200
        try:
            await until(rt, lambda: conv.people([carol])[carol].deactivated)
            assert "carol" not in card_text(await slash(workspace, "dave", public, topic))
        finally:
            assert (await call(workspace, "sysadmin", "PUT", f"/users/{carol}/active", {"active": True})).status_code == 200


async def test_bot_suggests_the_person_who_answers_never_the_asker(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    topic = word()
    room = make_channel(["alice", "bob", "carol", "dave", "whoknows"])
    for n in range(3):
        question = await post(workspace, "carol", room.id, f"how do I rotate the {topic} signing keys, case {n}?")
        await post(workspace, "bob", room.id, f"rotate {topic} keys with the {topic} rotate job, then reload", root_id=question["id"])
    await post(workspace, "dave", room.id, f"we use {topic} as well {topic}")
    async with running_bot(workspace, tmp_path) as rt:
        async with listen(workspace, "alice") as wait:
            asked = await post(workspace, "dave", room.id, f"who knows how to rotate {topic} keys safely?")
            note = posted(await wait(lambda e: posted(e).get("root_id") == asked["id"] and posted(e).get("user_id") == workspace.bot.id))
        assert "bob" in note["message"]
        assert "dave" not in note["message"] and "@" not in note["message"]

        async with listen(workspace, "alice") as wait:
            await slash(workspace, "bob", room.id, "optout")
            again = await post(workspace, "alice", room.id, f"does anyone understand {topic} key rotation?")
            statement = await post(workspace, "alice", room.id, f"{topic} keys rotated fine today")
            await until(rt, lambda: rt.store.conversation.has_post(statement["id"]))
        await rt.drained()
        replies = await call(workspace, "alice", "GET", f"/posts/{again['id']}/thread")
        assert all(p["user_id"] != workspace.bot.id or "bob" not in p["message"] for p in replies.json()["posts"].values())


async def test_bot_backfills_history_when_added_to_a_channel(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    topic = word()
    room = make_channel(["alice", "carol"], private=True)
    old = [await post(workspace, "alice", room.id, f"{topic} note number {n}") for n in range(3)]
    async with running_bot(workspace, tmp_path) as rt:
        assert room.id not in rt.indexed
        with Api(workspace.url, workspace.admin.token) as admin:
            admin.post(f"/channels/{room.id}/members", {"user_id": workspace.bot.id})
        await until(rt, lambda: all(rt.store.conversation.has_post(p["id"]) for p in old))
        assert rt.state.checkpoint(room.id).history_done
        assert "alice" in card_text(await slash(workspace, "carol", workspace.public_channel.id, topic))
        assert "alice" not in card_text(await slash(workspace, "dave", workspace.public_channel.id, topic))

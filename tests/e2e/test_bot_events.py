"""Live events beyond posts: reconnects, membership changes, deactivation, and inline suggestions."""

from __future__ import annotations

import uuid
from pathlib import Path

from whoknows.service.runtime import Runtime

from .bootstrap import Api, Workspace
from .botfixture import call, card_text, post, running_bot, slash, until
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


NO_QUIET = {"WHOKNOWS_SUGGESTION_CHANNEL_MINUTES": "0", "WHOKNOWS_SUGGESTION_PERSON_MINUTES": "0"}
"""Without the channel's and the person's quiet times every question may get a note: what a note leaves out is then
the feature under test, not the throttle."""


async def seed_answers(workspace: Workspace, room: str, topic: str, answers: dict[str, int]) -> None:
    """carol asks about `topic`; each answerer replies in that many of her threads (more answers, higher rank)."""
    for n in range(max(answers.values())):
        question = await post(workspace, "carol", room, f"how do I rotate the {topic} signing keys, case {n}?")
        for who, count in answers.items():
            if n < count:
                await post(workspace, who, room, f"rotate {topic} keys with the {topic} rotate job, then reload", root_id=question["id"])


async def suggestion_under(workspace: Workspace, rt: Runtime, asker: str, room: str, text: str) -> str:
    """Asks a question and returns the bot's note under it once the bot has decided ("" when it posted none)."""
    asked = await post(workspace, asker, room, text)
    await rt.decisions.wait(asked["id"])
    replies = (await call(workspace, asker, "GET", f"/posts/{asked['id']}/thread")).json()["posts"].values()
    notes = [p["message"] for p in replies if p["user_id"] == workspace.bot.id]
    assert len(notes) <= 1, notes
    return notes[0] if notes else ""


async def test_bot_suggests_the_person_who_answers_never_the_asker(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    topic = word()
    room = make_channel(["alice", "bob", "carol", "dave", "whoknows"]).id
    await seed_answers(workspace, room, topic, {"bob": 3, "alice": 1})
    await post(workspace, "dave", room, f"we use {topic} as well {topic}")
    async with running_bot(workspace, tmp_path, **NO_QUIET) as rt:
        note = await suggestion_under(workspace, rt, "dave", room, f"who knows how to rotate {topic} keys safely?")
        assert "bob" in note and "alice" in note, note  # the positive control: both answerers are named
        assert "dave" not in note and "@" not in note, note  # never the asker; nobody is notified

        await slash(workspace, "bob", room, "optout")
        again = await suggestion_under(workspace, rt, "dave", room, f"does anyone understand {topic} key rotation?")
        assert "alice" in again and "bob" not in again, again  # the same question still gets a note, without bob


async def test_bot_suggestion_never_names_the_asker(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    topic = word()
    room = make_channel(["alice", "bob", "carol", "dave", "whoknows"]).id
    await seed_answers(workspace, room, topic, {"bob": 3, "alice": 1})
    async with running_bot(workspace, tmp_path, **NO_QUIET) as rt:
        note = await suggestion_under(workspace, rt, "bob", room, f"who knows how to rotate {topic} keys safely?")
        assert "alice" in note and "bob" not in note, note  # bob, the best answerer, asked: alice is named instead


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

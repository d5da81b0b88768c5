"""/whoknows through Mattermost: private evidence, verification of the command token, opt-out, people."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from .bootstrap import Workspace
from .botfixture import card_text, post, running_bot, slash, until


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


async def test_bot_private_post_is_evidence_only_for_members(workspace: Workspace, tmp_path: Path) -> None:
    topic = word()
    public = workspace.public_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        secret = await post(workspace, "alice", workspace.private_channel.id, f"the {topic} budget is frozen until March")
        await until(rt, lambda: rt.store.conversation.has_post(secret["id"]))
        for_bob = card_text(await slash(workspace, "bob", public, topic))
        for_carol = card_text(await slash(workspace, "carol", public, topic))
    assert "alice" in for_bob and "budget" in for_bob
    assert "alice" not in for_carol and "budget" not in for_carol and "Nobody yet" in for_carol


async def test_bot_refuses_slash_command_with_wrong_token(workspace: Workspace, tmp_path: Path) -> None:
    async with running_bot(workspace, tmp_path) as rt:
        form = {"token": "not-the-token", "team_id": workspace.team_id, "channel_id": workspace.public_channel.id,
                "user_id": workspace.users["carol"].id, "command": "/whoknows", "text": "anything"}
        async with httpx.AsyncClient() as client:
            wrong = await client.post(f"http://127.0.0.1:{rt.http_port}/command", data=form)
            missing = await client.post(f"http://127.0.0.1:{rt.http_port}/command", data={**form, "token": ""})
    assert wrong.status_code == 401
    assert missing.status_code == 401
    assert "anything" not in wrong.text


async def test_bot_opted_out_person_never_appears(workspace: Workspace, tmp_path: Path) -> None:
    topic = word()
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        created = await post(workspace, "dave", channel, f"I maintain the {topic} exporter and its alerts")
        await until(rt, lambda: rt.store.conversation.has_post(created["id"]))
        assert "dave" in card_text(await slash(workspace, "alice", channel, topic))

        assert "no longer appear" in (await slash(workspace, "dave", channel, "optout"))["text"]
        assert "dave" not in card_text(await slash(workspace, "alice", channel, topic))
        assert "chosen not to appear" in (await slash(workspace, "alice", channel, "@dave"))["text"]

        assert "again" in (await slash(workspace, "dave", channel, "optin"))["text"]
        assert "dave" in card_text(await slash(workspace, "alice", channel, topic))


async def test_bot_person_card_help_and_empty_topic(workspace: Workspace, tmp_path: Path) -> None:
    topic = word()
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        created = await post(workspace, "bob", channel, f"{topic} {topic} rollout checklist for the {topic} gateway")
        await until(rt, lambda: rt.store.conversation.has_post(created["id"]))
        about_bob = card_text(await slash(workspace, "carol", channel, "@bob"))
        me = card_text(await slash(workspace, "bob", channel, "me"))
        help_text = card_text(await slash(workspace, "carol", channel, "help"))
        empty = await slash(workspace, "carol", channel, "")
        nonsense = await slash(workspace, "carol", channel, "?? !! ...")
        nobody = await slash(workspace, "carol", channel, "@nobody-like-this")
    assert topic in about_bob and "Known for" in about_bob
    assert topic in me
    assert "optout" in help_text
    assert "Tell me what to look for" in empty["text"] and empty["response_type"] == "ephemeral"
    assert "could not find anything to search for" in nonsense["text"]
    assert "don't know anyone" in nobody["text"]

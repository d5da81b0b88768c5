"""Card buttons, clicked through Mattermost; forged, tampered and expired calls are refused."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from whoknows.app.signing import sign

from .bootstrap import Workspace
from .botfixture import call, listen, post, posted, running_bot, slash, until


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


def actions_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    props = card.get("props") or {}
    attachments = card.get("attachments") or props.get("attachments") or []
    return {a["id"]: a for att in attachments for a in att.get("actions") or []}


async def test_bot_refuses_tampered_forged_and_expired_buttons(workspace: Workspace, tmp_path: Path) -> None:
    topic = word()
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path) as rt:
        created = await post(workspace, "alice", channel, f"the {topic} cache is warmed nightly")
        await until(rt, lambda: rt.store.conversation.has_post(created["id"]))
        reply = await slash(workspace, "carol", channel, topic)
        assert set(actions_of(reply)) == {"ask", "nothelpful", "more"}
        assert "integration" not in str(reply)  # Mattermost keeps the signed context to itself
        good = sign(rt.state.action_secret(), {"a": "nothelpful", "t": topic, "u": workspace.users["carol"].id, "c": channel,
                                               "p": [workspace.users["alice"].id], "o": 0}, expires_at=int(time.time() * 1000) + 60_000)
        body, mac = good.split(".")
        tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
        forged = sign(b"x" * 32, {"a": "nothelpful", "t": topic, "u": workspace.users["carol"].id, "c": channel, "p": [], "o": 0},
                      expires_at=int(time.time() * 1000) + 60_000)
        expired = sign(rt.state.action_secret(), {"a": "nothelpful", "t": topic, "u": workspace.users["carol"].id, "c": channel,
                                                  "p": [workspace.users["alice"].id], "o": 0}, expires_at=int(time.time() * 1000) - 1)
        url = f"http://127.0.0.1:{rt.http_port}/action"
        async with httpx.AsyncClient() as client:
            answers = [await client.post(url, json={"user_id": workspace.users["carol"].id, "context": {"s": s}})
                       for s in (tampered, forged, expired, "")]
            someone_else = await client.post(url, json={"user_id": workspace.users["dave"].id, "context": {"s": good}})
            assert [a.status_code for a in answers] == [403, 403, 403, 403]
            assert someone_else.status_code == 403
            key = rt.store.engine.ask(topic, now=0).topic.key
            assert rt.store.conversation.rejections(key) == {}
            accepted = await client.post(url, json={"user_id": workspace.users["carol"].id, "context": {"s": good}})
        assert accepted.status_code == 200
        assert rt.store.conversation.rejections(key) == {workspace.users["alice"].id: 1}


async def test_bot_buttons_ask_not_helpful_and_more_through_mattermost(workspace: Workspace, tmp_path: Path) -> None:
    topic = word()
    channel = workspace.public_channel.id
    async with running_bot(workspace, tmp_path, WHOKNOWS_CARD_PEOPLE="2") as rt:
        for who in ("alice", "bob", "dave"):
            created = await post(workspace, who, channel, f"notes on the {topic} pipeline from {who}")
        await until(rt, lambda: rt.store.conversation.has_post(created["id"]))
        async with listen(workspace, "carol") as wait:
            await slash(workspace, "carol", channel, topic)
            card = posted(await wait(lambda e: bool(posted(e)) and bool(actions_of(posted(e)))))
            buttons = actions_of(card)

            async def click(action_id: str) -> httpx.Response:
                return await call(workspace, "carol", "POST", f"/posts/{card['id']}/actions/{action_id}",
                                  {"cookie": buttons[action_id].get("cookie", "")})

            clicked = await click("ask")
            assert clicked.status_code == 200, clicked.text
            asked = posted(await wait(lambda e: posted(e).get("user_id") == workspace.bot.id and "is asking" in posted(e).get("message", "")))
            assert "@carol" in asked["message"] and asked["channel_id"] == channel
            assert "@alice" in asked["message"] or "@bob" in asked["message"] or "@dave" in asked["message"]

            more = await click("more")
            assert more.status_code == 200, more.text
            next_card = posted(await wait(lambda e: e.get("event") == "ephemeral_message" and "notes on the" in str(posted(e))))
            shown = [who for who in ("alice", "bob", "dave") if f"({who})" in str(card)]
            assert len(shown) == 2 and not any(f"({who})" in str(next_card) for who in shown)

            assert (await click("nothelpful")).status_code == 200
        key = rt.store.engine.ask(topic, now=0).topic.key
        assert rt.store.conversation.rejections(key)

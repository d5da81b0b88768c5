"""Pinned learning threads against the real Mattermost: /whoknows learn, capture by reaction, digests."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from whoknows.core.schedule import DAY_MS, latest_run, parse_schedule
from whoknows.app.learning import PROP_CAPTURE, PROP_DIGEST

from .bootstrap import Workspace
from .botfixture import call, card_text, post, running_bot, slash, until
from .conftest import MakeChannel

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


async def react(workspace: Workspace, username: str, post_id: str, emoji: str) -> None:
    body = {"user_id": workspace.users[username].id, "post_id": post_id, "emoji_name": emoji}
    answer = await call(workspace, username, "POST", "/reactions", body)
    assert answer.status_code == 200, answer.text


async def thread_posts(workspace: Workspace, root_id: str) -> list[dict[str, Any]]:
    answer = await call(workspace, "alice", "GET", f"/posts/{root_id}/thread")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["posts"].values())


def with_prop(posts: list[dict[str, Any]], prop: str, value: str | None = None) -> list[dict[str, Any]]:
    return [p for p in posts if prop in (p.get("props") or {}) and (value is None or p["props"][prop] == value)]


async def test_learn_pins_one_thread_which_admins_rename_and_retire(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    room = make_channel(["alice", "bob", "carol", "whoknows"])  # alice creates it: she is its channel admin
    async with running_bot(workspace, tmp_path) as rt:
        first = await slash(workspace, "bob", room.id, "learn Platform lessons")
        second = await slash(workspace, "carol", room.id, "learn")
        pinned = (await call(workspace, "alice", "GET", f"/channels/{room.id}/pinned")).json()["posts"].values()
        ours = [p for p in pinned if p["user_id"] == workspace.bot.id]
        assert len(ours) == 1 and "Platform lessons" in ours[0]["message"] and ":bulb:" in ours[0]["message"]
        root = ours[0]["id"]
        assert "pinned" in first["text"] and root in first["text"]
        assert "already has a learning thread" in second["text"] and root in second["text"]

        assert "Only a channel admin" in (await slash(workspace, "bob", room.id, "learn Something else"))["text"]
        assert "renamed" in (await slash(workspace, "alice", room.id, "learn Platform learnings @channel"))["text"]
        message = (await call(workspace, "alice", "GET", f"/posts/{root}")).json()["message"]
        assert "Platform learnings" in message and "@channel" not in message

        assert "retired" in (await slash(workspace, "alice", room.id, "learn off"))["text"]
        pinned = (await call(workspace, "alice", "GET", f"/channels/{room.id}/pinned")).json()["posts"].values()
        assert not [p for p in pinned if p["user_id"] == workspace.bot.id]
        assert rt.learning.state.thread(room.id) is not None


async def test_reaction_captures_a_post_once_with_credit_follows_edits_and_deletion(
    workspace: Workspace, make_channel: MakeChannel, tmp_path: Path
) -> None:
    topic = word()
    room = make_channel(["alice", "bob", "carol", "dave", "whoknows"])
    async with running_bot(workspace, tmp_path) as rt:
        conv = rt.store.conversation
        await slash(workspace, "alice", room.id, "learn")  # only `learn` makes the thread
        taught = await post(workspace, "bob", room.id, f"the {topic} cache must be warmed before failover, ask @carol")
        other = await post(workspace, "carol", room.id, f"the {topic} cache must be checked before failover, ask @alice")
        await until(rt, lambda: conv.has_post(other["id"]))
        for who in ("alice", "carol", "dave"):  # three people flag it: one capture
            await react(workspace, who, taught["id"], "bulb")
        await until(rt, lambda: conv.post_facts([taught["id"]])[taught["id"]].endorsements == 3)
        await rt.learning.settled()

        thread = rt.learning.state.thread(room.id)
        assert thread is not None and thread.status == "active"
        captured = with_prop(await thread_posts(workspace, thread.root_id), PROP_CAPTURE)
        assert len(captured) == 1
        reply = captured[0]["message"]
        assert "warmed before failover" in reply and "**bob**" in reply and "alice, carol, dave" in reply
        assert f"/{workspace.team_name}/pl/{taught['id']}" in reply and "@carol" not in reply
        # The capture is an endorsement: bob outranks carol on the topic.
        card = card_text(await slash(workspace, "dave", room.id, f"{topic} cache"))
        assert card.index("(bob)") < card.index("(carol)")

        edited = await call(workspace, "bob", "PUT", f"/posts/{taught['id']}/patch", {"message": f"TIL the {topic} cache must be warmed twice"})
        assert edited.status_code == 200
        await until(rt, lambda: "twice" in conv.post_facts([taught["id"]])[taught["id"]].message)
        await rt.learning.settled()
        followed = (await call(workspace, "alice", "GET", f"/posts/{captured[0]['id']}")).json()["message"]
        assert "warmed twice" in followed and "failover" not in followed

        assert (await call(workspace, "bob", "DELETE", f"/posts/{taught['id']}")).status_code == 200
        await until(rt, lambda: not conv.has_post(taught["id"]))
        await rt.learning.settled()
        assert not with_prop(await thread_posts(workspace, thread.root_id), PROP_CAPTURE)


async def test_learning_emoji_setting_decides_what_is_captured(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    room = make_channel(["alice", "bob", "carol", "whoknows"])
    async with running_bot(workspace, tmp_path, WHOKNOWS_LEARNING_EMOJI="mortar_board") as rt:
        conv = rt.store.conversation
        created = await post(workspace, "bob", room.id, f"the {word()} exporter needs the new token format")
        await until(rt, lambda: conv.has_post(created["id"]))
        await react(workspace, "carol", created["id"], "bulb")
        await until(rt, lambda: conv.post_facts([created["id"]])[created["id"]].endorsements == 1)
        await rt.learning.settled()
        assert rt.learning.state.thread(room.id) is None and rt.learning.state.capture(created["id"]) is None

        await slash(workspace, "alice", room.id, "learn")
        await react(workspace, "alice", created["id"], "mortar_board")
        await until(rt, lambda: conv.post_facts([created["id"]])[created["id"]].endorsements == 2)  # it endorses too
        await rt.learning.settled()
        thread = rt.learning.state.thread(room.id)
        assert thread is not None
        captured = with_prop(await thread_posts(workspace, thread.root_id), PROP_CAPTURE, created["id"])
        assert len(captured) == 1 and ":mortar_board:" in captured[0]["message"]


async def test_digest_of_a_scripted_week_with_its_chart(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    vault, proxy = word(), word()
    room = make_channel(["alice", "bob", "carol", "dave", "whoknows"])
    async with running_bot(workspace, tmp_path) as rt:
        conv = rt.store.conversation
        await slash(workspace, "alice", room.id, "learn")
        before = [await post(workspace, "alice", room.id, f"the {vault} migration starts next week"),
                  await post(workspace, "bob", room.id, "morning all, standup moved to 10")]
        start = max(p["create_at"] for p in before) + 1  # the period begins after these
        q1 = await post(workspace, "carol", room.id, f"how do I rotate the {vault} signing keys safely?")
        a1 = await post(workspace, "bob", room.id, f"rotate {vault} keys with the {vault} rotate job, then reload the {proxy}", root_id=q1["id"])
        til = await post(workspace, "dave", room.id, f"TIL the {proxy} caches {vault} keys for ten minutes")
        q2 = await post(workspace, "dave", room.id, f"does anyone know why the {proxy} returns 502 after deploys?")
        a2 = await post(workspace, "alice", room.id, f"the {proxy} needs a warmup; {proxy} health checks fail first", root_id=q2["id"])
        elsewhere = await post(workspace, "carol", workspace.public_channel.id, f"{vault} {proxy} secret from another channel")
        await react(workspace, "carol", a1["id"], "white_check_mark")
        await react(workspace, "alice", til["id"], "bulb")
        await until(rt, lambda: conv.has_post(elsewhere["id"]) and conv.post_facts([til["id"]])[til["id"]].endorsements == 1
                    and conv.post_facts([a1["id"]])[a1["id"]].accepted)
        await rt.learning.settled()

        rt.services.clock = lambda: start + 7 * DAY_MS  # a week that began right after the "before" posts
        answer = await slash(workspace, "carol", room.id, "digest")
        assert "digest is in the learning thread" in answer["text"]
        thread = rt.learning.state.thread(room.id)
        assert thread is not None
        digests = with_prop(await thread_posts(workspace, thread.root_id), PROP_DIGEST)
        assert len(digests) == 1
        text = digests[0]["message"]

    learned, rest = text.split("**Topics that came up most**")
    assert "caches" in learned and "**dave**" in learned and "flagged by alice" in learned
    assert vault in rest and proxy in rest
    assert "**bob** helped carol" in rest
    assert "rotate the" in rest and "502 after deploys" in rest and "answered by alice" in rest
    assert "**New voices**: carol, dave." in rest
    assert "another channel" not in text and "standup" not in text and "@" not in text

    files = digests[0].get("file_ids") or []
    assert len(files) == 1
    png = await call(workspace, "alice", "GET", f"/files/{files[0]}")
    assert png.status_code == 200 and png.content.startswith(PNG_SIGNATURE) and 5_000 < len(png.content) < 200_000
    info = (await call(workspace, "alice", "GET", f"/files/{files[0]}/info")).json()
    assert (info["width"], info["height"]) == (800, 450)


async def test_restart_in_the_middle_of_a_digest_does_not_post_it_twice(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    room = make_channel(["alice", "bob", "whoknows"])
    topic = word()
    async with running_bot(workspace, tmp_path) as rt:
        await slash(workspace, "alice", room.id, "learn")
        created = [await post(workspace, "bob", room.id, f"{topic} runbook step {n}: drain {topic} first") for n in range(3)]
        await until(rt, lambda: all(rt.store.conversation.has_post(p["id"]) for p in created))
        due = latest_run(parse_schedule("weekly:MON:09:00"), rt.services.clock() + 7 * DAY_MS)
        assert due is not None

        def crash(post_id: str) -> None:
            raise RuntimeError(f"simulated crash after posting {post_id}")

        rt.digests.after_post = crash
        rt.services.clock = lambda: due + 1000
        with pytest.raises(RuntimeError, match="simulated crash"):
            await rt.digests.tick()
        key = f"{room.id}:scheduled:{due}"
        assert (run := rt.learning.state.digest(key)) is not None and run.status == "posting"

    async with running_bot(workspace, tmp_path) as rt:
        rt.services.clock = lambda: due + 2000
        await rt.digests.tick()
        await rt.digests.tick()
        run = rt.learning.state.digest(key)
        thread = rt.learning.state.thread(room.id)
        assert run is not None and run.status == "done" and thread is not None
        digests = with_prop(await thread_posts(workspace, thread.root_id), PROP_DIGEST, key)
        assert [d["id"] for d in digests] == [run.post_id]

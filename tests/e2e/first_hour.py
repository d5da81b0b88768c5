"""The first hour of a new user, as scenarios both modes run against the real server (test_bot_first_hour.py and
test_plugin_first_hour.py): a bare username shows that person; `me` says when you are opted out; a person's card
lists topics, not names or filler; Chinese and German words are found inside posts; a long text is said to be
shortened; on-demand digests have a limit; a :bulb: where there is no learning thread creates none.

Each scenario gets the running service (`rt`, bot or plugin mode) and makes its own person and words, so what
other tests posted in the same channels cannot change what it sees."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from whoknows.service.runtime import Runtime

from .bootstrap import Api, User, Workspace, password_for
from .botfixture import call, card_text, listen, post, posted, slash
from .conftest import MakeChannel

Until = Callable[[Runtime, Callable[[], bool]], Any]


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


def new_person(ws: Workspace) -> User:
    """Someone who just joined: in the team and its public channel, known to the helpers by username."""
    name = f"zu{uuid.uuid4().hex[:8]}"
    with Api(ws.url, ws.admin.token) as admin:
        created = admin.post("/users", {"username": name, "email": f"{name}@whoknows.test", "password": password_for(name)})
        admin.post(f"/teams/{ws.team_id}/members", {"team_id": ws.team_id, "user_id": created["id"]})
        admin.post(f"/channels/{ws.public_channel.id}/members", {"user_id": created["id"]})
        token = admin.post(f"/users/{created['id']}/tokens", {"description": "e2e"})["token"]
    person = User(created["id"], name, password_for(name), token)
    ws.everyone[name] = person
    return person


async def a_username_alone_shows_the_person(ws: Workspace, rt: Runtime, until: Until) -> None:
    topic, channel = word(), ws.public_channel.id
    zu = new_person(ws)
    said = [await post(ws, zu.username, channel, text) for text in (
        f"the {topic} exporter needs a restart after {topic} upgrades", f"@bob can you review the {topic} exporter alerts",
        "thanks bob, ask @carol and dave about it", "bob bob bob", "lol lol", "+1 +1", "the the")]
    said.append(await post(ws, "dave", channel, "morning"))  # dave is someone here: he has posted
    await until(rt, lambda: rt.store.conversation.has_post(said[-1]["id"]))

    bare = await slash(ws, "carol", channel, zu.username)
    at = await slash(ws, "carol", channel, f"@{zu.username}")
    assert "Known for" in at["text"] and topic in at["text"], at
    heading, known_for = (next(line for line in at["text"].splitlines() if line.startswith(start)) for start in ("####", "Known for"))
    assert heading in bare["text"] and known_for in bare["text"], bare  # the same card as @name
    for noise in ("bob", "carol", "dave", "lol", "the,", "+1"):
        assert noise not in known_for, known_for

    # Once a post names them, the word is a topic too: the card finds that post, and says it is also a name.
    mention = await post(ws, "dave", channel, f"ask {zu.username} about the {topic} exporter")
    await until(rt, lambda: rt.store.conversation.has_post(mention["id"]))
    as_topic = await slash(ws, "carol", channel, zu.username)
    assert "dave" in card_text(as_topic) and f"`/whoknows @{zu.username}`" in as_topic["text"], as_topic


async def me_says_when_you_are_opted_out(ws: Workspace, rt: Runtime, until: Until) -> None:
    channel = ws.public_channel.id
    zu = new_person(ws)
    said = await post(ws, zu.username, channel, f"the {word()} dashboards live in grafana")
    await until(rt, lambda: rt.store.conversation.has_post(said["id"]))
    assert "opted out" not in (await slash(ws, zu.username, channel, "me"))["text"]
    await slash(ws, zu.username, channel, "optout")
    me = (await slash(ws, zu.username, channel, "me"))["text"]
    assert "You are opted out" in me and "/whoknows optin" in me and zu.username in me, me
    await slash(ws, zu.username, channel, "optin")
    assert "opted out" not in (await slash(ws, zu.username, channel, "me"))["text"]


async def words_in_other_languages_are_found_inside_posts(ws: Workspace, rt: Runtime, until: Until) -> None:
    channel = ws.public_channel.id
    zu = new_person(ws)
    said = [await post(ws, zu.username, channel, "我们明天做数据库迁移，记得先备份"),
            await post(ws, zu.username, channel, "Die Verbindungen zum Server brechen nach dem Update ab")]
    await until(rt, lambda: rt.store.conversation.has_post(said[-1]["id"]))
    for query in ("数据库迁移", "迁移", "Verbindung"):
        assert zu.username in card_text(await slash(ws, "carol", channel, query)), query


async def a_long_text_is_said_to_be_shortened(ws: Workspace, rt: Runtime, until: Until) -> None:
    topic, channel = word(), ws.public_channel.id
    said = await post(ws, "bob", channel, f"the {topic} proxy caches certificates")
    await until(rt, lambda: rt.store.conversation.has_post(said["id"]))
    typed = f"{topic} " * 1000  # 11,000 characters: 4,000 falls inside a word
    answer = await slash(ws, "carol", channel, typed)
    text = answer["text"]
    assert "Your text was long" in text and "last whole word" in text, text[:500]
    assert f"Who knows about {topic}?" in text, text[:500]  # the heading shows whole words only
    assert "bob" in card_text(answer)


async def digests_on_demand_have_a_limit(ws: Workspace, rt: Runtime, make_channel: MakeChannel, until: Until,
                                         members: tuple[str, ...]) -> None:
    room = make_channel(["alice", "bob", "carol", *members])  # alice creates it: she is its channel admin
    said = await post(ws, "bob", room.id, f"the {word()} rotation job runs at noon")
    await until(rt, lambda: rt.store.conversation.has_post(said["id"]))  # the new channel is read by now
    assert "pinned" in (await slash(ws, "alice", room.id, "learn"))["text"]
    first = await slash(ws, "bob", room.id, "digest")
    second = await slash(ws, "carol", room.id, "digest")
    assert "digest is in the learning thread" in first["text"], first
    assert "the next one can be posted in 60 minutes" in second["text"], second
    admin = await slash(ws, "alice", room.id, "digest")
    assert "digest is in the learning thread" in admin["text"], admin  # channel admins are not limited
    thread = rt.learning.state.thread(room.id)
    assert thread is not None
    replies = (await call(ws, "alice", "GET", f"/posts/{thread.root_id}/thread")).json()["posts"].values()
    assert len([p for p in replies if "whoknows_digest" in (p.get("props") or {})]) == 2


async def a_reaction_without_a_learning_thread_creates_none(ws: Workspace, rt: Runtime, make_channel: MakeChannel,
                                                            until: Until, members: tuple[str, ...], *, notes_allowed: bool) -> None:
    """`notes_allowed`: the bot may post ephemeral notes (plugin mode; a bot account needs create_post_ephemeral)."""
    room = make_channel(["alice", "bob", "carol", *members])
    conv = rt.store.conversation
    said = [await post(ws, "bob", room.id, f"the {word()} cache must be warmed first"), await post(ws, "bob", room.id, "and checked")]
    await until(rt, lambda: conv.has_post(said[-1]["id"]))
    async with listen(ws, "carol") as wait:
        for one in said:  # carol flags two posts
            reaction = {"user_id": ws.users["carol"].id, "post_id": one["id"], "emoji_name": "bulb"}
            answer = await call(ws, "carol", "POST", "/reactions", reaction)
            assert answer.status_code == 200, answer.text
            await until(rt, lambda: all(conv.post_facts([p["id"]])[p["id"]].endorsements for p in said[:said.index(one) + 1]))
            await rt.learning.settled()
        marker = await post(ws, "carol", room.id, "marker")
        notes: list[dict[str, Any]] = []
        while True:  # everything carol's websocket got up to her own marker post, in order
            event = posted(await wait(lambda e: bool(posted(e))))
            if event.get("id") == marker["id"]:
                break
            if event.get("user_id") == ws.bot.id:
                notes.append(event)
    assert rt.learning.state.thread(room.id) is None
    pinned = (await call(ws, "alice", "GET", f"/channels/{room.id}/pinned")).json()["posts"].values()
    assert not [p for p in pinned if p["user_id"] == ws.bot.id]
    if not notes_allowed:
        assert notes == []
        return
    assert len(notes) == 1 and "no learning thread" in notes[0]["message"] and "/whoknows learn" in notes[0]["message"], notes


__all__ = [
    "a_long_text_is_said_to_be_shortened", "a_reaction_without_a_learning_thread_creates_none", "a_username_alone_shows_the_person",
    "digests_on_demand_have_a_limit", "me_says_when_you_are_opted_out", "new_person", "word",
    "words_in_other_languages_are_found_inside_posts",
]

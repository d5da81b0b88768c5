"""The bot's end-to-end scenarios in plugin mode: the real bundle uploaded and enabled on the real server, the real
whoknows service behind it (ServiceURL), events only from the plugin's hooks, the server reached only through the
plugin's /service routes. Waits are on the service's own state (its writer), never a sleep.
"""

from __future__ import annotations

import statistics
import time
import uuid
from pathlib import Path

import httpx

from whoknows.adapters.plugin_link import SECRET_HEADER, USER_HEADER
from whoknows.app.signing import sign

from .bootstrap import Api
from .botfixture import call, card_text, listen, post, posted, slash
from .conftest import MakeChannel, _note
from .plugin_bundle import PLUGIN_ID, SECRET, configure, disable, enable, installed_plugin, plugin_bundle
from .plugin_mode import Link, actions_of, plugin_runtime, service_link, until

__all__ = ["installed_plugin", "plugin_bundle", "service_link"]  # fixtures, imported for pytest


def word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


async def test_posts_edits_deletions_and_reactions_reach_the_index(service_link: Link, tmp_path: Path) -> None:
    ws = service_link.installed.workspace
    channel = ws.public_channel.id
    async with plugin_runtime(service_link, tmp_path) as rt:
        assert rt.link is not None and not rt.ws.connected.is_set(), "plugin mode opens no websocket"
        conv = rt.store.conversation
        created = await post(ws, "alice", channel, f"the {word()} exporter needs a restart after upgrades")
        await until(rt, lambda: conv.has_post(created["id"]))
        edited = await call(ws, "alice", "PUT", f"/posts/{created['id']}/patch", {"message": "the exporter needs two restarts"})
        assert edited.status_code == 200
        await until(rt, lambda: "two restarts" in conv.post_facts([created["id"]])[created["id"]].message)
        reacted = await call(ws, "bob", "POST", "/reactions", {"user_id": ws.users["bob"].id, "post_id": created["id"],
                                                                 "emoji_name": "bulb"})
        assert reacted.status_code == 200
        await until(rt, lambda: conv.post_facts([created["id"]])[created["id"]].endorsements == 1)
        assert (await call(ws, "alice", "DELETE", f"/posts/{created['id']}")).status_code == 200
        await until(rt, lambda: not conv.has_post(created["id"]))


async def test_whoknows_cards_and_buttons_through_the_plugin(service_link: Link, tmp_path: Path) -> None:
    ws = service_link.installed.workspace
    topic, channel = word(), ws.public_channel.id
    async with plugin_runtime(service_link, tmp_path) as rt:
        for who in ("alice", "bob", "dave", "alice"):
            created = await post(ws, who, channel, f"notes on the {topic} pipeline from {who}")
        await until(rt, lambda: rt.store.conversation.has_post(created["id"]))
        async with listen(ws, "carol") as wait:
            reply = await slash(ws, "carol", channel, topic)
            assert "alice" in card_text(reply) and set(actions_of(reply)) == {"ask", "nothelpful", "more"}
            card = posted(await wait(lambda e: bool(posted(e)) and bool(actions_of(posted(e)))))
            buttons = actions_of(card)

            async def click(action_id: str) -> httpx.Response:
                return await call(ws, "carol", "POST", f"/posts/{card['id']}/actions/{action_id}", {"cookie": buttons[action_id].get("cookie", "")})

            assert (await click("ask")).status_code == 200
            asked = posted(await wait(lambda e: posted(e).get("user_id") == ws.bot.id and "is asking" in posted(e).get("message", "")))
            assert "@carol" in asked["message"] and asked["channel_id"] == channel
            assert (await click("nothelpful")).status_code == 200
        key = rt.store.engine.ask(topic, now=0).topic.key
        await until(rt, lambda: bool(rt.store.conversation.rejections(key)))
        assert "optout" in card_text(await slash(ws, "carol", channel, "help"))


ROTATE = ("how do I rotate the {t} signing keys, case {n}?", "rotate {t} keys with the {t} rotate job, then reload",
          "who knows how to rotate {t} keys safely?")
RENEW = ("where do we renew the {t} certificate bundle, case {n}?", "renew {t} certificates with the {t} renew script, then restart",
         "does anyone know how the {t} certificate bundle gets renewed?")
"""Two vocabularies, so the people answering in one room are no match for the other room's question."""


async def seed_answers(link: Link, room_id: str, topic: str, answerer: str, texts: tuple[str, str, str]) -> None:
    ws = link.installed.workspace
    for n in range(3):
        question = await post(ws, "carol", room_id, texts[0].format(t=topic, n=n))
        await post(ws, answerer, room_id, texts[1].format(t=topic, n=n), root_id=question["id"])
    await post(ws, "dave", room_id, f"we use {topic} as well {topic}")


async def test_inline_suggestions_in_both_modes(service_link: Link, make_channel: MakeChannel, tmp_path: Path) -> None:
    ws = service_link.installed.workspace
    threaded, noted = make_channel(["alice", "bob", "carol", "dave"]), make_channel(["alice", "bob", "carol", "dave"])
    first, second = word(), word()
    await seed_answers(service_link, threaded.id, first, "bob", ROTATE)
    await seed_answers(service_link, noted.id, second, "alice", RENEW)
    async with plugin_runtime(service_link, tmp_path) as rt:
        async with listen(ws, "alice") as wait:
            asked = await post(ws, "dave", threaded.id, ROTATE[2].format(t=first))
            note = posted(await wait(lambda e: posted(e).get("root_id") == asked["id"] and posted(e).get("user_id") == ws.bot.id))
        assert "bob" in note["message"] and "dave" not in note["message"]

        # The System Console's change reaches the running service (people just named are not quiet any more either).
        assert configure(service_link.installed.admin, SuggestionMode="ephemeral", SuggestionPersonMinutes=0).status_code == 200
        try:
            await until(rt, lambda: rt.settings.suggestion_mode == "ephemeral" and rt.settings.suggestion_person_minutes == 0)
            async with listen(ws, "dave") as wait:
                asked = await post(ws, "dave", noted.id, RENEW[2].format(t=second))
                note = posted(await wait(lambda e: e.get("event") == "ephemeral_message" and posted(e).get("user_id") == ws.bot.id))
            assert "alice" in note["message"] and note["channel_id"] == noted.id
        finally:
            assert configure(service_link.installed.admin, SuggestionMode="thread", SuggestionPersonMinutes=60).status_code == 200


async def test_consent_private_only_after_the_bot_is_added_never_a_dm_and_opt_out(
    service_link: Link, make_channel: MakeChannel, tmp_path: Path
) -> None:
    ws = service_link.installed.workspace
    topic = word()
    room = make_channel(["alice", "carol"], private=True)  # no bot
    before = await post(ws, "alice", room.id, f"the {topic} budget is frozen until May")
    async with plugin_runtime(service_link, tmp_path) as rt:
        conv = rt.store.conversation
        with Api(ws.url, ws.users["alice"].token) as alice:
            dm = alice.post("/channels/direct", [ws.users["alice"].id, ws.users["dave"].id])
        secret_dm = await post(ws, "alice", dm["id"], f"between us the {topic} vendor is late")
        during = await post(ws, "alice", room.id, f"the {topic} budget moves to June")
        marker = await post(ws, "dave", ws.public_channel.id, f"marker {topic}")
        await until(rt, lambda: conv.has_post(marker["id"]))  # the plugin sends in order: the others were sent first
        assert not any(conv.has_post(p["id"]) for p in (before, during, secret_dm)) and room.id not in rt.indexed
        assert "alice" not in card_text(await slash(ws, "carol", ws.public_channel.id, f"{topic} budget"))

        with Api(ws.url, ws.admin.token) as admin:
            admin.post(f"/channels/{room.id}/members", {"user_id": ws.bot.id})
        await until(rt, lambda: conv.has_post(before["id"]) and conv.has_post(during["id"]))
        assert not conv.has_post(secret_dm["id"])
        assert "alice" in card_text(await slash(ws, "carol", ws.public_channel.id, f"{topic} budget"))
        assert "alice" not in card_text(await slash(ws, "dave", ws.public_channel.id, f"{topic} budget")), "dave cannot read it"

        assert "alice" in card_text(await slash(ws, "carol", ws.public_channel.id, f"{topic} budget"))
        await slash(ws, "alice", ws.public_channel.id, "optout")
        assert "alice" not in card_text(await slash(ws, "carol", ws.public_channel.id, f"{topic} budget"))
        await slash(ws, "alice", ws.public_channel.id, "optin")


async def test_a_forged_request_cannot_act_as_another_person(service_link: Link, tmp_path: Path) -> None:
    ws = service_link.installed.workspace
    carol, dave = ws.users["carol"], ws.users["dave"]
    channel = ws.public_channel.id
    async with plugin_runtime(service_link, tmp_path) as rt:
        service = f"http://127.0.0.1:{rt.http_port}/plugin/v1"
        for_dave = sign(rt.state.action_secret(), {"a": "nothelpful", "t": "kafka", "u": dave.id, "c": channel, "p": [carol.id], "o": 0},
                        expires_at=int(time.time() * 1000) + 60_000)
        command = {"user_id": dave.id, "channel_id": channel, "team_id": ws.team_id, "command": "/whoknows optout"}
        async with httpx.AsyncClient(timeout=10) as c:
            no_secret = await c.post(f"{service}/command", json=command, headers={USER_HEADER: dave.id})
            wrong = await c.post(f"{service}/command", json=command, headers={USER_HEADER: dave.id, SECRET_HEADER: "x" * 43})
            event = await c.post(f"{service}/events", json={"kind": "user", "user": {"id": dave.id, "username": "mallory"}})
            mismatch = await c.post(f"{service}/command", json=command, headers={USER_HEADER: carol.id, SECRET_HEADER: SECRET})
            # Through the server: the plugin overwrites the body's user_id with the session's, so carol cannot use
            # dave's button, whatever she puts in the body or the headers.
            as_carol = await c.post(f"{ws.url}/plugins/{PLUGIN_ID}/actions/action",
                                    json={"user_id": dave.id, "context": {"s": for_dave}},
                                    headers={"Authorization": f"Bearer {carol.token}", USER_HEADER: dave.id})
            as_dave = await c.post(f"{ws.url}/plugins/{PLUGIN_ID}/actions/action", json={"context": {"s": for_dave}},
                                   headers={"Authorization": f"Bearer {dave.token}"})
            session_as_secret = await c.get(f"{service_link.installed.route}/service/api/v4/users/me",
                                            headers={"Authorization": f"Bearer {carol.token}"})
        assert [no_secret.status_code, wrong.status_code, event.status_code] == [401, 401, 401]
        assert mismatch.status_code == 400 and "differ" in mismatch.json()["error"]
        assert not rt.store.conversation.people([dave.id])[dave.id].opted_out
        assert as_carol.status_code == 403, as_carol.text
        assert as_dave.status_code == 200, as_dave.text  # the same button works for its owner
        assert session_as_secret.status_code == 401


async def test_learning_thread_and_digest_through_the_plugin(service_link: Link, make_channel: MakeChannel, tmp_path: Path) -> None:
    ws = service_link.installed.workspace
    topic = word()
    room = make_channel(["alice", "bob", "carol"])  # alice is its channel admin; the bot is not a member
    async with plugin_runtime(service_link, tmp_path) as rt:
        made = await slash(ws, "alice", room.id, "learn Platform lessons")
        thread = rt.learning.state.thread(room.id)
        assert thread is not None and "pinned" in made["text"], made
        taught = await post(ws, "bob", room.id, f"the {topic} cache must be warmed before failover")
        await until(rt, lambda: rt.store.conversation.has_post(taught["id"]))
        assert (await call(ws, "carol", "POST", "/reactions", {"user_id": ws.users["carol"].id, "post_id": taught["id"],
                                                                  "emoji_name": "bulb"})).status_code == 200
        await until(rt, lambda: rt.store.conversation.post_facts([taught["id"]])[taught["id"]].endorsements == 1)
        await rt.learning.settled()
        replies = (await call(ws, "alice", "GET", f"/posts/{thread.root_id}/thread")).json()["posts"].values()
        assert any("warmed before failover" in p["message"] and p["user_id"] == ws.bot.id for p in replies)
        digest = await slash(ws, "alice", room.id, "digest")
        assert digest["response_type"] == "ephemeral" and digest["text"], digest


async def test_disable_enable_and_server_restart_lose_nothing(service_link: Link, tmp_path: Path) -> None:
    installed = service_link.installed
    ws, channel = installed.workspace, installed.workspace.public_channel.id
    async with plugin_runtime(service_link, tmp_path) as rt:
        assert rt.link is not None
        conv, pushed = rt.store.conversation, rt.link.configured
        disable(installed.admin)
        missed = await post(ws, "bob", channel, f"posted while the plugin was off {word()}")  # no hook heard it
        enable(installed.admin)
        await until(rt, lambda: conv.has_post(missed["id"]))  # the re-enabled plugin pushed its configuration: catch-up
        assert rt.link.configured > pushed

        installed.server.restart()
        after = await post(ws, "bob", channel, f"posted after the server restart {word()}")
        await until(rt, lambda: conv.has_post(after["id"]), timeout=90.0)  # by its hook, or the catch-up after activation
        assert conv.has_post(missed["id"])


async def test_hook_to_searchable_timing(service_link: Link, tmp_path: Path) -> None:
    """Measures, never asserts, how long a post takes from its REST call (the hook fires inside it) to searchable."""
    ws = service_link.installed.workspace
    async with plugin_runtime(service_link, tmp_path) as rt:
        conv, took = rt.store.conversation, []
        for n in range(50):
            began = time.monotonic()
            created = await post(ws, "alice", ws.public_channel.id, f"timing post {n} about {word()}")
            await until(rt, lambda: conv.has_post(created["id"]))
            took.append((time.monotonic() - began) * 1000)
        took.sort()
        p95 = took[int(len(took) * 0.95) - 1]
        _note(service_link.installed.server, f"plugin mode, hook to searchable over {len(took)} posts: p50 "
                                             f"{statistics.median(took):.0f} ms, p95 {p95:.0f} ms, max {took[-1]:.0f} ms")
        assert len(took) == 50

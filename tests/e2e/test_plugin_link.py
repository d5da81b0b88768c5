"""The Go plugin against the real server, with its real uploaded bundle, linked by ServiceURL to a stand-in service.

What only the Go side can show: it activates, ensures its bot (which joins no channel), registers /whoknows with the
service's autocomplete, turns hooks into the documented JSON with the shared secret, keeps direct messages and private
channels without the bot to itself, takes the caller only from the server, refuses bad settings by name, and comes
back after a disable/enable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .botfixture import listen, posted
from .bootstrap import Channel, User
from .conftest import MakeChannel
from .plugin_bundle import (
    PLUGIN_ID,
    RUNNING,
    SECRET,
    Installed,
    configure,
    disable,
    enable,
    fake_service,
    installed_plugin,
    plugin_bundle,
    plugin_settings,
    plugin_state,
)
from .plugin_service import REFUSAL, TABLE, FakeService, Request

__all__ = ["fake_service", "installed_plugin", "plugin_bundle"]  # fixtures, imported for pytest


@pytest.fixture(scope="module")
def linked(installed_plugin: Installed, fake_service: FakeService) -> Iterator[Installed]:
    """The plugin pointed at the stand-in service, after the handshake (table fetched, configuration handed over)."""
    answer = configure(installed_plugin.admin, ServiceURL=fake_service.url, ServiceSecret=SECRET)
    assert answer.status_code == 200, answer.text
    fake_service.recorder.wait_for(lambda r: r.path == "/plugin/v1/config" and r.method == "POST")
    yield installed_plugin


def person(linked: Installed, name: str) -> User:
    return linked.workspace.users[name]


def post_as(linked: Installed, name: str, channel_id: str, message: str) -> dict[str, Any]:
    with person(linked, name).api(linked.server.url) as api:
        created: dict[str, Any] = api.post("/posts", {"channel_id": channel_id, "message": message})
    return created


def event_for(fake: FakeService, kind: str, post_id: str) -> Request:
    def match(r: Request) -> bool:
        if r.kind != kind or not isinstance(r.body, dict):
            return False
        obj = r.body.get("post") or r.body.get("reaction") or {}
        return bool(obj.get("id") == post_id or obj.get("post_id") == post_id)

    return fake.recorder.wait_for(match)


def forwarded_ids(fake: FakeService) -> set[str]:
    return {str((r.body.get("post") or {}).get("id")) for r in fake.recorder.events() if isinstance(r.body, dict)}


def marker(linked: Installed, fake: FakeService) -> None:
    """A post in the public channel, waited for: the plugin sends events in order, so whatever it would have sent
    before this has arrived by now."""
    sent = post_as(linked, "dave", linked.workspace.public_channel.id, "marker post")
    event_for(fake, "posted", sent["id"])


def test_plugin_activates_and_its_bot_exists(linked: Installed, fake_service: FakeService) -> None:
    assert linked.manifest["id"] == PLUGIN_ID and plugin_state(linked.admin) == RUNNING
    bot = linked.admin.get("/users/username/whoknows")
    assert bot["is_bot"] is True
    assert bot["last_picture_update"] > 0, "the plugin sets the bot's icon from webapp-assets"
    # The plugin answers for its bot on the service's route.
    with httpx.Client(timeout=10) as c:
        me = c.get(f"{linked.route}/service/api/v4/users/me", headers={"Authorization": f"Bearer {SECRET}"})
    assert me.status_code == 200 and me.json()["id"] == bot["id"]
    # The handshake handed the service the configuration and who the bot is.
    pushed = fake_service.recorder.wait_for(lambda r: r.path == "/plugin/v1/config" and r.method == "POST")
    assert pushed.headers["x-whoknows-secret"] == SECRET
    assert pushed.body["bot_user_id"] == bot["id"] and pushed.body["plugin_url"].endswith(f"/plugins/{PLUGIN_ID}")
    assert pushed.body["settings"]["CardPeople"] == 3 and pushed.body["settings"]["SuggestionMode"] == "thread"


def test_the_bot_joins_no_channel(linked: Installed, fake_service: FakeService) -> None:
    bot = linked.workspace.bot
    before = {c["id"] for c in linked.admin.get(f"/users/{bot.id}/teams/{linked.workspace.team_id}/channels")}
    disable(linked.admin)
    enable(linked.admin)
    fake_service.recorder.wait_for(lambda r: r.path == "/plugin/v1/config", timeout=30)
    marker(linked, fake_service)
    after = {c["id"] for c in linked.admin.get(f"/users/{bot.id}/teams/{linked.workspace.team_id}/channels")}
    assert after == before


def test_whoknows_is_registered_with_the_services_autocomplete(linked: Installed) -> None:
    alice = person(linked, "alice")
    channel = linked.workspace.public_channel.id
    with alice.api(linked.server.url) as api:
        found = api.get(f"/teams/{linked.workspace.team_id}/commands/autocomplete_suggestions"
                        f"?channel_id={channel}&user_input=/whoknows%20")
    names = {s.get("Suggestion") or s.get("suggestion") for s in found}
    assert {sub["name"] for sub in TABLE["subcommands"]} <= names, found
    person_row = next(s for s in found if (s.get("Suggestion") or s.get("suggestion")) == "person")
    assert (person_row.get("Hint") or person_row.get("hint")) == "@someone"


def test_a_command_reaches_the_service_with_the_callers_id(linked: Installed, fake_service: FakeService) -> None:
    alice = person(linked, "alice")
    with alice.api(linked.server.url) as api:
        answer = api.post("/commands/execute", {"channel_id": linked.workspace.public_channel.id,
                                                "command": "/whoknows me"})
    assert answer["text"] == f"service saw {alice.id} as {alice.id}"
    sent = fake_service.recorder.wait_for(lambda r: r.path == "/plugin/v1/command")
    assert sent.body["command"] == "/whoknows me" and sent.body["team_id"] == linked.workspace.team_id


def test_post_edit_reaction_and_delete_reach_the_service(linked: Installed, fake_service: FakeService) -> None:
    channel = linked.workspace.public_channel.id
    alice = person(linked, "alice")
    created = post_as(linked, "alice", channel, "How do I rotate the postgres password?")
    posted = event_for(fake_service, "posted", created["id"])
    assert posted.headers["x-whoknows-secret"] == SECRET
    assert posted.body["channel_type"] == "O"
    assert posted.body["post"]["message"] == "How do I rotate the postgres password?"
    assert posted.body["post"]["user_id"] == alice.id and posted.body["post"]["channel_id"] == channel
    with alice.api(linked.server.url) as api:
        api.call("PUT", f"/posts/{created['id']}/patch", {"message": "How do I rotate the replication password?"})
        edited = event_for(fake_service, "edited", created["id"])
        assert edited.body["post"]["message"] == "How do I rotate the replication password?"
        assert edited.body["post"]["edit_at"] > 0
        api.post("/reactions", {"user_id": alice.id, "post_id": created["id"], "emoji_name": "bulb"})
        added = event_for(fake_service, "reaction_added", created["id"])
        assert added.body["reaction"]["emoji_name"] == "bulb" and added.body["reaction"]["user_id"] == alice.id
        api.call("DELETE", f"/users/{alice.id}/posts/{created['id']}/reactions/bulb")
        event_for(fake_service, "reaction_removed", created["id"])
        api.call("DELETE", f"/posts/{created['id']}")
        deleted = event_for(fake_service, "deleted", created["id"])
        assert deleted.body["post"]["delete_at"] > 0


def test_direct_and_group_messages_are_never_forwarded(linked: Installed, fake_service: FakeService) -> None:
    alice, bob, carol = (person(linked, n) for n in ("alice", "bob", "carol"))
    with alice.api(linked.server.url) as api:
        direct = api.post("/channels/direct", [alice.id, bob.id])
        group = api.post("/channels/group", [alice.id, bob.id, carol.id])
    secrets = [post_as(linked, "alice", c["id"], "my salary is ...")["id"] for c in (direct, group)]
    marker(linked, fake_service)
    assert not set(secrets) & forwarded_ids(fake_service)


def test_a_private_channel_is_forwarded_only_once_the_bot_is_in_it(
    linked: Installed, fake_service: FakeService, make_channel: MakeChannel,
) -> None:
    private: Channel = make_channel(["alice", "bob"], private=True)
    before = post_as(linked, "alice", private.id, "before the bot was added")["id"]
    marker(linked, fake_service)
    assert before not in forwarded_ids(fake_service)
    bot = linked.workspace.bot
    linked.admin.post(f"/channels/{private.id}/members", {"user_id": bot.id})
    added = fake_service.recorder.wait_for(
        lambda r: r.kind == "member_added" and r.body["member"]["user_id"] == bot.id
        and r.body["member"]["channel_id"] == private.id)
    assert added.body["channel_type"] == "P"
    after = post_as(linked, "alice", private.id, "after the bot was added")
    assert event_for(fake_service, "posted", after["id"]).body["channel_type"] == "P"


def test_button_actions_take_the_caller_only_from_the_server(linked: Installed, fake_service: FakeService) -> None:
    alice, bob = person(linked, "alice"), person(linked, "bob")
    url = f"{linked.route}/actions/more"
    with httpx.Client(timeout=10) as c:
        anonymous = c.post(url, json={"user_id": bob.id})
        # A client cannot set the header the server sets: the server drops it.
        forged_header = c.post(url, json={}, headers={"Mattermost-User-Id": bob.id})
        forged_body = c.post(url, json={"user_id": bob.id, "user_name": "bob"},
                             headers={"Authorization": f"Bearer {alice.token}"})
    assert anonymous.status_code == 401 and forged_header.status_code == 401
    assert forged_body.status_code == 200 and forged_body.json()["ephemeral_text"] == f"clicked by {alice.id}"
    actions = fake_service.recorder.matching(lambda r: r.path.startswith("/plugin/v1/actions/"))
    assert len(actions) == 1, "refused requests must not reach the service"
    assert actions[0].headers["x-whoknows-user-id"] == alice.id and actions[0].body["user_id"] == alice.id


async def test_a_real_button_click_reaches_the_service_as_the_clicker(linked: Installed, fake_service: FakeService) -> None:
    channel = linked.workspace.public_channel.id
    card = {"channel_id": channel, "message": "", "props": {"attachments": [{"text": "who knows postgres", "actions": [
        {"id": "showmore", "name": "Show more", "integration": {
            "url": f"/plugins/{PLUGIN_ID}/actions/more", "context": {"card": "c1"}}}]}]}}
    with httpx.Client(timeout=10) as c:
        made = c.post(f"{linked.route}/service/api/v4/posts", json=card, headers={"X-Whoknows-Secret": SECRET})
    assert made.status_code == 201, made.text
    assert made.json()["user_id"] == linked.workspace.bot.id
    carol = person(linked, "carol")
    async with listen(linked.workspace, "carol") as wait:
        with carol.api(linked.server.url) as api:
            answer = api.post(f"/posts/{made.json()['id']}/actions/showmore", {})
        assert answer["status"] == "OK"
        # The service's ephemeral_text comes back to the clicker as a note only they see.
        note = posted(await wait(lambda e: e.get("event") == "ephemeral_message"
                                 and posted(e).get("message") == f"clicked by {carol.id}"))
    assert note["channel_id"] == channel
    click = fake_service.recorder.wait_for(lambda r: r.path == "/plugin/v1/actions/more"
                                          and r.headers.get("x-whoknows-user-id") == carol.id)
    assert click.body["context"]["card"] == "c1" and click.body["user_id"] == carol.id


def test_service_routes_need_the_secret_not_a_user(linked: Installed) -> None:
    alice = person(linked, "alice")
    url = f"{linked.route}/service/v1/config"
    with httpx.Client(timeout=10) as c:
        assert c.get(url).status_code == 401
        assert c.get(url, headers={"Authorization": f"Bearer {alice.token}"}).status_code == 401
        assert c.get(url, headers={"X-Whoknows-Secret": "guess"}).status_code == 401
        good = c.get(url, headers={"X-Whoknows-Secret": SECRET})
    assert good.status_code == 200 and good.json()["bot_user_id"] == linked.workspace.bot.id


def test_the_service_reads_what_the_bot_may_read_and_asks_the_server_who_may_read(
    linked: Installed, make_channel: MakeChannel,
) -> None:
    ws = linked.workspace
    without_bot = make_channel(["alice", "bob"], private=True)
    open_channel = make_channel(["alice"])
    history = post_as(linked, "alice", ws.private_channel.id, "the secret plan")["id"]
    headers = {"Authorization": f"Bearer {SECRET}"}
    base = f"{linked.route}/service/api/v4"
    with httpx.Client(timeout=10, headers=headers) as c:
        assert c.get(f"{base}/channels/{without_bot.id}/posts").status_code == 403
        assert c.get(f"{base}/channels/{without_bot.id}").status_code == 403
        posts = c.get(f"{base}/channels/{ws.private_channel.id}/posts", params={"per_page": 10})
        assert posts.status_code == 200 and history in posts.json()["posts"]
        assert c.post(f"{base}/channels/{ws.public_channel.id}/members", json={"user_id": ws.bot.id}).status_code == 403
        heard = {ch["id"] for ch in c.get(f"{base}/users/me/teams/{ws.team_id}/channels").json()}
        assert {open_channel.id, ws.public_channel.id, ws.private_channel.id} <= heard, "public ones without joining"
        assert without_bot.id not in heard

        def can_read(name: str, channel_id: str) -> bool:
            answer = c.get(f"{linked.route}/service/v1/can_read",
                           params={"user_id": ws.user(name).id, "channel_id": channel_id})
            assert answer.status_code == 200, answer.text
            return bool(answer.json()["can_read"])

        assert can_read("alice", ws.private_channel.id) and not can_read("carol", ws.private_channel.id)
        assert can_read("carol", ws.public_channel.id)
        assert can_read("dave", open_channel.id), "a public channel is readable by the team without joining it"
        note = c.post(f"{base}/posts/ephemeral", json={"user_id": ws.user("alice").id,
                                                       "post": {"channel_id": ws.public_channel.id, "message": "psst"}})
    assert note.status_code == 201 and note.json()["user_id"] == ws.bot.id and note.json()["message"] == "psst"


def test_a_bad_setting_is_refused_with_its_name(linked: Installed, fake_service: FakeService) -> None:
    typed = configure(linked.admin, CardPeople="three")
    assert typed.status_code == 400 and "CardPeople" in typed.json()["message"], typed.text
    by_service = configure(linked.admin, CardPeople=0)
    assert by_service.status_code == 400 and REFUSAL in by_service.json()["message"], by_service.text
    assert plugin_settings(linked.admin).get("cardpeople", 3) == 3
    good = configure(linked.admin, CardPeople=4)
    assert good.status_code == 200, good.text
    fake_service.recorder.wait_for(lambda r: r.path == "/plugin/v1/config" and r.body["settings"]["CardPeople"] == 4)
    configure(linked.admin, CardPeople=3)


def test_the_plugin_survives_disable_and_enable(linked: Installed, fake_service: FakeService) -> None:
    disable(linked.admin)
    with person(linked, "alice").api(linked.server.url) as api:
        gone = api.get(f"/teams/{linked.workspace.team_id}/commands/autocomplete_suggestions"
                       f"?channel_id={linked.workspace.public_channel.id}&user_input=/whoknows%20")
    assert not gone, "a disabled plugin's command is unregistered"
    handshakes = len(fake_service.recorder.matching(lambda r: r.path == "/plugin/v1/config"))
    enable(linked.admin)
    fake_service.recorder.wait_for(
        lambda r: r.path == "/plugin/v1/config" and len(fake_service.recorder.matching(
            lambda q: q.path == "/plugin/v1/config")) > handshakes)
    created = post_as(linked, "bob", linked.workspace.public_channel.id, "still there after a restart?")
    assert event_for(fake_service, "posted", created["id"]).body["post"]["user_id"] == person(linked, "bob").id




async def test_an_ephemeral_note_reaches_its_person_without_any_permission(linked: Installed) -> None:
    """SuggestionMode=ephemeral: the bot has no create_post_ephemeral permission, the plugin API needs none."""
    ws = linked.workspace
    async with listen(ws, "alice") as wait:
        with httpx.Client(timeout=10) as c:
            sent = c.post(f"{linked.route}/service/api/v4/posts/ephemeral", headers={"X-Whoknows-Secret": SECRET},
                          json={"user_id": ws.user("alice").id,
                                "post": {"channel_id": ws.public_channel.id, "message": "bob knows postgres"}})
            assert sent.status_code == 201, sent.text
            # The same request with the bot's own REST token is refused: bots lack the permission.
            with ws.bot.api(ws.url) as bot:
                refused = bot.request("POST", "/posts/ephemeral", {"user_id": ws.user("alice").id, "post": {
                    "channel_id": ws.public_channel.id, "message": "bob knows postgres"}})
        note = posted(await wait(lambda e: e.get("event") == "ephemeral_message"
                                 and posted(e).get("message") == "bob knows postgres"))
    assert note["user_id"] == ws.bot.id and note["channel_id"] == ws.public_channel.id
    assert refused.status_code == 403

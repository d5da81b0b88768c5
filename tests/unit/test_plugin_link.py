"""The plugin's hook payloads decode into the same core events as the websocket frames carrying the same objects.

The payloads below were recorded from the real plugin in the real test server (tests/e2e/test_plugin_link.py's
stand-in service), so the decoder is tested on what the Go side actually sends.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whoknows.adapters.mattermost_events import BotAdded, Decoded, Heard, NeedChannel, NeedUser, decode_event
from whoknows.adapters.plugin_link import (
    KINDS,
    BadPayload,
    Numbered,
    PluginCommand,
    PluginConfig,
    decode_command,
    decode_config,
    decode_payload,
    setting_texts,
    verify_secret,
)
from whoknows.core.events import (
    ChannelMemberAdded,
    ChannelMemberRemoved,
    PostCreated,
    PostDeleted,
    PostEdited,
    ReactionAdded,
    ReactionRemoved,
    UserUpdated,
)

BOT = 'u7r3i6jmz7d8ucgrjdquh8pfke'
ALICE = "mt97udjo83yf3dzqaz597pxg5a"
ENGINEERING = "oo5ofjec7fbpbqbumkipompebo"
QUESTION = "e99wp9z6ijgwfdb86r6w753wba"
REPLY = "zaaiou9o9ffjxfroatbm8sk47h"
PRIVATE = "u491bzs3hjr58xi7iwbmr8j96e"

POSTED = '{"kind":"posted","at":1796179183660,"channel_type":"O","post":{"id":"e99wp9z6ijgwfdb86r6w753wba","create_at":1796179183657,"update_at":1796179183657,"edit_at":0,"delete_at":0,"is_pinned":false,"user_id":"mt97udjo83yf3dzqaz597pxg5a","channel_id":"oo5ofjec7fbpbqbumkipompebo","root_id":"","original_id":"","message":"How do I rotate the postgres password?","type":"","props":{},"hashtags":"","file_ids":null,"pending_post_id":"","reply_count":0,"last_reply_at":0,"participants":null}}'
POSTED_REPLY = '{"kind":"posted","at":1796179183713,"channel_type":"O","post":{"id":"zaaiou9o9ffjxfroatbm8sk47h","create_at":1796179183704,"update_at":1796179183704,"edit_at":0,"delete_at":0,"is_pinned":false,"user_id":"mt97udjo83yf3dzqaz597pxg5a","channel_id":"oo5ofjec7fbpbqbumkipompebo","root_id":"e99wp9z6ijgwfdb86r6w753wba","original_id":"","message":"Use pg_rotate","type":"","props":{},"hashtags":"","file_ids":null,"pending_post_id":"","reply_count":1,"last_reply_at":0,"participants":null}}'
EDITED = '{"kind":"edited","at":1796179183737,"channel_type":"O","post":{"id":"e99wp9z6ijgwfdb86r6w753wba","create_at":1796179183657,"update_at":1796179183728,"edit_at":1796179183728,"delete_at":0,"is_pinned":false,"user_id":"mt97udjo83yf3dzqaz597pxg5a","channel_id":"oo5ofjec7fbpbqbumkipompebo","root_id":"","original_id":"","message":"How do I rotate the replication password?","type":"","props":{},"hashtags":"","file_ids":null,"pending_post_id":"","reply_count":1,"last_reply_at":0,"participants":null}}'
REACTION_ADDED = '{"kind":"reaction_added","at":1796179183746,"channel_type":"O","reaction":{"user_id":"mt97udjo83yf3dzqaz597pxg5a","post_id":"e99wp9z6ijgwfdb86r6w753wba","emoji_name":"bulb","create_at":1796179183744,"update_at":1796179183744,"delete_at":0,"remote_id":null,"channel_id":"oo5ofjec7fbpbqbumkipompebo"}}'
REACTION_REMOVED = '{"kind":"reaction_removed","at":1796179183754,"channel_type":"O","reaction":{"user_id":"mt97udjo83yf3dzqaz597pxg5a","post_id":"e99wp9z6ijgwfdb86r6w753wba","emoji_name":"bulb","create_at":0,"update_at":1796179183750,"delete_at":0,"remote_id":null,"channel_id":""}}'
DELETED = '{"kind":"deleted","at":1796179183760,"channel_type":"O","post":{"id":"zaaiou9o9ffjxfroatbm8sk47h","create_at":1796179183704,"update_at":1796179183704,"edit_at":0,"delete_at":1796179183760,"is_pinned":false,"user_id":"mt97udjo83yf3dzqaz597pxg5a","channel_id":"oo5ofjec7fbpbqbumkipompebo","root_id":"e99wp9z6ijgwfdb86r6w753wba","original_id":"","message":"Use pg_rotate","type":"","props":{},"hashtags":"","file_ids":null,"pending_post_id":"","reply_count":1,"last_reply_at":0,"participants":null}}'
MEMBER_ADDED = '{"kind":"member_added","at":1796179183834,"channel_type":"P","member":{"channel_id":"u491bzs3hjr58xi7iwbmr8j96e","user_id":"u7r3i6jmz7d8ucgrjdquh8pfke","roles":"channel_user","last_viewed_at":0,"msg_count":0,"mention_count":0,"mention_count_root":0,"urgent_mention_count":0,"msg_count_root":0,"notify_props":{"channel_auto_follow_threads":"off","desktop":"default","email":"default","ignore_channel_mentions":"default","mark_unread":"all","push":"default"},"last_update_at":1796179183826,"scheme_guest":false,"scheme_user":true,"scheme_admin":false,"explicit_roles":""},"actor_id":"rgj8tsksj3gqmcuhyp3zwo8hte"}'
POSTED_SYSTEM = '{"kind":"posted","at":1796179183839,"channel_type":"P","post":{"id":"kimnqwhjhbd38c4gfpztrzeopw","create_at":1796179183830,"update_at":1796179183830,"edit_at":0,"delete_at":0,"is_pinned":false,"user_id":"rgj8tsksj3gqmcuhyp3zwo8hte","channel_id":"u491bzs3hjr58xi7iwbmr8j96e","root_id":"","original_id":"","message":"whoknows added to the channel by sysadmin.","type":"system_add_to_channel","props":{"addedUserId":"u7r3i6jmz7d8ucgrjdquh8pfke","addedUsername":"whoknows","userId":"rgj8tsksj3gqmcuhyp3zwo8hte","username":"sysadmin"},"hashtags":"","file_ids":null,"pending_post_id":"","reply_count":0,"last_reply_at":0,"participants":null}}'
MEMBER_REMOVED = '{"kind":"member_removed","at":1796179183852,"channel_type":"P","member":{"channel_id":"u491bzs3hjr58xi7iwbmr8j96e","user_id":"fei5qcisn7r79jnpwkc63yjj8o","roles":"channel_user","last_viewed_at":0,"msg_count":0,"mention_count":1,"mention_count_root":1,"urgent_mention_count":0,"msg_count_root":0,"notify_props":{"channel_auto_follow_threads":"off","desktop":"default","email":"default","ignore_channel_mentions":"default","mark_unread":"all","push":"default"},"last_update_at":1796179183821,"scheme_guest":false,"scheme_user":true,"scheme_admin":false,"explicit_roles":""},"actor_id":"rgj8tsksj3gqmcuhyp3zwo8hte"}'
CHANNEL = '{"kind":"channel","at":1796179183895,"channel_type":"O","channel":{"id":"y4nzx8wfgbr68gioe6m64jj7do","create_at":1796179183883,"update_at":1796179183883,"delete_at":0,"team_id":"gjtdbf7uetnk5nfjmw3t6m8e9e","type":"O","display_name":"c-93c2ad82fd54","name":"c-93c2ad82fd54","header":"","purpose":"","last_post_at":0,"total_msg_count":0,"extra_update_at":0,"creator_id":"mt97udjo83yf3dzqaz597pxg5a","scheme_id":null,"props":null,"group_constrained":null,"autotranslation":false,"shared":null,"total_msg_count_root":0,"policy_id":null,"last_root_post_at":0,"banner_info":null,"policy_enforced":false,"policy_is_active":false,"default_category_name":""}}'
USER = '{"kind":"user","at":1796179184022,"user":{"id":"79kiinzi77yzf83dgrg91tf1be","create_at":1796179183927,"update_at":1796179183927,"delete_at":0,"username":"erin","auth_data":"","auth_service":"","email":"","nickname":"","first_name":"Erin","last_name":"Ng","position":"","roles":"system_user","locale":"en","timezone":{"automaticTimezone":"","manualTimezone":"","useAutomaticTimezone":"true"},"disable_welcome_email":false}}'


def changes(decoded: list[Decoded | Numbered] | BadPayload) -> list[Decoded | Numbered] | BadPayload:
    """What a payload changes: without the notes on how far a channel was heard (tested on their own below)."""
    return decoded if isinstance(decoded, BadPayload) else [d for d in decoded if not isinstance(d, Heard)]


def payload(recorded: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(recorded)
    body.update(changes)
    return body


def test_a_question_becomes_the_post_the_websocket_would_make() -> None:
    events = decode_payload(POSTED, BOT)
    assert changes(events) == [PostCreated(QUESTION, ENGINEERING, ALICE, "How do I rotate the postgres password?", 1796179183657)]
    frame = {"event": "posted", "data": {"post": json.dumps(json.loads(POSTED)["post"]), "channel_type": "O"}}
    assert decode_event(frame, BOT) == events, "one event path: the plugin and the websocket agree"


def test_a_reply_keeps_its_thread() -> None:
    decoded = changes(decode_payload(POSTED_REPLY, BOT))
    assert isinstance(decoded, list) and len(decoded) == 1
    reply = decoded[0]
    assert isinstance(reply, PostCreated) and reply.root_id == QUESTION and reply.message == "Use pg_rotate"


def test_edit_delete_and_reactions() -> None:
    assert changes(decode_payload(EDITED, BOT)) == [PostEdited(QUESTION, "How do I rotate the replication password?", 1796179183728)]
    assert changes(decode_payload(DELETED, BOT)) == [PostDeleted(REPLY, 1796179183760)]
    assert changes(decode_payload(REACTION_ADDED, BOT)) == [ReactionAdded(QUESTION, ALICE, "bulb", 1796179183744)]
    assert decode_payload(REACTION_REMOVED, BOT) == [ReactionRemoved(QUESTION, ALICE, "bulb")]  # no channel: not heard


def test_each_change_says_how_far_its_channel_was_heard_by_the_servers_own_clock() -> None:
    """The post's update_at (what a catch-up's `since` compares), never the plugin's send time; a deletion's copy of the
    post is from before the delete, so it moves nothing forward; bots' and system posts count too."""
    assert decode_payload(POSTED, BOT)[-1] == Heard(ENGINEERING, 1796179183657)  # type: ignore[index]
    assert decode_payload(EDITED, BOT)[-1] == Heard(ENGINEERING, 1796179183728)  # type: ignore[index]
    assert decode_payload(DELETED, BOT)[-1] == Heard(ENGINEERING, 1796179183704)  # type: ignore[index]
    assert decode_payload(REACTION_ADDED, BOT)[-1] == Heard(ENGINEERING, 1796179183744)  # type: ignore[index]
    assert decode_payload(POSTED_SYSTEM, BOT) == [Heard(PRIVATE, 1796179183830)]


def test_numbered_events_say_which_of_the_plugins_stream_they_are() -> None:
    numbered = decode_payload(payload(POSTED, seq=7, boot="b1"), BOT)
    assert isinstance(numbered, list) and numbered[0] == Numbered("b1", 7) and changes(numbered[1:]) == changes(decode_payload(POSTED, BOT))
    assert decode_payload(payload(POSTED_SYSTEM, seq=8, boot="b1"), BOT) == [Numbered("b1", 8), Heard(PRIVATE, 1796179183830)]
    for odd in ({"seq": "7", "boot": "b1"}, {"seq": 0, "boot": "b1"}, {"seq": True, "boot": "b1"}, {"seq": 7}, {"seq": 7, "boot": 3}):
        assert not any(isinstance(d, Numbered) for d in decode_payload(payload(POSTED, **odd), BOT))  # type: ignore[union-attr]


def test_the_bot_added_to_a_private_channel_starts_its_backfill() -> None:
    assert decode_payload(MEMBER_ADDED, BOT) == [ChannelMemberAdded(PRIVATE, BOT), BotAdded(PRIVATE)]
    someone = payload(MEMBER_ADDED, member={**json.loads(MEMBER_ADDED)["member"], "user_id": ALICE})
    assert decode_payload(someone, BOT) == [ChannelMemberAdded(PRIVATE, ALICE), NeedUser(ALICE)]
    assert decode_payload(MEMBER_REMOVED, BOT) == [ChannelMemberRemoved(PRIVATE, "fei5qcisn7r79jnpwkc63yjj8o")]


def test_system_messages_and_the_bots_own_posts_are_not_expertise() -> None:
    assert changes(decode_payload(POSTED_SYSTEM, BOT)) == []
    own = payload(POSTED, post={**json.loads(POSTED)["post"], "user_id": BOT})
    assert changes(decode_payload(own, BOT)) == []


@pytest.mark.parametrize("kind", ["D", "G"])
def test_direct_and_group_messages_are_dropped_even_if_sent(kind: str) -> None:
    for recorded in (POSTED, EDITED, DELETED, REACTION_ADDED, MEMBER_ADDED):
        assert decode_payload(payload(recorded, channel_type=kind), BOT) == []
    dm = payload(CHANNEL, channel={**json.loads(CHANNEL)["channel"], "type": kind})
    assert decode_payload(dm, BOT) == []


def test_a_new_channel_is_looked_up_like_the_websockets_channel_created() -> None:
    assert decode_payload(CHANNEL, BOT) == [NeedChannel("y4nzx8wfgbr68gioe6m64jj7do")]


def test_a_new_person_is_known_by_name_without_their_email() -> None:
    assert decode_payload(USER, BOT) == [UserUpdated("79kiinzi77yzf83dgrg91tf1be", "erin", "Erin Ng", False, False)]
    gone = payload(USER, user={**json.loads(USER)["user"], "delete_at": 1796179190000})
    decoded = decode_payload(gone, BOT)
    assert isinstance(decoded, list) and isinstance(decoded[0], UserUpdated) and decoded[0].deactivated


@pytest.mark.parametrize(("body", "reason"), [
    (b"{not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"kind": "exploded"}', "unknown kind"),
    ('{"post": {}}', "unknown kind"),
    ('{"kind": "posted", "post": "oops"}', "posted without a post object"),
    ('{"kind": "member_added"}', "member_added without a member object"),
    ('{"kind": "channel", "channel": null}', "channel without a channel object"),
    ('{"kind": "user", "user": {"username": "x"}}', "user without a user object"),
])
def test_malformed_payloads_are_refused_with_a_reason(body: str | bytes, reason: str) -> None:
    refused = decode_payload(body, BOT)
    assert isinstance(refused, BadPayload) and reason in refused.reason


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=20),
       st.sampled_from(KINDS))
def test_any_json_of_any_kind_decodes_or_is_refused_never_raises(junk: Any, kind: str) -> None:
    for body in (junk, {"kind": kind, "post": junk, "reaction": junk, "member": junk, "channel": junk, "user": junk,
                        "channel_type": junk}):
        result = decode_payload(json.dumps(body), BOT)
        assert isinstance(result, (list, BadPayload))


def test_the_secret_is_checked_in_constant_time_and_never_empty() -> None:
    assert verify_secret("s3cret-0123456789", "s3cret-0123456789")
    assert not verify_secret("s3cret-0123456789", "s3cret-012345678")
    assert not verify_secret("s3cret-0123456789", None)
    assert not verify_secret("", "")
    assert not verify_secret("s3cret", "s3crét")


def test_a_command_carries_the_servers_caller() -> None:
    args = {"user_id": ALICE, "channel_id": ENGINEERING, "team_id": "t1", "root_id": "", "command": "/whoknows me",
            "trigger_id": "tr"}
    assert decode_command(json.dumps(args), ALICE) == PluginCommand(ALICE, ENGINEERING, "t1", "", "/whoknows me", "tr")
    assert isinstance(decode_command(json.dumps(args), "someone-else"), BadPayload)
    assert isinstance(decode_command('{"command": "/whoknows me"}', None), BadPayload)
    assert isinstance(decode_command("nope", ALICE), BadPayload)


def test_the_handed_over_configuration() -> None:
    body = {"settings": {"CardPeople": 3, "Suggestions": True, "SuggestionMinConfidence": 0.3, "SuggestionMode": "thread"},
            "plugin_url": "http://127.0.0.1:8065/plugins/whoknows/", "site_url": "http://chat.example",
            "bot_user_id": BOT, "bot_username": "whoknows", "plugin_version": "0.1.0"}
    cfg = decode_config(json.dumps(body))
    assert isinstance(cfg, PluginConfig) and cfg.plugin_url == "http://127.0.0.1:8065/plugins/whoknows"
    assert setting_texts(cfg.settings) == {"CardPeople": "3", "Suggestions": "true", "SuggestionMinConfidence": "0.3",
                                           "SuggestionMode": "thread"}
    assert isinstance(decode_config(json.dumps({**body, "settings": []})), BadPayload)
    assert isinstance(decode_config(json.dumps({**body, "bot_user_id": ""})), BadPayload)

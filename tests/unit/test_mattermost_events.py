"""Decoding websocket payloads recorded from Mattermost 11.4 (tests/unit/fixtures/websocket_events.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from whoknows.adapters.mattermost_events import BotAdded, Decoded, Heard, Hello, NeedUser, decode_event, decode_post
from whoknows.core.events import (
    ChannelMemberAdded,
    ChannelMemberRemoved,
    ChannelUpdated,
    PostCreated,
    PostDeleted,
    PostEdited,
    ReactionAdded,
    ReactionRemoved,
    UserUpdated,
)

BOT = "1tthrtpfmibgzmntaat6cpqidw"
DAVE = "kjsyqn3ucbydjroeqkyr3nu8jw"
CHANNEL = "9bzn8acdn3rmpb9y3x3cy5xdgh"
FRAMES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "fixtures" / "websocket_events.json").read_text())


def frames(event: str) -> list[dict[str, Any]]:
    return [f for f in FRAMES if f["event"] == event]


def changes(frame: dict[str, Any]) -> list[Decoded]:
    """What a frame changes: without the notes on how far its channel was heard (tested on their own below)."""
    return [d for d in decode_event(frame, BOT) if not isinstance(d, Heard)]


def test_hello_carries_the_connection_id() -> None:
    assert decode_event(frames("hello")[0], BOT) == [Hello("yhajpd13ofnuiyf5dd8z73zcdr")]


def test_posted_question_and_reply() -> None:
    question, reply = (changes(f) for f in frames("posted")[:2])
    assert question == [PostCreated("kn9ciwuum38qtf1835k51id4ka", "zpd58jwbhf8itnp1dmhy6pasxh", "pwu1s45ghbbxddecjiwwnttrne",
                                    "how do I rotate the vault token?", 1795945958658, "")]
    assert isinstance(reply[0], PostCreated) and reply[0].root_id == "kn9ciwuum38qtf1835k51id4ka"


def test_system_messages_and_direct_messages_are_never_indexed() -> None:
    rest = frames("posted")[2:]
    assert len(rest) == 5
    assert all(changes(f) == [] for f in rest)


def test_edit_delete_and_reactions() -> None:
    assert changes(frames("post_edited")[0]) == [
        PostEdited("kn9ciwuum38qtf1835k51id4ka", "how do I rotate the vault root token?", 1795945958762)
    ]
    # Mattermost sends delete_at 0 in post_deleted: the deletion time is the update time.
    assert changes(frames("post_deleted")[0]) == [PostDeleted("ko36u8y3ajyupxyedaoaufnswc", 1795945958854)]
    added, removed = changes(frames("reaction_added")[0]), changes(frames("reaction_removed")[0])
    assert isinstance(added[0], ReactionAdded) and added[0].emoji_name == "white_check_mark"
    assert removed == [ReactionRemoved("ko36u8y3ajyupxyedaoaufnswc", "pwu1s45ghbbxddecjiwwnttrne", "white_check_mark")]


def test_every_post_and_reaction_frame_says_how_far_its_channel_was_heard() -> None:
    """The post's (or reaction's) update_at, last, after the change itself; bots' and system posts too."""
    for kind in ("posted", "post_edited", "post_deleted", "reaction_added"):
        for f in frames(kind):
            decoded = decode_event(f, BOT)
            obj = json.loads(f["data"]["post" if kind.startswith("post") else "reaction"])
            if obj.get("channel_id") and f["data"].get("channel_type") not in ("D", "G"):
                assert decoded[-1] == Heard(obj["channel_id"], obj.get("update_at") or obj["create_at"]), (kind, decoded)
    question = decode_event(frames("posted")[0], BOT)
    assert question[-1] == Heard("zpd58jwbhf8itnp1dmhy6pasxh", 1795945958658)


def test_membership_changes() -> None:
    bot_added, dave_added = (decode_event(f, BOT) for f in frames("user_added"))
    assert bot_added == [ChannelMemberAdded(CHANNEL, BOT), BotAdded(CHANNEL)]
    assert dave_added == [ChannelMemberAdded(CHANNEL, DAVE), NeedUser(DAVE)]
    assert decode_event(frames("user_removed")[0], BOT) == [ChannelMemberRemoved(CHANNEL, DAVE)]


def test_channel_updated_and_user_deactivation() -> None:
    [channel] = decode_event(frames("channel_updated")[0], BOT)
    assert isinstance(channel, ChannelUpdated) and channel.display_name == "Recorded" and channel.type == "O"
    deactivated, reactivated = (decode_event(f, BOT) for f in frames("user_updated"))
    assert deactivated == [UserUpdated(DAVE, "dave", "", False, True)]
    assert reactivated == [UserUpdated(DAVE, "dave", "", False, False)]


def test_unknown_and_broken_frames_decode_to_nothing() -> None:
    assert decode_event({"event": "typing", "data": {}}, BOT) == []
    assert decode_event({"event": "posted", "data": {"post": "{not json"}}, BOT) == []
    assert decode_event({}, BOT) == []


def test_rest_post_decoding_history() -> None:
    base = {"id": "p1", "channel_id": "c", "user_id": "u", "message": "hello", "create_at": 5, "root_id": ""}
    assert decode_post(base, BOT) == [PostCreated("p1", "c", "u", "hello", 5, "")]
    assert decode_post({**base, "edit_at": 9}, BOT)[1] == PostEdited("p1", "hello", 9)
    assert decode_post({**base, "delete_at": 12}, BOT) == [PostDeleted("p1", 12)]
    assert decode_post({**base, "type": "system_join_channel"}, BOT) == []
    assert decode_post({**base, "user_id": BOT}, BOT) == []
    assert decode_post({**base, "props": {"from_bot": "true"}}, BOT) == []
    with_reaction = {**base, "metadata": {"reactions": [{"post_id": "p1", "user_id": "v", "emoji_name": "+1", "create_at": 7}]}}
    assert decode_post(with_reaction, BOT)[1] == ReactionAdded("p1", "v", "+1", 7)

"""Mattermost JSON (websocket events, REST posts, users, channels) decoded into core events. Pure.

Besides core events, decoding yields a few adapter notes the runtime acts on (a channel or person to
look up, a channel the bot was just added to, how far a channel's posts have been heard). Direct and group
messages, system messages, the bot's own posts and other bots' posts never become expertise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

from ..core.events import (
    ChannelMemberAdded,
    ChannelMemberRemoved,
    ChannelType,
    ChannelUpdated,
    Event,
    PostCreated,
    PostDeleted,
    PostEdited,
    ReactionAdded,
    ReactionRemoved,
    TeamUpdated,
    UserUpdated,
)

JSON: TypeAlias = Mapping[str, Any]
_TYPES = ("O", "P", "D", "G")
_NOT_INDEXED = frozenset({"D", "G"})


@dataclass(frozen=True, slots=True)
class NeedChannel:
    """A channel we have not seen (created, or the bot was added): fetch it, then decode it."""

    channel_id: str


@dataclass(frozen=True, slots=True)
class NeedUser:
    user_id: str


@dataclass(frozen=True, slots=True)
class BotAdded:
    """The bot joined a channel: its history should be backfilled."""

    channel_id: str


@dataclass(frozen=True, slots=True)
class BotJoinedTeam:
    """The bot was added to a team while running: its command and its channels, without a restart."""

    team_id: str


@dataclass(frozen=True, slots=True)
class Hello:
    connection_id: str


@dataclass(frozen=True, slots=True)
class Heard:
    """A live change to a channel's posts, which Mattermost stamped `at` (the post's update_at; for a reaction, the
    reaction's, never later than the post's). It follows the change's own events, bots' and system posts included:
    once they are applied, the channel's catch-up need not read up to `at` again."""

    channel_id: str
    at: int


Note: TypeAlias = NeedChannel | NeedUser | BotAdded | BotJoinedTeam | Hello | Heard
Decoded: TypeAlias = Event | Note


def _obj(value: Any) -> dict[str, Any]:
    """Mattermost sends some nested objects as JSON strings (post, reaction, channel); anything else is empty."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    """An id or a text field; a value of the wrong type counts as missing."""
    return value if isinstance(value, str) else str(value) if isinstance(value, int) and not isinstance(value, bool) else ""


def _int(value: Any) -> int:
    """A time field; a value of the wrong type counts as missing (0)."""
    if isinstance(value, bool):
        return 0
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _is_from_bot(post: JSON) -> bool:
    props = _obj(post.get("props"))
    return str(props.get("from_bot", "")).lower() == "true" or str(props.get("from_webhook", "")).lower() == "true"


def decode_post(post: JSON, bot_id: str) -> list[Event]:
    """A post as REST returns it (history, catch-up): created, then edited or deleted as it stands now.

    Total: a post missing its id, channel or author, or with fields of the wrong type, yields nothing."""
    post = _obj(post)
    post_id = _str(post.get("id"))
    if not post_id:
        return []
    if _int(post.get("delete_at")) > 0:
        return [PostDeleted(post_id, _int(post.get("delete_at")))]
    created = _created(post, bot_id)
    if created is None:
        return []
    events: list[Event] = [created]
    if _int(post.get("edit_at")) > 0:
        events.append(PostEdited(post_id, created.message, _int(post.get("edit_at"))))
    reactions = _obj(post.get("metadata")).get("reactions")
    for reaction in reactions if isinstance(reactions, list) else []:
        added = _reaction_added(_obj(reaction))
        if added is not None:
            events.append(added)
    return events


def _created(post: JSON, bot_id: str) -> PostCreated | None:
    """A person's post in a channel; None for system messages, bots' posts and incomplete posts."""
    post_id, channel_id, user_id = _str(post.get("id")), _str(post.get("channel_id")), _str(post.get("user_id"))
    if not post_id or not channel_id or not user_id or post.get("type") or user_id == bot_id or _is_from_bot(post):
        return None
    return PostCreated(post_id, channel_id, user_id, _str(post.get("message")), _int(post.get("create_at")), _str(post.get("root_id")))


def _reaction_added(r: JSON) -> ReactionAdded | None:
    post_id, user_id, emoji = _str(r.get("post_id")), _str(r.get("user_id")), _str(r.get("emoji_name"))
    return ReactionAdded(post_id, user_id, emoji, _int(r.get("create_at"))) if post_id and user_id and emoji else None


def decode_channel(channel: JSON) -> ChannelUpdated | None:
    channel = _obj(channel)
    kind = _str(channel.get("type"))
    if kind not in _TYPES or not _str(channel.get("id")):
        return None
    return ChannelUpdated(_str(channel.get("id")), _str(channel.get("team_id")), _str(channel.get("name")),
                          cast(ChannelType, kind), _str(channel.get("display_name")))


def decode_team(team: JSON) -> TeamUpdated:
    return TeamUpdated(str(team["id"]), _str(team.get("name")), _str(team.get("display_name")))


def decode_user(user: JSON) -> UserUpdated:
    full = " ".join(x for x in (_str(user.get("first_name")), _str(user.get("last_name"))) if x)
    return UserUpdated(
        str(user["id"]), _str(user.get("username")), full or _str(user.get("nickname")),
        user.get("is_bot") is True, _int(user.get("delete_at")) > 0,
    )


def _post_change(kind: str, post: JSON, bot_id: str) -> list[Decoded]:
    post_id = _str(post.get("id"))
    if kind == "posted":
        created = _created(post, bot_id)
        return [created] if created is not None else []
    if kind == "post_edited":
        if not post_id or post.get("type"):
            return []
        return [PostEdited(post_id, _str(post.get("message")), _int(post.get("edit_at")) or _int(post.get("update_at")))]
    return [PostDeleted(post_id, _int(post.get("delete_at")) or _int(post.get("update_at")))] if post_id else []


def _heard(obj: JSON) -> list[Decoded]:
    """The Heard note of a post or reaction that names its channel and its update time."""
    channel_id, at = _str(obj.get("channel_id")), _int(obj.get("update_at")) or _int(obj.get("create_at"))
    return [Heard(channel_id, at)] if channel_id and at > 0 else []


def decode_event(frame: object, bot_id: str) -> list[Decoded]:
    """One websocket frame -> what it means for whoknows (usually zero or one event).

    Total: never raises; a frame that is not an object, or lacks what its kind needs, means nothing."""
    frame = _obj(frame)
    kind = _str(frame.get("event"))
    data = _obj(frame.get("data"))
    broadcast = _obj(frame.get("broadcast"))
    match kind:
        case "hello":
            return [Hello(_str(data.get("connection_id")))]
        case "posted" | "post_edited" | "post_deleted":
            if _str(data.get("channel_type")) in _NOT_INDEXED:
                return []
            post = _obj(data.get("post"))
            return [*_post_change(kind, post, bot_id), *_heard(post)]
        case "reaction_added":
            r = _obj(data.get("reaction"))
            added = _reaction_added(r)
            return [added, *_heard(r)] if added is not None else []
        case "reaction_removed":
            r = _obj(data.get("reaction"))
            post_id, user_id, emoji = _str(r.get("post_id")), _str(r.get("user_id")), _str(r.get("emoji_name"))
            return [ReactionRemoved(post_id, user_id, emoji), *_heard(r)] if post_id and user_id and emoji else []
        case "user_added":
            channel_id = _str(broadcast.get("channel_id")) or _str(data.get("channel_id"))
            user_id = _str(data.get("user_id"))
            if not channel_id or not user_id:
                return []
            out: list[Decoded] = [ChannelMemberAdded(channel_id, user_id)]
            out.append(BotAdded(channel_id) if user_id == bot_id else NeedUser(user_id))
            return out
        case "user_removed":
            # Sent to the channel (broadcast channel_id, data user_id) and to the removed person (data channel_id).
            channel_id = _str(broadcast.get("channel_id")) or _str(data.get("channel_id"))
            user_id = _str(data.get("user_id")) or _str(broadcast.get("user_id"))
            return [ChannelMemberRemoved(channel_id, user_id)] if channel_id and user_id else []
        case "channel_created":
            channel_id = _str(data.get("channel_id"))
            return [NeedChannel(channel_id)] if channel_id else []
        case "channel_updated" | "channel_converted":
            channel = _obj(data.get("channel"))
            if channel:
                decoded = decode_channel(channel)
                return [decoded] if decoded else []
            channel_id = _str(data.get("channel_id")) or _str(broadcast.get("channel_id"))
            return [NeedChannel(channel_id)] if channel_id else []
        case "user_updated":
            user = _obj(data.get("user"))
            return [decode_user(user)] if _str(user.get("id")) else []
        case "added_to_team":
            team_id, user_id = _str(data.get("team_id")), _str(data.get("user_id"))
            return [BotJoinedTeam(team_id)] if team_id and user_id == bot_id else []
        case "user_deactivated" | "user_activation_status_change":
            user_id = _str(data.get("user_id"))
            return [NeedUser(user_id)] if user_id else []
        case _:
            return []


__all__ = ["BotAdded", "BotJoinedTeam", "Decoded", "Heard", "Hello", "NeedChannel", "NeedUser", "Note", "decode_channel", "decode_event", "decode_post", "decode_team", "decode_user"]

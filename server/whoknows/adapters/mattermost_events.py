"""Mattermost JSON (websocket events, REST posts, users, channels) decoded into core events. Pure.

Besides core events, decoding yields a few adapter notes the runtime acts on (a channel or person to
look up, a channel the bot was just added to). Direct and group messages, system messages, the bot's
own posts and other bots' posts never become expertise.
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
class Hello:
    connection_id: str


Note: TypeAlias = NeedChannel | NeedUser | BotAdded | Hello
Decoded: TypeAlias = Event | Note


def _obj(value: Any) -> dict[str, Any]:
    """Mattermost sends some nested objects as JSON strings (post, reaction, channel)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _is_from_bot(post: JSON) -> bool:
    props = post.get("props") or {}
    return str(props.get("from_bot", "")).lower() == "true" or str(props.get("from_webhook", "")).lower() == "true"


def decode_post(post: JSON, bot_id: str) -> list[Event]:
    """A post as REST returns it (history, catch-up): created, then edited or deleted as it stands now."""
    post_id = str(post.get("id", ""))
    if not post_id:
        return []
    if int(post.get("delete_at") or 0) > 0:
        return [PostDeleted(post_id, int(post["delete_at"]))]
    if post.get("type") or post.get("user_id") == bot_id or _is_from_bot(post):
        return []
    events: list[Event] = [
        PostCreated(post_id, str(post.get("channel_id", "")), str(post.get("user_id", "")), str(post.get("message", "")),
                    int(post.get("create_at") or 0), str(post.get("root_id") or ""))
    ]
    if int(post.get("edit_at") or 0) > 0:
        events.append(PostEdited(post_id, str(post.get("message", "")), int(post["edit_at"])))
    for reaction in (post.get("metadata") or {}).get("reactions") or []:
        events.append(_reaction_added(reaction))
    return events


def _reaction_added(r: JSON) -> ReactionAdded:
    return ReactionAdded(str(r.get("post_id", "")), str(r.get("user_id", "")), str(r.get("emoji_name", "")), int(r.get("create_at") or 0))


def decode_channel(channel: JSON) -> ChannelUpdated | None:
    kind = str(channel.get("type", ""))
    if kind not in _TYPES or not channel.get("id"):
        return None
    return ChannelUpdated(str(channel["id"]), str(channel.get("team_id", "")), str(channel.get("name", "")),
                          cast(ChannelType, kind), str(channel.get("display_name", "")))


def decode_team(team: JSON) -> TeamUpdated:
    return TeamUpdated(str(team["id"]), str(team.get("name", "")), str(team.get("display_name", "")))


def decode_user(user: JSON) -> UserUpdated:
    full = " ".join(x for x in (str(user.get("first_name") or ""), str(user.get("last_name") or "")) if x)
    return UserUpdated(
        str(user["id"]), str(user.get("username", "")), full or str(user.get("nickname") or ""),
        bool(user.get("is_bot")), int(user.get("delete_at") or 0) > 0,
    )


def decode_event(frame: JSON, bot_id: str) -> list[Decoded]:
    """One websocket frame -> what it means for whoknows (usually zero or one event)."""
    kind = str(frame.get("event", ""))
    data = cast(JSON, frame.get("data") or {})
    broadcast = cast(JSON, frame.get("broadcast") or {})
    match kind:
        case "hello":
            return [Hello(str(data.get("connection_id", "")))]
        case "posted":
            if str(data.get("channel_type", "")) in _NOT_INDEXED:
                return []
            post = _obj(data.get("post"))
            if not post or post.get("type") or post.get("user_id") == bot_id or _is_from_bot(post):
                return []
            return [PostCreated(str(post["id"]), str(post.get("channel_id", "")), str(post.get("user_id", "")),
                                str(post.get("message", "")), int(post.get("create_at") or 0), str(post.get("root_id") or ""))]
        case "post_edited":
            post = _obj(data.get("post"))
            if not post or post.get("type"):
                return []
            return [PostEdited(str(post["id"]), str(post.get("message", "")), int(post.get("edit_at") or post.get("update_at") or 0))]
        case "post_deleted":
            post = _obj(data.get("post"))
            if not post:
                return []
            return [PostDeleted(str(post["id"]), int(post.get("delete_at") or post.get("update_at") or 0))]
        case "reaction_added":
            return [_reaction_added(_obj(data.get("reaction")))]
        case "reaction_removed":
            r = _obj(data.get("reaction"))
            return [ReactionRemoved(str(r.get("post_id", "")), str(r.get("user_id", "")), str(r.get("emoji_name", "")))]
        case "user_added":
            channel_id = str(broadcast.get("channel_id") or data.get("channel_id") or "")
            user_id = str(data.get("user_id", ""))
            if not channel_id or not user_id:
                return []
            out: list[Decoded] = [ChannelMemberAdded(channel_id, user_id)]
            out.append(BotAdded(channel_id) if user_id == bot_id else NeedUser(user_id))
            return out
        case "user_removed":
            # Sent to the channel (broadcast channel_id, data user_id) and to the removed person (data channel_id).
            channel_id = str(broadcast.get("channel_id") or data.get("channel_id") or "")
            user_id = str(data.get("user_id") or broadcast.get("user_id") or "")
            return [ChannelMemberRemoved(channel_id, user_id)] if channel_id and user_id else []
        case "channel_created":
            channel_id = str(data.get("channel_id", ""))
            return [NeedChannel(channel_id)] if channel_id else []
        case "channel_updated" | "channel_converted":
            channel = _obj(data.get("channel"))
            if channel:
                decoded = decode_channel(channel)
                return [decoded] if decoded else []
            channel_id = str(data.get("channel_id") or broadcast.get("channel_id") or "")
            return [NeedChannel(channel_id)] if channel_id else []
        case "user_updated":
            user = _obj(data.get("user"))
            return [decode_user(user)] if user.get("id") else []
        case "user_deactivated" | "user_activation_status_change":
            user_id = str(data.get("user_id", ""))
            return [NeedUser(user_id)] if user_id else []
        case _:
            return []


__all__ = ["BotAdded", "Decoded", "Hello", "NeedChannel", "NeedUser", "Note", "decode_channel", "decode_event", "decode_post", "decode_team", "decode_user"]

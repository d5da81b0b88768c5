"""Core events: every source (live websocket, backfill, bulk import, evaluation replay) decodes into these.

Times are Unix milliseconds, as Mattermost gives them. Ids are opaque strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

ChannelType = Literal["O", "P", "D", "G"]


@dataclass(frozen=True, slots=True)
class TeamUpdated:
    team_id: str
    name: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class ChannelUpdated:
    channel_id: str
    team_id: str
    name: str
    type: ChannelType
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class UserUpdated:
    """What the ranking needs to know about a person: how to name them and whether they may appear."""

    user_id: str
    username: str
    display_name: str = ""
    is_bot: bool = False
    deactivated: bool = False


@dataclass(frozen=True, slots=True)
class ChannelMemberAdded:
    channel_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class ChannelMemberRemoved:
    channel_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class PostCreated:
    post_id: str
    channel_id: str
    user_id: str
    message: str
    create_at: int
    root_id: str = ""
    """Empty for a root post; the thread's root post id for a reply."""


@dataclass(frozen=True, slots=True)
class PostEdited:
    post_id: str
    message: str
    edit_at: int


@dataclass(frozen=True, slots=True)
class PostDeleted:
    post_id: str
    delete_at: int


@dataclass(frozen=True, slots=True)
class ReactionAdded:
    post_id: str
    user_id: str
    emoji_name: str
    create_at: int


@dataclass(frozen=True, slots=True)
class ReactionRemoved:
    post_id: str
    user_id: str
    emoji_name: str


@dataclass(frozen=True, slots=True)
class UserOptedOut:
    user_id: str
    at: int


@dataclass(frozen=True, slots=True)
class UserOptedIn:
    user_id: str
    at: int


@dataclass(frozen=True, slots=True)
class UserErased:
    """Someone's data is to be forgotten: their posts, reactions and activity leave at once, their later
    posts are never indexed, and they never appear again."""

    user_id: str
    at: int


@dataclass(frozen=True, slots=True)
class SuggestionRejected:
    """Someone pressed "Not helpful" on a card naming this person for this topic."""

    user_id: str
    topic: str
    by_user_id: str
    at: int


Event: TypeAlias = (
    TeamUpdated
    | ChannelUpdated
    | UserUpdated
    | ChannelMemberAdded
    | ChannelMemberRemoved
    | PostCreated
    | PostEdited
    | PostDeleted
    | ReactionAdded
    | ReactionRemoved
    | UserOptedOut
    | UserOptedIn
    | UserErased
    | SuggestionRejected
)

__all__ = [
    "ChannelMemberAdded",
    "ChannelMemberRemoved",
    "ChannelType",
    "ChannelUpdated",
    "Event",
    "PostCreated",
    "PostDeleted",
    "PostEdited",
    "ReactionAdded",
    "ReactionRemoved",
    "SuggestionRejected",
    "TeamUpdated",
    "UserErased",
    "UserOptedIn",
    "UserOptedOut",
    "UserUpdated",
]

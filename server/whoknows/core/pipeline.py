"""The one event path: every source applies its events here, in order, to the conversation and the index."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from .conversation import Conversation
from .events import (
    ChannelMemberAdded,
    ChannelMemberRemoved,
    ChannelUpdated,
    Event,
    PostCreated,
    PostDeleted,
    PostEdited,
    ReactionAdded,
    ReactionRemoved,
    SuggestionRejected,
    TeamUpdated,
    UserErased,
    UserOptedIn,
    UserOptedOut,
    UserUpdated,
)
from .index import IndexedPost, PostIndex

MAX_INDEXED_CHARS = 16_384
"""Mattermost's own limit on a message; anything longer is cut before indexing."""

_PRIVATE_CONVERSATIONS = frozenset({"D", "G"})


@dataclass
class Applied:
    """What a batch changed, for progress reports and tests."""

    posts_added: int = 0
    posts_edited: int = 0
    posts_deleted: int = 0
    reactions: int = 0
    ignored: int = 0
    other: int = 0

    def __iadd__(self, other: Applied) -> Applied:
        self.posts_added += other.posts_added
        self.posts_edited += other.posts_edited
        self.posts_deleted += other.posts_deleted
        self.reactions += other.reactions
        self.ignored += other.ignored
        self.other += other.other
        return self


class Pipeline:
    """Applies events idempotently. The conversation store changes at once (so a deleted post leaves every
    ranking immediately); text changes are buffered and committed to the index in batches."""

    def __init__(self, conversation: Conversation, index: PostIndex, *, batch_size: int = 5000) -> None:
        self.conversation = conversation
        self.index = index
        self.batch_size = batch_size
        self._pending = 0
        self._committing = threading.Lock()
        """The service commits on its writer's thread; closing the store commits too, after it."""
        self._private_channels: set[str] = set(conversation.channels_of_type(_PRIVATE_CONVERSATIONS))
        self._erased: set[str] = conversation.erased_users()

    def apply(self, events: Iterable[Event]) -> Applied:
        """Applies the events in one store transaction; commits the index when enough text is pending."""
        applied = Applied()
        conv = self.conversation
        conv.begin()
        try:
            for event in events:
                self._apply_one(event, applied)
        except BaseException:
            conv.rollback()
            raise
        conv.commit()
        if self._pending >= self.batch_size:
            self.flush()
        return applied

    def flush(self) -> None:
        """Makes everything applied so far searchable. Safe to call from another thread while requests search
        (the engines swap their searchers whole); never while events are being applied."""
        with self._committing:
            self.index.commit()
            self._pending = 0

    def _apply_one(self, event: Event, applied: Applied) -> None:
        conv = self.conversation
        match event:
            case PostCreated():
                if event.channel_id in self._private_channels or event.user_id in self._erased:
                    applied.ignored += 1
                elif conv.add_post(event):
                    self._index(event.post_id, event.channel_id, event.user_id, event.message, replace=False)
                    applied.posts_added += 1
            case PostEdited():
                where = conv.edit_post(event)
                if where is not None:
                    self._index(event.post_id, where[0], where[1], event.message, replace=True)
                    applied.posts_edited += 1
            case PostDeleted():
                for post_id in conv.delete_post(event):  # a root takes its thread's replies with it
                    self.index.delete(post_id)
                    self._pending += 1
                    applied.posts_deleted += 1
            case ReactionAdded():
                if event.user_id in self._erased:
                    applied.ignored += 1
                else:
                    applied.reactions += conv.add_reaction(event)
            case ReactionRemoved():
                applied.reactions += conv.remove_reaction(event)
            case ChannelUpdated():
                if event.type in _PRIVATE_CONVERSATIONS:
                    self._private_channels.add(event.channel_id)
                conv.put_channel(event)
                applied.other += 1
            case TeamUpdated():
                conv.put_team(event)
                applied.other += 1
            case UserUpdated():
                conv.put_user(event)
                applied.other += 1
            case ChannelMemberAdded():
                conv.add_member(event)
                applied.other += 1
            case ChannelMemberRemoved():
                conv.remove_member(event)
                applied.other += 1
            case UserOptedOut() | UserOptedIn():
                conv.set_opt(event)
                applied.other += 1
            case UserErased():
                for post_id in conv.erase_user(event):
                    self.index.delete(post_id)
                    self._pending += 1
                    applied.posts_deleted += 1
                self._erased.add(event.user_id)
            case SuggestionRejected():
                conv.add_rejection(event)
                applied.other += 1

    def _index(self, post_id: str, channel_id: str, user_id: str, message: str, *, replace: bool) -> None:
        self.index.put(IndexedPost(post_id, channel_id, user_id, message[:MAX_INDEXED_CHARS]), replace=replace)
        self._pending += 1

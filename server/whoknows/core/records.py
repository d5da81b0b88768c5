"""The records the conversation store hands out: a post's facts, a person, a person's activity."""

from __future__ import annotations

from dataclasses import dataclass

from .substance import is_content_free


@dataclass(frozen=True, slots=True)
class PostFacts:
    """One post with what the ranking needs about its place in the conversation."""

    post_id: str
    channel_id: str
    user_id: str
    root_id: str
    root_user_id: str
    create_at: int
    message: str
    endorsements: int
    """Endorsing reactions from people other than the author."""
    accepted: bool
    """The thread's asker marked this reply with a check mark."""
    is_question: bool = False
    """A root post that reads as a question (core.questions)."""
    asks: bool | None = None
    """The text ends with a question mark (None: worked out from the message)."""
    content_free: bool | None = None
    """Says nothing anyone could learn from (core.substance; None: worked out from the message)."""

    def __post_init__(self) -> None:
        if self.asks is None:
            object.__setattr__(self, "asks", ends_with_question(self.message))
        if self.content_free is None:
            object.__setattr__(self, "content_free", is_content_free(self.message))


def ends_with_question(message: str) -> bool:
    return message.rstrip().endswith("?")


@dataclass(frozen=True, slots=True)
class Person:
    user_id: str
    username: str
    display_name: str
    is_bot: bool
    deactivated: bool
    opted_out: bool


@dataclass(frozen=True, slots=True)
class Activity:
    posts: int
    answers: int
    last_at: int
    recent: float
    """Posts weighted by age (half-life ACTIVITY_HALF_LIFE_MS), as of the moment asked."""


__all__ = ["Activity", "Person", "PostFacts", "ends_with_question"]

"""What a generated workspace contains, and who really knows what in it (the ground truth)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicTruth:
    """One topic's designated experts: the people a good ranking should name for it."""

    phrase: str
    area: str
    team: str
    channel: str
    """The channel where most questions on the topic are asked."""
    experts: tuple[str, ...]
    """Active designated experts who answered the topic at least once, the one with most answers first."""
    answers: tuple[int, ...]
    """How many answers on the topic each of `experts` wrote (same order)."""
    former_experts: tuple[str, ...]
    """Designated experts whose accounts were deactivated: a ranking must never name them."""
    terms: tuple[str, ...]
    queries: tuple[str, ...]
    """Realistic questions on the topic that are not in the corpus, for benchmark queries."""


@dataclass(frozen=True)
class WorkspaceSummary:
    """Counts of what was written, and the ground truth per topic."""

    seed: int
    preset: str
    teams: int
    channels: int
    private_channels: int
    users: int
    """Human accounts, deactivated ones included; bots are counted in `bots`."""
    bots: tuple[str, ...]
    deactivated: tuple[str, ...]
    root_posts: int
    replies: int
    reactions: int
    direct_channels: int
    direct_posts: int
    first_at: int
    last_at: int
    topics: tuple[TopicTruth, ...]

    @property
    def posts(self) -> int:
        """Channel messages (roots and replies); direct messages are not posts in this sense."""
        return self.root_posts + self.replies

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(t.phrase for t in self.topics)

    def topic(self, phrase: str) -> TopicTruth:
        for truth in self.topics:
            if truth.phrase == phrase:
                return truth
        raise KeyError(phrase)

    def experts(self, phrase: str) -> tuple[str, ...]:
        return self.topic(phrase).experts

    def queries(self, phrase: str) -> tuple[str, ...]:
        return self.topic(phrase).queries

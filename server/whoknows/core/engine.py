"""Answers "who knows about X?" from the conversation store and the text index."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .conversation import Conversation
from .index import PostIndex
from .query import Topic, analyse
from .ranking import Expert, Weights, confidence, rank


@dataclass(frozen=True, slots=True)
class Ranking:
    topic: Topic
    experts: tuple[Expert, ...]
    confidence: float
    considered_posts: int


class Engine:
    def __init__(self, conversation: Conversation, index: PostIndex, weights: Weights = Weights()) -> None:
        self.conversation = conversation
        self.index = index
        self.weights = weights

    def ask(
        self,
        text: str,
        *,
        now: int,
        readable: Collection[str] | None = None,
        exclude: Collection[str] = (),
        asker: str | None = None,
        limit: int = 10,
    ) -> Ranking:
        """Ranks people for a topic or a question, from posts in `readable` channels only (None: all)."""
        topic = analyse(text, self.index, max_terms=self.weights.key_terms)
        return self.rank_topic(topic, now=now, readable=readable, exclude=exclude, asker=asker, limit=limit)

    def rank_topic(
        self,
        topic: Topic,
        *,
        now: int,
        readable: Collection[str] | None,
        exclude: Collection[str],
        asker: str | None = None,
        limit: int,
    ) -> Ranking:
        conv = self.conversation
        hidden: frozenset[str] = frozenset()
        if readable is not None:
            hidden = conv.all_channels() - frozenset(readable)
        hits = self.index.search(topic.terms, limit=self.weights.retrieve, exclude_channels=hidden)
        facts = conv.post_facts([h.post_id for h in hits])
        # A post deleted since the last index commit is already gone from the store: it never counts.
        matched = [(facts[h.post_id], h.score) for h in hits if h.post_id in facts and facts[h.post_id].channel_id not in hidden]
        roots = [p for p, _ in matched if not p.root_id]
        reply_ids = conv.replies([p.post_id for p in roots])
        w = self.weights
        if w.follow_minutes > 0:
            window = int(w.follow_minutes * 60_000)
            for root in roots:
                if root.is_question and root.post_id not in reply_ids:
                    following = conv.following(root, within_ms=window, limit=w.follow_posts)
                    if following:
                        reply_ids[root.post_id] = following
        reply_facts = conv.post_facts([r for ids in reply_ids.values() for r in ids])
        thread_replies = {
            root: [reply_facts[r] for r in ids if r in reply_facts and reply_facts[r].create_at <= now and reply_facts[r].channel_id not in hidden]
            for root, ids in reply_ids.items()
        }
        authors = {p.user_id for p, _ in matched} | {r.user_id for rs in thread_replies.values() for r in rs}
        experts = rank(
            matched,
            thread_replies,
            conv.activity(authors, now),
            conv.people(authors),
            conv.rejections(topic.key),
            conv.helped(asker) if asker else None,
            now=now,
            exclude=exclude,
            limit=limit,
            weights=self.weights,
        )
        return Ranking(topic, tuple(experts), confidence(experts), len(matched))

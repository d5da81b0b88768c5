"""Answers "who knows about X?" from the conversation store and the text index."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from . import surroundings
from .conversation import Conversation, PostFacts
from .index import PostIndex
from .query import Topic, analyse
from .ranking import HOUR_MS, MINUTE_MS, Context, Expert, Weights, confidence, rank
from .withheld import Withheld


@dataclass(frozen=True, slots=True)
class Ranking:
    topic: Topic
    experts: tuple[Expert, ...]
    confidence: float
    considered_posts: int
    terms_of: Callable[[str], list[str]] | None = None
    """The index's analyser, for the card to find the topic's words in a post (None: quote the start)."""


class Engine:
    def __init__(self, conversation: Conversation, index: PostIndex, weights: Weights = Weights(), withheld: Withheld | None = None) -> None:
        self.conversation = conversation
        self.index = index
        self.weights = weights
        self.withheld = withheld if withheld is not None else Withheld()
        """Posts deleted or edited but not yet applied: no ranking counts or shows them meanwhile."""
        self._paces: dict[str, tuple[int, float]] = {}
        self._reputations: tuple[int, Mapping[str, int]] | None = None

    def _pace(self, channel: str, now: int) -> float:
        """The channel's usual time to an answer, kept for an hour (it changes slowly); an hour if unknown."""
        known = self._paces.get(channel)
        if known is None or not known[0] <= now < known[0] + HOUR_MS:
            latency = surroundings.reply_latency(self.conversation, channel, before=now)
            known = (now, float(min(max(latency, MINUTE_MS), 7 * 24 * HOUR_MS)) if latency is not None else float(HOUR_MS))
            self._paces[channel] = known
        return known[1]

    def _reputation(self, now: int) -> Mapping[str, int]:
        """Everyone's endorsed answers as of `now`, recounted once an hour of `now` (it changes slowly; a
        cached count never includes anything after the moment it was made)."""
        if self._reputations is None or not self._reputations[0] <= now < self._reputations[0] + HOUR_MS:
            self._reputations = (now, surroundings.endorsed_answers(self.conversation, before=now))
        return self._reputations[1]

    def ask(
        self,
        text: str,
        *,
        now: int,
        readable: Collection[str] | None = None,
        exclude: Collection[str] = (),
        asker: str | None = None,
        channel: str | None = None,
        limit: int = 10,
    ) -> Ranking:
        """Ranks people for a topic or a question, from posts in `readable` channels only (None: all).
        `channel`: where a question was just posted (who is speaking there counts); None for a card."""
        topic = analyse(text, self.index, max_terms=self.weights.key_terms)
        return self.rank_topic(topic, now=now, readable=readable, exclude=exclude, asker=asker, channel=channel, limit=limit)

    def rank_topic(
        self,
        topic: Topic,
        *,
        now: int,
        readable: Collection[str] | None,
        exclude: Collection[str],
        asker: str | None = None,
        channel: str | None = None,
        limit: int,
    ) -> Ranking:
        conv = self.conversation
        w = self.weights
        hidden: frozenset[str] = frozenset()
        if readable is not None:
            hidden = conv.all_channels() - frozenset(readable)
        hits = self.index.search(topic.terms, limit=w.retrieve, exclude_channels=hidden) if topic.terms else []
        withheld = self.withheld
        facts = conv.facts.get([h.post_id for h in hits if h.post_id not in withheld])
        # A post deleted since the last index commit is already gone from the store; one whose deletion or edit is
        # heard but not yet applied is withheld: neither counts.
        matched = [(facts[h.post_id], h.score) for h in hits if h.post_id in facts and facts[h.post_id].channel_id not in hidden]
        thread_ids = list(dict.fromkeys(p.root_id or p.post_id for p, _ in matched))
        reply_ids = conv.facts.replies(thread_ids)
        if w.follow_minutes > 0:
            window = int(w.follow_minutes * 60_000)
            for root, _ in matched:
                if not root.root_id and root.is_question and root.post_id not in reply_ids:
                    following = conv.facts.following(root.post_id, within_ms=window, limit=w.follow_posts)
                    if following:
                        reply_ids[root.post_id] = following
        reply_facts = conv.facts.get([r for ids in reply_ids.values() for r in ids if r not in withheld])
        threads = {
            root: [reply_facts[r] for r in ids if r in reply_facts and reply_facts[r].create_at <= now and reply_facts[r].channel_id not in hidden]
            for root, ids in reply_ids.items()
        }
        room = surroundings.latest_speakers(conv, channel, before=now, limit=w.room_posts) if channel and channel not in hidden and w.room > 0 else []
        pace = self._pace(channel, now) if room and channel else HOUR_MS
        mentioned = list(surroundings.users_named(conv, topic.named).values()) if w.mention > 0 else []
        authors = {p.user_id for p, _ in matched} | {r.user_id for rs in threads.values() for r in rs} | {u for u, _ in room} | set(mentioned)
        window_ms = int(w.presence_half_life_hours * 12 * HOUR_MS)
        ctx = Context(
            activity=conv.activity(authors, now),
            people=conv.people(authors),
            rejections=conv.rejections(topic.key),
            ties=conv.helped(asker) if asker and w.tie > 0 else {},
            recent_posts=surroundings.posted_at(conv, authors, since=now - window_ms, until=now) if window_ms > 0 and w.presence_hours > 0 else {},
            room=room,
            pace_ms=pace,
            mentioned=mentioned,
            in_channel=channel is not None,
            endorsed=self._reputation(now) if w.reputation > 0 else {},
        )
        experts = _with_messages(conv, rank(matched, threads, ctx, now=now, exclude=exclude, limit=limit, weights=w))
        return Ranking(topic, tuple(experts), confidence(experts), len(matched), functools.lru_cache(maxsize=4096)(self.index.terms))


def _with_messages(conv: Conversation, experts: list[Expert]) -> list[Expert]:
    """The ranking reads facts without text; the evidence it keeps gets its text here, in one query."""
    shown = [p for e in experts for ev in e.evidence for p in (ev.post, ev.context) if p is not None]
    if not shown:
        return experts
    texts = conv.messages(p.post_id for p in shown)

    def told(post: PostFacts) -> PostFacts:
        return dataclasses.replace(post, message=texts.get(post.post_id, ""))

    return [dataclasses.replace(e, evidence=tuple(
        dataclasses.replace(ev, post=told(ev.post), context=told(ev.context) if ev.context is not None else None) for ev in e.evidence))
        for e in experts]

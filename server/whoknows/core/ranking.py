"""Ranking people from retrieved posts: pure functions, no I/O.

Document voting (each matching post votes for its author, BM25F-weighted), shaped by what the
conversation says: answering someone else's thread counts more than asking; answering a thread whose
question matches counts even when the answer's own words do not; endorsements and the asker's check
mark count; evidence fades with age; and recent activity is a prior, since people who are around
are the ones who answer.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .conversation import Activity, Person, PostFacts

DAY_MS = 24 * 3600 * 1000

EvidenceKind = Literal["answer", "question", "reply", "post"]


@dataclass(frozen=True, slots=True)
class Weights:
    """Every signal has a weight; setting one to zero removes the signal (the tests do exactly that)."""

    retrieve: int = 300
    """How many matching posts are considered."""
    key_terms: int = 30
    """Long questions are reduced to this many key terms before retrieval."""
    sharpen: float = 2.0
    """Exponent on each post's relative retrieval score: above 1, the best matches dominate the long tail."""
    answer: float = 1.0
    own_thread_reply: float = 0.5
    question: float = 0.25
    statement: float = 0.5
    """A root post that is not a question: in channels without threads, that is where answers are."""
    thread: float = 0.7
    """Answering in a thread whose question matches the topic."""
    follow_minutes: float = 10.0
    """Outside threads, others' posts this soon after a matching question count as its answers (0: off)."""
    follow_posts: int = 5
    endorsement: float = 0.25
    """Per endorsing reaction from someone else, up to three."""
    accepted: float = 1.0
    """The asker marked the answer with a check mark."""
    evidence_half_life_days: float = 45.0
    activity: float = 0.35
    """Share of the final score given to recent activity."""
    tie: float = 0.3
    """Boost per earlier thread of the asker's that the person replied in (log-scaled)."""
    rejection: float = 0.5
    """Factor applied per "Not helpful" on this topic."""


@dataclass(frozen=True, slots=True)
class Evidence:
    post: PostFacts
    kind: EvidenceKind
    weight: float
    direct: bool = True
    """The post's own words match; False when it counts as an answer in a thread whose question matches."""


@dataclass(frozen=True, slots=True)
class Expert:
    person: Person
    score: float
    evidence: tuple[Evidence, ...]
    """The strongest posts behind the score, at most three."""
    posts: int
    """Their posts on the topic that count as evidence."""
    answers: int
    """Threads in which they answered on this topic."""
    questions: int
    endorsements: int
    last_active: int
    """Their latest post on the topic."""


@dataclass(slots=True)
class _Tally:
    total: float = 0.0
    evidence: dict[str, Evidence] = field(default_factory=dict)
    answered_threads: set[str] = field(default_factory=set)
    questions: int = 0
    last_active: int = 0

    def add(self, ev: Evidence) -> None:
        self.total += ev.weight
        known = self.evidence.get(ev.post.post_id)
        if known is None or (ev.direct, ev.weight) > (known.direct, known.weight):
            self.evidence[ev.post.post_id] = ev
        if ev.kind == "answer":
            self.answered_threads.add(ev.post.root_id or ev.post.post_id)
        elif ev.kind == "question":
            self.questions += 1
        self.last_active = max(self.last_active, ev.post.create_at)


def post_kind(post: PostFacts) -> EvidenceKind:
    if not post.root_id:
        return "question" if post.is_question else "post"
    if post.root_user_id == post.user_id:
        return "reply"
    return "answer"


def _quality(post: PostFacts, w: Weights) -> float:
    return 1.0 + w.endorsement * min(post.endorsements, 3) + w.accepted * post.accepted


def _decay(post: PostFacts, now: int, w: Weights) -> float:
    age_days = max(0, now - post.create_at) / DAY_MS
    return math.exp2(-age_days / w.evidence_half_life_days)


def rank(
    matched: Sequence[tuple[PostFacts, float]],
    thread_replies: Mapping[str, Sequence[PostFacts]],
    activity: Mapping[str, Activity],
    people: Mapping[str, Person],
    rejections: Mapping[str, int],
    ties: Mapping[str, int] | None = None,
    *,
    now: int,
    exclude: Collection[str] = (),
    limit: int = 10,
    weights: Weights = Weights(),
) -> list[Expert]:
    """Ranks the authors of matched posts (post, retrieval score) and the answerers of matched threads."""
    w = weights
    if not matched:
        return []
    top = max(score for _, score in matched) or 1.0
    tallies: dict[str, _Tally] = {}
    kind_weight = {"answer": w.answer, "reply": w.own_thread_reply, "question": w.question, "post": w.statement}
    for post, score in matched:
        s = (score / top) ** w.sharpen
        kind = post_kind(post)
        weight = s * kind_weight[kind] * _quality(post, w) * _decay(post, now, w)
        if weight > 0:
            tallies.setdefault(post.user_id, _Tally()).add(Evidence(post, kind, weight))
        if post.root_id or w.thread <= 0:
            continue
        best_in_thread: dict[str, Evidence] = {}
        for reply in thread_replies.get(post.post_id, ()):
            if reply.user_id == post.user_id:
                continue
            rw = s * w.thread * _quality(reply, w) * _decay(reply, now, w)
            if rw > 0 and (reply.user_id not in best_in_thread or best_in_thread[reply.user_id].weight < rw):
                best_in_thread[reply.user_id] = Evidence(reply, "answer", rw, direct=False)
        for user_id, ev in best_in_thread.items():
            tallies.setdefault(user_id, _Tally()).add(ev)

    excluded = set(exclude)
    eligible = {
        u: t
        for u, t in tallies.items()
        if u not in excluded and (p := people.get(u)) is not None and not (p.is_bot or p.deactivated or p.opted_out)
    }
    if not eligible:
        return []
    best = max(t.total for t in eligible.values()) or 1.0
    recent = {u: activity[u].recent if u in activity else 0.0 for u in eligible}
    most_recent = math.log1p(max(recent.values())) or 1.0
    scored: list[Expert] = []
    for user_id, t in eligible.items():
        relevance = t.total / best
        prior = math.log1p(recent[user_id]) / most_recent
        score = (1 - w.activity) * relevance + w.activity * prior
        if ties and w.tie > 0:
            score *= 1 + w.tie * math.log1p(ties.get(user_id, 0))
        score *= w.rejection ** rejections.get(user_id, 0) if w.rejection > 0 else 1.0
        # Shown: the strongest posts, where a post whose own words match reads better than a reply that
        # only sits in a matching thread ("thanks!"), so the latter shows at half its weight.
        evidence = tuple(sorted(t.evidence.values(), key=lambda e: (-e.weight * (1.0 if e.direct else 0.5), e.post.post_id))[:3])
        endorsements = sum(e.post.endorsements for e in t.evidence.values())
        scored.append(
            Expert(people[user_id], score, evidence, len(t.evidence), len(t.answered_threads), t.questions, endorsements, t.last_active)
        )
    scored.sort(key=lambda e: (-e.score, e.person.username))
    return scored[:limit]


def confidence(experts: Sequence[Expert]) -> float:
    """How sure we are about the first person: strong answers they gave on the topic, 3 or more is sure."""
    if not experts:
        return 0.0
    strong = sum(1 for e in experts[0].evidence if e.kind == "answer" and e.weight >= 0.3)
    return min(1.0, strong / 3)

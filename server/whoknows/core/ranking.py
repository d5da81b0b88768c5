"""Ranking people for a topic: one pure, explainable model, no I/O.

    score = presence × (floor + focus)^topical × (1 + mention) × reputation × ties × rejections

- *Knowledge* (focus): document voting, where each matching post votes for its author (BM25F-weighted,
  sharpened), shaped by its role: an answer in someone else's thread counts four times a question.
  Retrieval is also conversation-level: everyone who answered in a thread that matches (through its
  question or any reply) gets credit, even when their own words do not match. Endorsements and the
  asker's check mark add weight; evidence fades with age. The sum is divided by a power of the
  person's total posts, so a focused expert is not drowned by someone who simply posts everywhere.
- *Presence*: people answer when they are around. Long-run recent activity (days), who posted in the
  last hours, and who is speaking in the channel right now (when the question comes from a channel).
- *Mentions*: a question that names someone (`@dana`, or `dana:` at the start of a line) is asking them.
- *Reputation*: answers of theirs that others endorsed or accepted, on any topic, raise them (log-scaled);
  so do earlier threads of the asker's they helped in (ties); "Not helpful" on the topic lowers them.
- Content-free posts ("thanks!", "+1", a bare link) never count and never show as evidence.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .conversation import Activity, Person, PostFacts

DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000
MINUTE_MS = 60 * 1000

EvidenceKind = Literal["answer", "question", "reply", "post"]


@dataclass(frozen=True, slots=True)
class Weights:
    """Every signal has a weight; setting one to zero removes the signal (the tests do exactly that)."""

    retrieve: int = 300
    """How many matching posts are considered."""
    key_terms: int = 30
    """Long questions are reduced to this many key terms before retrieval."""
    sharpen: float = 2.5
    """Exponent on each post's relative retrieval score: above 1, the best matches dominate the long tail."""
    answer: float = 1.0
    own_thread_reply: float = 0.5
    question: float = 0.25
    statement: float = 0.5
    """A root post that is not a question: in channels without threads, that is where answers are."""
    thread: float = 0.7
    """Answering in a thread that matches the topic (its question or another reply), own words aside."""
    follow_minutes: float = 10.0
    """Outside threads, others' posts this soon after a matching question count as its answers (0: off)."""
    follow_posts: int = 5
    endorsement: float = 0.25
    """Per endorsing reaction from someone else, up to three."""
    accepted: float = 1.0
    """The asker marked the answer with a check mark."""
    evidence_half_life_days: float = 45.0
    """Evidence halves in weight over this many days (0: evidence never fades)."""
    focus: float = 0.7
    """Knowledge is divided by (1 + the person's posts) to this power: topical share over sheer volume."""
    topical: float = 0.7
    """Exponent on knowledge: how much what someone said on the topic weighs against their presence."""
    floor: float = 0.03
    """Knowledge of someone with no matching post (a person in the room, or named in the question)."""
    presence_days: float = 0.05
    """Weight of long-run recent activity (posts halving every two weeks; answers count double)."""
    presence_hours: float = 1.0
    """Weight of posts in the last hours (halving every `presence_half_life_hours`)."""
    presence_half_life_hours: float = 1.0
    room: float = 0.3
    """Weight of speaking in the question's channel right now: its latest `room_posts` posts, each halving
    in weight over the channel's usual time to an answer (minutes in a chat, hours on a Q&A site)."""
    room_posts: int = 30
    card_presence: float = 0.6
    """On a card (asked for, not posted in a channel: who knows, rather than who will answer now),
    presence counts only to this power, so being around never outweighs knowing."""
    mention: float = 10.0
    """A person the question names is this much more likely (1 + mention times) to be the one asked."""
    reputation: float = 2.0
    """Boost per answer of theirs (any topic) that someone else endorsed or accepted (log-scaled)."""
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
    """The post's own words match; False when it counts as an answer in a thread that matches."""
    context: PostFacts | None = None
    """For an answer that matched through its thread: the thread's post that matched (its question, usually)."""


@dataclass(frozen=True, slots=True)
class Expert:
    person: Person
    score: float
    evidence: tuple[Evidence, ...]
    """The strongest posts behind the score, at most three."""
    posts: int
    """Their posts on the topic that count as evidence."""
    answers: int
    """Threads in which they gave a substantive answer on this topic."""
    questions: int
    endorsements: int
    last_active: int
    """Their latest post on the topic (0: none; they are here for their presence or a mention)."""
    mentioned: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    """What the conversation says around the request, besides the matching posts."""

    activity: Mapping[str, Activity]
    people: Mapping[str, Person]
    rejections: Mapping[str, int] = field(default_factory=dict)
    ties: Mapping[str, int] = field(default_factory=dict)
    """For each person, how many of the asker's earlier threads they replied in."""
    recent_posts: Mapping[str, Sequence[int]] = field(default_factory=dict)
    """When each candidate posted in the last hours."""
    room: Sequence[tuple[str, int]] = ()
    """(author, time) of the latest posts in the channel the question comes from, newest first."""
    pace_ms: float = HOUR_MS
    """How soon someone usually answers in that channel (Conversation.reply_latency)."""
    mentioned: Collection[str] = ()
    endorsed: Mapping[str, int] = field(default_factory=dict)
    """For each person, their answers anyone endorsed or accepted (Conversation.endorsed_answers)."""
    in_channel: bool = False
    """The request is a question just posted in a channel (an inline suggestion), not a card."""


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
    """A post's role: a reply that itself asks ("and that's safe without downtime?") is a question."""
    if not post.root_id:
        return "question" if post.is_question else "post"
    if post.asks:
        return "question"
    return "reply" if post.root_user_id == post.user_id else "answer"


def _quality(post: PostFacts, w: Weights) -> float:
    return 1.0 + w.endorsement * min(post.endorsements, 3) + w.accepted * post.accepted


def _decay(at: int, now: int, half_life_ms: float) -> float:
    if half_life_ms <= 0:
        return 1.0
    return math.exp2(-max(0, now - at) / half_life_ms)


def _knowledge(matched: Sequence[tuple[PostFacts, float]], threads: Mapping[str, Sequence[PostFacts]], now: int, w: Weights,
               excluded: Collection[str] = ()) -> dict[str, _Tally]:
    """Document voting over the matching posts, then conversation-level credit for matching threads. Scores are relative
    to the best match by someone who may be named: the question just asked matches itself best, and must not shrink
    every answer (a suggestion's confidence is absolute)."""
    if not matched:
        return {}
    named = [score for post, score in matched if post.user_id not in excluded]
    top = max(named or [score for _, score in matched]) or 1.0
    half_life = w.evidence_half_life_days * DAY_MS
    kind_weight = {"answer": w.answer, "reply": w.own_thread_reply, "question": w.question, "post": w.statement}
    tallies: dict[str, _Tally] = {}
    best_in_thread: dict[str, tuple[float, PostFacts]] = {}
    for post, score in matched:
        if post.content_free:
            continue
        s = (score / top) ** w.sharpen
        kind = post_kind(post)
        weight = s * kind_weight[kind] * _quality(post, w) * _decay(post.create_at, now, half_life)
        if weight > 0:
            tallies.setdefault(post.user_id, _Tally()).add(Evidence(post, kind, weight))
        if post.root_id and kind == "question":
            continue  # a follow-up question ("and that's safe?") does not make its thread about the topic
        thread = post.root_id or post.post_id
        if thread not in best_in_thread or best_in_thread[thread][0] < s:
            best_in_thread[thread] = (s, post)
    if w.thread <= 0:
        return tallies
    for thread, (s, via) in best_in_thread.items():
        asker = via.root_user_id if via.root_id else via.user_id
        best: dict[str, Evidence] = {}
        for reply in threads.get(thread, ()):
            if reply.user_id in (asker, via.user_id) or reply.create_at > now or reply.asks or reply.content_free:
                continue
            rw = s * w.thread * _quality(reply, w) * _decay(reply.create_at, now, half_life)
            if rw > 0 and (reply.user_id not in best or best[reply.user_id].weight < rw):
                best[reply.user_id] = Evidence(reply, "answer", rw, direct=False, context=via)
        for user_id, ev in best.items():
            tallies.setdefault(user_id, _Tally()).add(ev)
    return tallies


def _shown_first(ev: Evidence) -> tuple[bool, float, str]:
    """Shown first: what shows knowledge (answers and statements before questions), then the strongest,
    where a post whose own words match reads better than a reply that only sits in a matching thread."""
    return (ev.kind == "question", -ev.weight * (1.0 if ev.direct else 0.5), ev.post.post_id)


def _presence(user_id: str, ctx: Context, room: Mapping[str, float], now: int, w: Weights) -> float:
    days = ctx.activity[user_id].recent if user_id in ctx.activity else 0.0
    hours = sum(_decay(at, now, w.presence_half_life_hours * HOUR_MS) for at in ctx.recent_posts.get(user_id, ()) if at <= now)
    return 1e-9 + w.presence_days * days + w.presence_hours * hours + w.room * room.get(user_id, 0.0)


def rank(
    matched: Sequence[tuple[PostFacts, float]],
    threads: Mapping[str, Sequence[PostFacts]],
    ctx: Context,
    *,
    now: int,
    exclude: Collection[str] = (),
    limit: int = 10,
    weights: Weights = Weights(),
) -> list[Expert]:
    """Ranks people for the matched posts (post, retrieval score) and the replies of their threads."""
    w = weights
    tallies = _knowledge(matched, threads, now, w, frozenset(exclude))
    room: dict[str, float] = {}
    if w.room > 0:
        for user_id, at in ctx.room[: w.room_posts]:
            room[user_id] = room.get(user_id, 0.0) + _decay(at, now, ctx.pace_ms)
    mentioned = set(ctx.mentioned) if w.mention > 0 else set()
    candidates = set(tallies) | mentioned | set(room)
    excluded = set(exclude)
    scored: list[Expert] = []
    for user_id in candidates:
        person = ctx.people.get(user_id)
        if user_id in excluded or person is None or person.is_bot or person.deactivated or person.opted_out:
            continue
        t = tallies.get(user_id, _Tally())
        posts = ctx.activity[user_id].posts if user_id in ctx.activity else 0
        focus = t.total / (1 + posts) ** w.focus
        presence = _presence(user_id, ctx, room, now, w) ** (1.0 if ctx.in_channel else w.card_presence)
        score = presence * (w.floor + focus) ** w.topical
        if user_id in mentioned:
            score *= 1 + w.mention
        if w.reputation > 0:
            score *= 1 + w.reputation * math.log1p(ctx.endorsed.get(user_id, 0))
        if w.tie > 0:
            score *= 1 + w.tie * math.log1p(ctx.ties.get(user_id, 0))
        if w.rejection > 0:
            score *= w.rejection ** ctx.rejections.get(user_id, 0)
        evidence = tuple(sorted(t.evidence.values(), key=_shown_first)[:3])
        endorsements = sum(e.post.endorsements for e in t.evidence.values())
        scored.append(
            Expert(person, score, evidence, len(t.evidence), len(t.answered_threads), t.questions, endorsements, t.last_active, user_id in mentioned)
        )
    scored.sort(key=lambda e: (-e.score, e.person.username))
    return scored[:limit]


def confidence(experts: Sequence[Expert]) -> float:
    """How sure we are about the first person who answered on the topic (the first a suggestion would
    name): strong answers they gave on it, 3 or more is sure."""
    first = next((e for e in experts if e.answers), None)
    if first is None:
        return 0.0
    strong = sum(1 for e in first.evidence if e.kind == "answer" and e.weight >= 0.3)
    return min(1.0, strong / 3)

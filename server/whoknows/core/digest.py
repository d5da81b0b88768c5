"""A channel's learning digest for one period, assembled from the conversation store and the index. Pure.

Everything comes from the one channel: its posts in the period, its captured learnings. The index is
used only for its analyzer and its document counts (idf), never for other channels' text.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .conversation import Conversation, PostFacts
from .index import PostIndex
from .questions import is_question
from .topical import strip_noise, topical_words

TOPICS = 5
MIN_TOPIC_POSTS = 2
"""A term "came up" when at least this many posts of the period use it."""


@dataclass(frozen=True, slots=True)
class Learned:
    post: PostFacts
    flagged_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopicRow:
    term: str
    word: str
    """How people wrote it most often (the term is stemmed)."""
    posts: int
    score: float
    answerers: tuple[tuple[str, int], ...]
    """People who answered others with this word in the period, with how many answers, most first."""


@dataclass(frozen=True, slots=True)
class Helped:
    helper: str
    helped: str
    answers: int
    """Endorsed or accepted answers of the helper in the helped person's threads."""


@dataclass(frozen=True, slots=True)
class AnsweredQuestion:
    post: PostFacts
    answerers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    channel_id: str
    start: int
    end: int
    posts: int
    learned: tuple[Learned, ...]
    topics: tuple[TopicRow, ...]
    helped: tuple[Helped, ...]
    answered: tuple[AnsweredQuestion, ...]
    new_voices: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.posts or self.learned)

    def people(self) -> set[str]:
        """Every person the digest names (to look their names up once)."""
        out = {x.post.user_id for x in self.learned} | {u for x in self.learned for u in x.flagged_by}
        out |= {u for t in self.topics for u, _ in t.answerers} | {h.helper for h in self.helped} | {h.helped for h in self.helped}
        out |= {q.post.user_id for q in self.answered} | {u for q in self.answered for u in q.answerers} | set(self.new_voices)
        return out


def _period_posts(conv: Conversation, channel_id: str, start: int, end: int) -> list[PostFacts]:
    ids = [r[0] for r in conv.db.execute(
        "SELECT post_id FROM posts WHERE channel_id=? AND create_at>=? AND create_at<? ORDER BY create_at", (channel_id, start, end))]
    facts = conv.post_facts(ids)
    return [facts[i] for i in ids if i in facts]


def key_terms(posts: Sequence[PostFacts], index: PostIndex, limit: int = TOPICS) -> list[tuple[str, str, int, float]]:
    """(term, word, posts using it, tf-idf) for the period's most telling terms, best first."""
    stems: dict[str, str] = {}
    per_post: list[set[str]] = []
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    for post in posts:
        terms: set[str] = set()
        for low in topical_words(post.message):
            if low not in stems:
                analysed = index.terms(low)
                stems[low] = analysed[0] if len(analysed) == 1 else ""
            if stems[low]:
                terms.add(stems[low])
                surface[stems[low]][low] += 1
        per_post.append(terms)
    tf = Counter(t for terms in per_post for t in terms)
    candidates = [t for t, n in tf.items() if n >= MIN_TOPIC_POSTS and len(t) >= 3 and not t.isdigit()]
    total, df = index.document_frequencies(candidates)
    scored = [(t, tf[t] * (1.0 + math.log((1 + total) / (1 + df.get(t, 0))))) for t in candidates]
    scored.sort(key=lambda x: (-x[1], x[0]))
    return [(t, surface[t].most_common(1)[0][0], tf[t], s) for t, s in scored[:limit]]


def assemble(conv: Conversation, index: PostIndex, channel_id: str, start: int, end: int,
             captured: Mapping[str, Sequence[str]], *, hidden: frozenset[str] = frozenset()) -> Digest:
    """The digest of [start, end) in one channel. `captured`: post id -> who flagged it, for the period's
    learnings; `hidden`: people never named (opted out, deactivated, bots)."""
    posts = _period_posts(conv, channel_id, start, end)
    facts = conv.post_facts(list(captured))
    learned = tuple(Learned(facts[p], tuple(captured[p])) for p in captured if p in facts and facts[p].channel_id == channel_id)
    answers = [p for p in posts if p.root_id and p.root_user_id and p.user_id != p.root_user_id]

    topics = []
    analysed = {p.post_id: set(index.terms(strip_noise(p.message))) for p in answers}
    for term, word, n, score in key_terms(posts, index):
        by = Counter(p.user_id for p in answers if term in analysed[p.post_id] and p.user_id not in hidden)
        topics.append(TopicRow(term, word, n, score, tuple(sorted(by.items(), key=lambda x: (-x[1], x[0])))))

    pairs = Counter((p.user_id, p.root_user_id) for p in answers if (p.endorsements or p.accepted))
    helped = tuple(Helped(h, a, n) for (h, a), n in sorted(pairs.items(), key=lambda x: (-x[1], x[0]))
                   if h not in hidden and a not in hidden)

    roots = [p for p in posts if not p.root_id and is_question(p.message)]
    replies = conv.replies([p.post_id for p in roots])
    reply_facts = conv.post_facts([r for ids in replies.values() for r in ids])
    answered = []
    for root in roots:
        by_others = [reply_facts[r].user_id for r in replies.get(root.post_id, [])
                     if r in reply_facts and reply_facts[r].user_id != root.user_id and reply_facts[r].create_at < end]
        named = tuple(dict.fromkeys(u for u in by_others if u not in hidden))
        if by_others:
            answered.append(AnsweredQuestion(root, named))

    first = conv.db.execute(
        "SELECT user_id, MIN(create_at) FROM posts WHERE channel_id=? GROUP BY user_id HAVING MIN(create_at)>=? AND MIN(create_at)<? "
        "ORDER BY MIN(create_at)", (channel_id, start, end)).fetchall()
    new_voices = tuple(u for u, _ in first if u not in hidden)
    return Digest(channel_id, start, end, len(posts), learned, tuple(topics), helped, tuple(answered), new_voices)


__all__ = ["AnsweredQuestion", "Digest", "Helped", "Learned", "TopicRow", "assemble", "key_terms"]

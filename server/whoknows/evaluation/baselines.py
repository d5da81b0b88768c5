"""The three baselines of the evaluation protocol, computed on the same store and index as whoknows."""

from __future__ import annotations

from collections.abc import Collection

from ..core.conversation import Conversation, Person
from ..core.index import PostIndex
from ..core.query import clean_text

COMBMNZ_DEPTH = 100


def _may_appear(person: Person) -> bool:
    return not (person.is_bot or person.deactivated)


def popularity(conversation: Conversation, *, exclude: Collection[str], limit: int) -> list[str]:
    """People by number of posts ingested so far."""
    counts = conversation.post_counts()
    people = conversation.people(counts)
    order = sorted(counts, key=lambda u: (-counts[u], u))
    return [u for u in order if u not in exclude and _may_appear(people[u])][:limit]


def combmnz(conversation: Conversation, index: PostIndex, text: str, *, exclude: Collection[str], limit: int) -> list[str]:
    """BM25 top 100 posts for the whole query text; an author scores (their posts) x (sum of their scores)."""
    terms = index.terms(clean_text(text))
    hits = index.search(terms, limit=COMBMNZ_DEPTH)
    facts = conversation.post_facts([h.post_id for h in hits])
    count: dict[str, int] = {}
    total: dict[str, float] = {}
    for h in hits:
        if h.post_id in facts:
            u = facts[h.post_id].user_id
            count[u] = count.get(u, 0) + 1
            total[u] = total.get(u, 0.0) + h.score
    people = conversation.people(count)
    order = sorted(count, key=lambda u: (-count[u] * total[u], u))
    return [u for u in order if u not in exclude and _may_appear(people[u])][:limit]


RECENT_HALF_LIFE_MS = 14 * 24 * 3600 * 1000


def recent(conversation: Conversation, now: int, *, exclude: Collection[str], limit: int) -> list[str]:
    """People by recency-weighted activity: each earlier post counts 2^(-age / 14 days)."""
    weight = conversation.recency_weighted(now, RECENT_HALF_LIFE_MS)
    people = conversation.people(weight)
    order = sorted(weight, key=lambda u: (-weight[u], u))
    return [u for u in order if u not in exclude and _may_appear(people[u])][:limit]

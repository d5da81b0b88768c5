"""What a person is known for: the terms that set their posts apart (tf-idf over the index), with the posts
that show it. Pure: reads the conversation store and the index, from readable channels only."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from .conversation import Conversation, PostFacts
from .index import PostIndex
from .substance import is_content_free
from .topical import topical_words

MIN_POSTS_PER_TERM = 2
"""Someone with a few posts is known for a word only if it comes up in at least two of them."""


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    terms: tuple[str, ...]
    """Readable words, most telling first."""
    evidence: tuple[PostFacts, ...]
    posts: int


def known_for(conv: Conversation, index: PostIndex, user_id: str, readable: Collection[str], *, terms: int = 6, evidence: int = 3) -> Profile:
    posts = [p for p in conv.posts_by(user_id) if p.channel_id in readable and not is_content_free(p.message)]
    if not posts:
        return Profile(user_id, (), (), 0)
    counts: dict[str, int] = {}
    surface: dict[str, str] = {}
    by_term: dict[str, list[PostFacts]] = {}
    for post in posts:
        seen: set[str] = set()
        for word in topical_words(post.message):
            for term in index.terms(word):
                surface.setdefault(term, word)
                if term not in seen:
                    seen.add(term)
                    counts[term] = counts.get(term, 0) + 1
                    by_term.setdefault(term, []).append(post)
    total, freqs = index.document_frequencies(list(counts))

    def weight(term: str) -> float:
        return counts[term] * math.log(1 + total / max(1, freqs.get(term, 1)))

    least = MIN_POSTS_PER_TERM if len(posts) >= 2 * MIN_POSTS_PER_TERM else 1
    usable = [t for t in counts if counts[t] >= least]
    best = sorted(usable, key=lambda t: (-weight(t), t))[:terms]
    shown: list[PostFacts] = []
    for term in best:
        for post in by_term[term]:
            if post not in shown and len(shown) < evidence:
                shown.append(post)
    return Profile(user_id, tuple(surface[t] for t in best), tuple(shown), len(posts))

"""What a person is known for: the terms that set their posts apart (tf-idf over the index), with the posts
that show it. Pure: reads the conversation store and the index, from readable channels only.

Names are not topics: a word that is someone's username ("thanks bob", "ask carol.smith"), or that the person
addresses elsewhere ("@carol" in one post, "carol" in another), is never one, and
neither is chat filler ("lol", "haha") or a post that only repeats one word ("bob bob bob", "test test").
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from .conversation import Conversation, PostFacts
from .index import PostIndex
from .query import named
from .substance import ACKNOWLEDGEMENTS, is_content_free, substantive_words
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


def says_something(message: str) -> bool:
    """Not content-free, and not one word said over and over."""
    if is_content_free(message):
        return False
    words = substantive_words(message)
    return len(words) < 2 or len(set(words)) > 1


def _is_someone(conv: Conversation, word: str) -> bool:
    """Whether a word is a person's username (bots' names, such as "github", stay topics)."""
    user_id = conv.user_by_name(word)
    if user_id is None:
        return False
    person = conv.people([user_id]).get(user_id)
    return person is not None and not person.is_bot


def known_for(conv: Conversation, index: PostIndex, user_id: str, readable: Collection[str], *, terms: int = 6, evidence: int = 3,
              withheld: Collection[str] = ()) -> Profile:
    """`withheld`: posts deleted or edited but not yet applied (core.withheld), left out like deleted ones."""
    posts = [p for p in conv.posts_by(user_id) if p.channel_id in readable and p.post_id not in withheld and says_something(p.message)]
    if not posts:
        return Profile(user_id, (), (), 0)
    counts: dict[str, int] = {}
    surface: dict[str, str] = {}
    by_term: dict[str, list[PostFacts]] = {}
    for post in posts:
        seen: set[str] = set()
        for word in topical_words(post.message):
            if word in ACKNOWLEDGEMENTS:
                continue
            analysed = index.terms(word)
            for term in analysed:
                # A run of CJK characters gives several terms (its bigrams): each is its own word.
                surface.setdefault(term, word if len(analysed) == 1 else term)
                if term not in seen:
                    seen.add(term)
                    counts[term] = counts.get(term, 0) + 1
                    by_term.setdefault(term, []).append(post)
    total, freqs = index.document_frequencies(list(counts))

    def weight(term: str) -> float:
        return counts[term] * math.log(1 + total / max(1, freqs.get(term, 1)))

    addressed = {name for post in posts for name in named(post.message)}  # "@carol" somewhere: "carol" is a name
    least = MIN_POSTS_PER_TERM if len(posts) >= 2 * MIN_POSTS_PER_TERM else 1
    usable = sorted((t for t in counts if counts[t] >= least), key=lambda t: (-weight(t), t))
    best: list[str] = []
    for term in usable:  # best first, so only the few that may be shown are looked up as names
        if len(best) == terms:
            break
        word = surface[term]
        if word not in addressed and word not in (surface[b] for b in best) and not _is_someone(conv, word):
            best.append(term)
    shown: list[PostFacts] = []
    for term in best:
        for post in by_term[term]:
            if post not in shown and len(shown) < evidence:
                shown.append(post)
    return Profile(user_id, tuple(surface[t] for t in best), tuple(shown), len(posts))

"""From what a person typed to the terms we retrieve with.

Nothing typed is ever parsed as query syntax: the text is analysed into plain words, so `author:x`, `*`,
quotes or `AND NOT` are just words (or nothing), and no one can run a field query or a wildcard.
Long question text is reduced to its key terms (rarest in the index first), because every extra
common word in a long question adds noise to retrieval.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from .index import PostIndex

MAX_INPUT_CHARS = 4000
MAX_TERMS = 10
_WORD = re.compile(r"[\w][\w.'+-]*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Topic:
    text: str
    """The cleaned text the person gave, one line."""
    terms: tuple[str, ...]
    """Analysed terms used for retrieval, most telling first."""
    words: tuple[str, ...]
    """A readable word for each term, as the person wrote it (for "about ingress")."""

    @property
    def key(self) -> str:
        """Identity of the topic for feedback: the same terms in any order."""
        return " ".join(sorted(self.terms))

    @property
    def label(self) -> str:
        return " ".join(self.words[:3])


def clean_text(text: str) -> str:
    """Drops control and formatting characters (including bidi overrides) and squeezes whitespace."""
    kept = []
    for ch in text[:MAX_INPUT_CHARS]:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(" ")
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())


def analyse(text: str, index: PostIndex, *, max_terms: int = MAX_TERMS) -> Topic:
    cleaned = clean_text(text)
    surface: dict[str, str] = {}
    counts: dict[str, int] = {}
    for word in _WORD.findall(cleaned):
        for term in index.terms(word):
            counts[term] = counts.get(term, 0) + 1
            surface.setdefault(term, word.lower().strip(".'+-"))
    terms = list(counts)
    if len(terms) > max_terms:
        total, freqs = index.document_frequencies(terms)

        def weight(t: str) -> float:
            df = freqs.get(t, 0)
            if df == 0:
                return -1.0  # unknown to the index: cannot retrieve anything
            return (1 + math.log(counts[t])) * math.log(1 + total / df)

        order = {t: i for i, t in enumerate(terms)}
        terms = sorted(terms, key=lambda t: (-weight(t), order[t]))[:max_terms]
    return Topic(cleaned, tuple(terms), tuple(surface[t] for t in terms))

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
_WORD = re.compile(r"\w+(?:\.\w+)*", re.UNICODE)
_LAST_WORD = re.compile(r"\s+\S*\Z")
"""A word as the index's tokenizer sees it ("node.js" is one, "default-ssl-certificate" three)."""

_ASKING = re.compile(
    r"""^(?:
        (?:hey\s+|hi\s+|@|/)?whoknows\b[\s,:!]*
      | (?:so\s+|hey\s+|hi\s+|quick\s+question[\s,:]*)?
        (?:does|do|did)?\s*(?:any\s?one|any\s?body|some\s?one|some\s?body|people|you\s+guys|you\s+all|y'?all)
        (?:\s+here|\s+around)?\s+(?:know|knows|understand|understands|familiar\s+with|have\s+experience\s+with|tried)
        (?:\s+anything|\s+much)?(?:\s+(?:about|of|on|regarding))?\b
      | is\s+there\s+(?:any\s?one|any\s?body|some\s?one|some\s?body)(?:\s+here)?\s+who\s+knows(?:\s+(?:anything\s+)?about)?\b
      | who(?:'?s|\s+is)?\s+(?:(?:the|an|our|a)\s+)?(?:expert|go-to(?:\s+person)?|person\s+to\s+ask)\s+(?:on|in|for|about)\b
      | who\s+(?:here\s+)?(?:knows|understands|has\s+experience\s+with|is\s+familiar\s+with|worked\s+on|can\s+help(?:\s+me)?\s+with)(?:\s+(?:anything\s+)?about)?\b
      | (?:can|could)\s+(?:any\s?one|some\s?one|any\s?body|some\s?body)\s+help(?:\s+me)?\s+with\b
      | (?:i\s+)?need\s+(?:some\s+)?help\s+with\b
    )[\s,:]*""",
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING = re.compile(r"(?:[\s,]+(?:any\s?one|any\s?body|here|please|pls|thanks|thx))*[\s?!.]*$", re.IGNORECASE)
_NAMED = re.compile(r"(?<![\w@])@([a-z0-9][\w.-]*[a-z0-9_])|^\s*([a-z0-9][\w.-]*[a-z0-9_])\s*[:,]\s", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Topic:
    text: str
    """The cleaned text the person gave, one line."""
    terms: tuple[str, ...]
    """Analysed terms used for retrieval, most telling first."""
    words: tuple[str, ...]
    """A readable word for each term, as the person wrote it (for "about ingress")."""
    named: tuple[str, ...] = ()
    """Usernames the text addresses (lowercased): "@dana", or "dana:" opening a line."""

    @property
    def key(self) -> str:
        """Identity of the topic for feedback: the same terms in any order."""
        return " ".join(sorted(self.terms))

    @property
    def label(self) -> str:
        return " ".join(dict.fromkeys(self.words[:3]))

    @property
    def heading(self) -> str:
        """The topic as a card's heading reads it: "Who knows {heading}?"."""
        words = self.text.lower().split()
        if words and words[0] in _CLAUSE_WORDS:
            if len(words) > 1 and words[1] in _AUXILIARIES or len(self.text) > 60:
                return f"about {self.label}" if self.label else self.text  # a direct question: what it is about
            return self.text  # "how to rotate the password": Who knows how to rotate the password?
        return f"about {self.text if len(self.text) <= 60 else self.label}"


_CLAUSE_WORDS = frozenset({"how", "what", "why", "where", "when", "which", "whether", "if", "who"})
_AUXILIARIES = frozenset("do does did can could should would will is are am was were has have".split())


def shortened(text: str, limit: int = MAX_INPUT_CHARS) -> str:
    """At most `limit` characters, cut where a word ends (inside a word only when one word is longer than that)."""
    if len(text) <= limit:
        return text
    if text[limit].isspace():
        return text[:limit]
    head = text[:limit]
    last = _LAST_WORD.search(head)
    return head[: last.start()] if last and last.start() > 0 else head


def clean_text(text: str) -> str:
    """Drops control and formatting characters (including bidi overrides) and squeezes whitespace; text over
    MAX_INPUT_CHARS is cut at the last word that fits (`shortened`)."""
    kept = []
    for ch in shortened(text):
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(" ")
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())


def strip_request(text: str) -> str:
    """ "who knows about X?", "does anyone know how to X", "@whoknows X" and the like, reduced to X
    (a question that is not phrased that way is left as it is)."""
    reduced = text
    for _ in range(2):  # "@whoknows who knows about X"
        reduced = _ASKING.sub("", reduced, count=1)
    reduced = _TRAILING.sub("", reduced)
    return reduced if reduced.strip() else text.strip()


def named(text: str) -> set[str]:
    """Names a question addresses: "@dana" anywhere, or "dana:" / "dana," opening a line."""
    return {(m.group(1) or m.group(2)).lower() for m in _NAMED.finditer(text)}


def analyse(text: str, index: PostIndex, *, max_terms: int = MAX_TERMS) -> Topic:
    cleaned = strip_request(clean_text(text))
    surface: dict[str, str] = {}
    counts: dict[str, int] = {}
    for word in _WORD.findall(cleaned):
        for term in index.terms(word):
            counts[term] = counts.get(term, 0) + 1
            surface.setdefault(term, word.lower())
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
    return Topic(cleaned, tuple(terms), tuple(surface[t] for t in terms), tuple(sorted(named(shortened(text)))))

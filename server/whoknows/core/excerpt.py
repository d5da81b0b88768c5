"""The part of a post a card quotes: the window of words that shows the topic, not just the first line.

Pure: given the index's analyser (a word to its terms), finds the words whose terms are the topic's,
picks the window of at most `limit` characters holding the most of them, and remembers which words to
emphasise. The card escapes and emphasises them (cards.quote_marked); this module never formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

SNIPPET_CHARS = 160
TITLE_CHARS = 90
ELLIPSIS = "\u2026"

_CODE_FENCE = re.compile(r"```[^\n]*")
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S*", re.IGNORECASE)
_WORD = re.compile(r"\w+(?:\.\w+)*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Excerpt:
    text: str
    """Plain text, one line, at most the limit plus ellipses."""
    marks: frozenset[str]
    """Lowercased words of `text` that carry one of the topic's terms."""


def flatten(message: str) -> str:
    """One line: code fences and links out, whitespace squeezed (what a card can show at all)."""
    return " ".join(_URL.sub("\u2039link\u203a", _CODE_FENCE.sub(" ", message)).split())


def cut(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Shortens at a word boundary, with an ellipsis when something was cut."""
    flat = flatten(text)
    if len(flat) <= limit:
        return flat
    head = flat[: limit + 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else flat[:limit]).rstrip(" ,.;:") + ELLIPSIS


def excerpt(message: str, terms: Collection[str], terms_of: Callable[[str], list[str]], limit: int = SNIPPET_CHARS) -> Excerpt:
    """The window of `message` that shows the most of the topic's terms (the start when none does)."""
    flat = flatten(message)
    wanted = set(terms)
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(flat)]
    hits = [(start, end, word) for start, end, word in words if wanted.intersection(terms_of(word))]
    if not hits or len(flat) <= limit:
        text = cut(flat, limit)
        return Excerpt(text, frozenset(w.lower() for s, e, w in hits if e <= len(text)))
    # The window starting at a hit that covers the most hits; ties go to the earliest.
    best_start, best_count = hits[0][0], 0
    for start, _, _ in hits:
        count = sum(1 for s, e, _ in hits if s >= start and e <= start + limit)
        if count > best_count:
            best_start, best_count = start, count
    # Lead in with a few words of context before the first hit, at a word boundary.
    lead = max(0, best_start - limit // 4)
    if lead > 0:
        space = flat.find(" ", lead, best_start)
        lead = space + 1 if space != -1 else best_start
    window = flat[lead:]
    text = cut(window, limit)
    if lead > 0:
        text = ELLIPSIS + text
    shown = {w.lower() for s, e, w in hits if s >= lead and e - lead <= len(text)}
    return Excerpt(text, frozenset(shown))


def title(message: str, terms: Collection[str], terms_of: Callable[[str], list[str]]) -> Excerpt:
    """A thread's question as a short title: its first line, or the part of it that shows the topic."""
    first = next((line for line in message.splitlines() if line.strip()), message)
    shown = excerpt(first, terms, terms_of, TITLE_CHARS)
    if shown.marks or first == message:
        return shown
    return excerpt(message, terms, terms_of, TITLE_CHARS)

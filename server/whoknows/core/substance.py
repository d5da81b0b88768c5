"""Does a post say anything? Acknowledgements, "+1", thanks, a bare link or an emoji carry no knowledge.

A content-free post never counts as an answer, never shows as evidence and never makes anyone "known
for" a word. Pure and language-light: what is left of a post once links, code, mentions, emoji and
acknowledgement words are taken out decides.
"""

from __future__ import annotations

import functools
import re

_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w])@[\w.-]+")
_EMOJI = re.compile(r":[a-z0-9_+-]+:", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)

ACKNOWLEDGEMENTS = frozenset(
    """
    thanks thank thx ty tyvm thnx cheers ta kudos appreciated appreciate much lot lots ton tons so very really
    ok okay k kk alright right cool nice great awesome amazing perfect excellent brilliant neat sweet lovely good
    wow yay woo hooray lol lmao haha hah heh hehe rofl omg oh ah aha ahh hmm hm huh uh um yeah yep yup yes yea
    no nope nah sure np welcome you your u it that this one me my i we us that's it's thats its works worked
    working helped helps help indeed agree agreed same exactly true totally definitely absolutely interesting
    bookmarking bookmarked bookmark saving saved thread following subscribed noted got gotcha see understood
    makes sense sounds like plus too also again all and the a for to of man dude guys folks mate buddy
    please pls hi hello hey morning night bye later here there now
    til tia today learned learnt know good-to-know
    same too ditto problem problems issue issues question questions idea answer solution thing stuff case
    """.split()
)
"""Words that only acknowledge. A post made of these alone (any number of them) says nothing new."""


def substantive_words(message: str) -> list[str]:
    """The words of a post that are not code, links, mentions, emoji or acknowledgements."""
    text = _CODE_BLOCK.sub(" ", message)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    return [w for w in (m.lower().strip("'’-") for m in _WORD.findall(text)) if w and w not in ACKNOWLEDGEMENTS]


@functools.lru_cache(maxsize=65_536)
def is_content_free(message: str) -> bool:
    """True for an acknowledgement, a "+1", thanks, a bare link or emoji: nothing anyone could learn from.

    Code counts as content: a reply that is only a command (`kubectl rollout restart`) answers."""
    if _CODE_BLOCK.search(message) or _INLINE_CODE.search(message):
        return False
    return not substantive_words(message)

"""Is this root post a question worth routing to an expert?

Inline suggestions must be rare and right: a post qualifies only when it reads as a request for
knowledge (a question mark, or an interrogative or help-seeking opening) and has enough topical words
to route on. Small talk ("who's in for lunch?") and bare reactions ("really?") do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = re.compile(r"```.*?(```|$)|`[^`\n]*`", re.DOTALL)
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)
_QUOTED_LINE = re.compile(r"^>.*$", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9][a-z0-9'._+-]*", re.IGNORECASE)

_OPENERS = frozenset(
    "how what why where when which who whom whose is are was were does do did can could should would will "
    "has have any anyone anybody someone somebody".split()
)
_HELP = re.compile(
    r"\b(any ?one (know|knows|seen|tried|familiar)|does any ?(one|body)|is there (a|any) (way|tool|doc|runbook)|"
    r"how (do|can|should|would) (i|we|you)|how to|any (idea|ideas|tips|pointers)|need (some )?help|help (me )?with|"
    r"stuck (on|with)|can'?t figure|cannot figure|not sure (how|why|what|whether)|is it possible|"
    r"what'?s the (best|right|recommended)|who (knows|owns|can help|is the expert)|wondering (if|how|why|whether)|"
    r"trying to figure out|i'?m (getting|seeing) .*(error|failure|exception))\b",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(
    r"\b(how are (you|u|things)|how'?s it going|what'?s up|who'?s in|anyone (for|up for|want) (lunch|coffee|drinks|a)|"
    r"lunch|coffee|happy (birthday|friday|monday)|good (morning|night)|thank(s| you)|congrat\w*|welcome)\b",
    re.IGNORECASE,
)
_FILLER = frozenset(
    """a an the and or but if of to in on at for with from by about as into over after before this that these those it its
    i me my we our you your he she they them their there here be been being is are was were am do does did doing have has
    had can could should would will shall may might must how what why where when which who whom whose any anyone anybody
    someone somebody know knows get got just really very so too also still please thanks hi hello hey guys folks team
    some one all not no yes ok okay then than now again way need want like use using help""".split()
)

MIN_TOPIC_WORDS = 2
"""A question needs at least this many words that say what it is about."""


@dataclass(frozen=True, slots=True)
class QuestionVerdict:
    is_question: bool
    reason: str
    topic_words: int


def examine(text: str) -> QuestionVerdict:
    """Classifies a root post; the reason says why, for logs and tests."""
    prose = _QUOTED_LINE.sub(" ", _URL.sub(" ", _CODE.sub(" code ", text)))
    words = _WORD.findall(prose.lower())
    topic_words = sum(1 for w in words if w not in _FILLER and len(w) > 2)
    if not words:
        return QuestionVerdict(False, "no words", 0)
    asks = "?" in prose
    opens = words[0] in _OPENERS
    seeks_help = _HELP.search(prose) is not None
    if not (asks or seeks_help or (opens and len(words) >= 5)):
        return QuestionVerdict(False, "not phrased as a question", topic_words)
    if _SMALL_TALK.search(prose) and topic_words < 4:
        return QuestionVerdict(False, "small talk", topic_words)
    if topic_words < MIN_TOPIC_WORDS:
        return QuestionVerdict(False, "too little to route on", topic_words)
    return QuestionVerdict(True, "asks" if asks else "seeks help", topic_words)


def is_question(text: str) -> bool:
    return examine(text).is_question

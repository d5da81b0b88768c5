"""Whatever a post, a name or a question says, what whoknows quotes of it never notifies anyone and never
adds a link, an image or formatting to a card, a person card or an inline suggestion."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from whoknows.core.cards import quote, reason, render, render_card
from whoknows.core.conversation import Person, PostFacts
from whoknows.core.engine import Ranking
from whoknows.core.query import Topic
from whoknows.core.ranking import Evidence, Expert

NOW = 1_750_000_000_000
SITE = "http://mm.example"
_ESCAPED = re.compile(r"\\.", re.DOTALL)
_ACTIVE = re.compile(r"[\[\]<>`*_~#|\\$&]")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://|www\.", re.IGNORECASE)
_MENTION = re.compile(r"@")

_nasty = st.sampled_from([
    "@channel", "@here", "@all", "@alice", "a@b.example", "[x](http://evil.example)", "![i](http://evil.example/p.png)",
    "<http://evil.example>", "<!channel>", "http://evil.example", "HTTPS://EVIL", "www.evil.example", "javascript:alert(1)",
    "`code`", "```", "**b**", "__u__", "~~s~~", "# h", "> q", "1. x", "- x", "| t |", "$$x$$", "&amp;", "\\", "\\[", "\n", "\r\n",
    "\u2028", "\u202e", "\uff20", ":", "(", ")", "!", "=", "+",
])
_text = st.lists(_nasty | st.text(max_size=15), max_size=12).map("".join)


def inert(rendered: str) -> str:
    """What remains after removing backslash escapes: it must hold no active mark, mention or link."""
    return _ESCAPED.sub("", rendered)


def assert_safe(quoted: str) -> None:
    assert "\n" not in quoted and "\r" not in quoted
    rest = inert(quoted)
    assert not _ACTIVE.search(rest), quoted
    assert not _MENTION.search(quoted), quoted
    assert not _URL.search(quoted.replace("\\", "")), quoted
    assert "](" not in rest


@given(_text)
@settings(max_examples=600, deadline=None)
def test_quote_is_inert(text: str) -> None:
    assert_safe(quote(text))


def _expert(message: str, username: str, display: str) -> Expert:
    post = PostFacts("p1post0000000000000000000", "c1", "u1", "", "", NOW - 86_400_000, message, 2, False)
    person = Person("u1", username, display, False, False, False)
    return Expert(person=person, score=1.0, evidence=(Evidence(post, "answer", 1.0),), answers=1, questions=0, posts=1,
                  endorsements=2, last_active=NOW - 1000)


@given(message=_text, username=_text, display=_text, topic=_text, channel=_text, team=st.sampled_from(["eng", "acme"]))
@settings(max_examples=300, deadline=None)
def test_card_links_only_to_permalinks_and_mentions_nobody(message: str, username: str, display: str, topic: str, channel: str, team: str) -> None:
    expert = _expert(message, username, display)
    ranking = Ranking(Topic(topic, ("t",), (topic,)), (expert,), 0.5, 1)
    card = render_card(ranking, {"c1": (team, channel)}, now=NOW, site_url=SITE)
    everything = card.text + "\n" + "\n".join(str(a["text"]) for a in card.attachments)
    assert "@" not in everything
    links = re.findall(r"\]\(([^)]*)\)", inert(everything))
    assert links == [f"{SITE}/{team}/pl/p1post0000000000000000000"]
    assert not re.search(r"!\[", inert(everything))
    assert inert(everything).count("[") == 1  # the one evidence link


@given(names=st.lists(st.tuples(_text, _text), min_size=1, max_size=3), topic=_text)
@settings(max_examples=300, deadline=None)
def test_suggestion_mentions_nobody_and_links_nothing(names: list[tuple[str, str]], topic: str) -> None:
    people = [{"name": display or user, "username": user, "reason": reason(_expert("m", user, display), topic, NOW)} for user, display in names]
    text = render("suggestion.md.j2", intro="These people may know (suggested by whoknows):", people=people)
    assert "@" not in text
    rest = inert(text)
    assert "](" not in rest and "<" not in rest and not _URL.search(text.replace("\\", ""))
    assert len(text.splitlines()) == 1 + len(people)

"""Cards as people read them in Mattermost: built from a real ranking, checked on the rendered text.

A snippet quoted from a post must never notify anyone, never add a link, an image or formatting, and never
break out of its quote line."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import DAY_MS, NOW, TEAM, TOWN, World, days_ago, post, react, reply, user
from whoknows.core.cards import Card, quote, render_card
from whoknows.core.excerpt import SNIPPET_CHARS, cut
from whoknows.core.engine import Ranking

SITE = "https://chat.example.com"
MENTION = re.compile(r"@\w")
# The tail that the template adds to each evidence line: " · [~channel, when](permalink)".
EVIDENCE_LINE = re.compile(r"^> (?P<snippet>.*) · \[(?P<where>[^\]]*), (?P<when>[^\]]*)\]\((?P<link>[^)]*)\)$")
MARKDOWN_MARKS = set("`*_[]<>#|~\\")


def card_for(world: World, topic: str, **options: Any) -> tuple[Ranking, Card]:
    ranking = world.ask(topic, **options)
    channels = world.conversation.channel_team([ev.post.channel_id for e in ranking.experts for ev in e.evidence])
    return ranking, render_card(ranking, channels, now=NOW, site_url=SITE)


def evidence_lines(card: Card) -> list[dict[str, str]]:
    out = []
    for attachment in card.attachments:
        for line in attachment["text"].splitlines()[1:]:
            m = EVIDENCE_LINE.match(line)
            assert m, f"not an evidence line: {line!r}"
            out.append(m.groupdict())
    return out


def bare_marks(text: str) -> set[str]:
    """Markdown marks that are not escaped with a backslash (so Mattermost would act on them)."""
    bare: set[str] = set()
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in MARKDOWN_MARKS:
            bare.add(ch)
    return bare


EMPHASIS = re.compile(r"(?<!\\)\*\*(\w+(?:\.\w+)*)\*\*")
"""The one formatting a card adds to a quote: a topic word in bold."""


def unemphasised(snippet: str) -> str:
    """The snippet without the card's own bold around topic words (what the post itself contributed)."""
    return EMPHASIS.sub(r"\1", snippet)


def everything_shown(card: Card) -> str:
    return "\n".join([card.text, *(a["text"] for a in card.attachments), *(a["fallback"] for a in card.attachments)])


def one_snippet(world: World, message: str) -> str:
    """The snippet that the card shows for alice's one post `message` (which must mention terraform)."""
    world.ingest(user("alice", "Alice Archer"), post("p1", "alice", message))
    _, card = card_for(world, "terraform")
    lines = evidence_lines(card)
    assert len(card.attachments) == 1 and len(lines) == 1
    assert "**terraform**" in lines[0]["snippet"], "the topic is emphasised"
    return unemphasised(lines[0]["snippet"])


# -- nothing in a snippet can notify, link or format -----------------------------------------------


def test_mentions_in_a_snippet_notify_nobody(world: World) -> None:
    world.ingest(
        user("alice", "Alice Archer"),
        user("bob"),
        post("q1", "bob", "@channel @here @all terraform apply is stuck, @alice can you look?"),
        reply("a1", "q1", "alice", "@bob terraform lock: run force-unlock with the lock id (cc @here)"),
    )
    _, card = card_for(world, "terraform")

    shown = everything_shown(card)
    assert [a["fallback"] for a in card.attachments] == ["1. alice", "2. bob"]
    assert not MENTION.search(shown), shown
    assert "\uff20channel" in shown and "\uff20bob **terraform** lock" in shown, "the words are still readable (the topic in bold)"


@pytest.mark.parametrize(
    ("payload", "must_not_show"),
    [
        ("[the docs](http://e.example/x)", ["http://", "e.example"]),
        ("![diagram](http://e.example/i.png)", ["http://", "i.png"]),
        ("<http://e.example>", ["http://", "e.example"]),
        ("see http://e.example/x for more", ["http://"]),
        ("see HTTPS://E.EXAMPLE/X for more", ["HTTPS://"]),
        ("see www.e.example for more", ["www.e.example"]),
        ("<b>bold</b> and <img src=x onerror=alert(1)>", []),
        ("**bold** and __strong__ and ~~gone~~", []),
        ("run `terraform init` first", []),
        ("```bash\nterraform apply -auto-approve\n```", ["```", "bash"]),
        ("| a | b |\n|---|---|", []),
    ],
)
def test_markdown_in_a_snippet_adds_nothing_to_the_card(world: World, payload: str, must_not_show: list[str]) -> None:
    snippet = one_snippet(world, f"terraform tip: {payload} ok")

    assert bare_marks(snippet) == set(), snippet
    for raw in must_not_show:
        assert raw not in snippet, snippet
    assert snippet.startswith("terraform tip:")


@pytest.mark.parametrize(
    "payload",
    ["# heading", "### heading", "- item", "+ item", "* item", "1. item", "7) item", "> quoted", "=== setext", "---"],
)
def test_a_snippet_cannot_start_a_heading_list_or_quote(world: World, payload: str) -> None:
    snippet = one_snippet(world, f"{payload} terraform")

    assert snippet.startswith("\\") or re.match(r"^\d+\\[.)]", snippet), snippet
    assert bare_marks(snippet) == set(), snippet


def test_newlines_never_break_out_of_the_quote_line(world: World) -> None:
    message = "terraform fix:\n# Heading\n\n- item one\n> quoted\n\n```\nterraform state rm x\n```\n\n1. last\n***\nend"
    world.ingest(user("alice"), post("p1", "alice", message), post("p2", "alice", "terraform\r\nwindows\rline\u2028ends"))
    _, card = card_for(world, "terraform")

    (attachment,) = card.attachments
    lines = attachment["text"].split("\n")
    assert lines[0].startswith("**1. ")
    assert len(lines) == 3 and all(line.startswith("> ") for line in lines[1:]), lines
    assert all(bare_marks(unemphasised(ln["snippet"])) == set() for ln in evidence_lines(card))


# -- what a card says ---------------------------------------------------------------------------------


def test_long_posts_are_cut_at_a_word_boundary_with_an_ellipsis(world: World) -> None:
    message = "terraform " + " ".join(f"word{i}" for i in range(80))
    snippet = one_snippet(world, message)

    assert snippet.endswith("\u2026")
    kept = snippet[:-1]
    assert SNIPPET_CHARS * 3 // 4 <= len(kept) <= SNIPPET_CHARS
    assert message.startswith(kept) and message[len(kept)] == " ", "cut between two words"


def test_short_posts_are_shown_whole() -> None:
    assert cut("terraform plan is clean") == "terraform plan is clean"
    assert cut("x" * 400) == "x" * SNIPPET_CHARS + "\u2026", "one endless word is cut where it must be"


def test_evidence_links_to_the_permalink_of_each_post(world: World) -> None:
    world.ingest(
        user("alice"),
        user("bob"),
        post("q1", "bob", "terraform drift on the vpc module"),
        reply("a1", "q1", "alice", "terraform refresh then plan again"),
    )
    _, card = card_for(world, "terraform")

    links = {ln["link"] for ln in evidence_lines(card)}
    assert links == {f"{SITE}/{TEAM}/pl/a1", f"{SITE}/{TEAM}/pl/q1"}
    assert {ln["where"] for ln in evidence_lines(card)} == {f"\\~{TOWN}"}


def test_people_are_named_without_at_signs(world: World) -> None:
    world.ingest(user("alice", "Alice Archer"), user("bob", "@channel"), post("p1", "alice", "terraform"), post("p2", "bob", "terraform"))
    _, card = card_for(world, "terraform")

    headers = [a["text"].splitlines()[0] for a in card.attachments]
    # A root post that is not a question is a plain post, not "asked".
    assert headers[0].startswith("**1. Alice Archer** (alice) · wrote 1 post about terraform, latest 1 week ago")
    assert headers[1].startswith("**2. \uff20channel** (bob) · ")
    assert not MENTION.search(everything_shown(card))


def test_an_empty_ranking_says_nobody_yet_and_what_to_try(world: World) -> None:
    world.ingest(user("alice"), post("p1", "alice", "terraform"))
    _, card = card_for(world, "quantum entanglement")

    assert card.attachments == [] and card.props() == {}
    assert card.text.startswith("#### Who knows about quantum entanglement?")
    assert "Nobody yet" in card.text and "Try other words" in card.text


def test_the_reason_line_counts_what_the_person_did(world: World) -> None:
    world.ingest(
        user("alice", "Alice Archer"),
        user("bob"),
        user("carol"),
        post("q1", "bob", "terraform plan wants to recreate the bucket", at=days_ago(41)),
        reply("a1", "q1", "alice", "the bucket name changed case; import it again", at=days_ago(40)),
        post("q2", "carol", "terraform provider upgrade broke the module", at=days_ago(21)),
        reply("a2", "q2", "alice", "pin the provider to 4.x until the module is fixed", at=days_ago(20)),
        react("a2", "carol", "white_check_mark", at=days_ago(19)),
        post("q3", "bob", "terraform workspace for staging?", at=days_ago(3)),
        reply("a3", "q3", "alice", "yes, one workspace per environment", at=days_ago(2)),
    )
    ranking, card = card_for(world, "terraform")

    assert [e.person.username for e in ranking.experts] == ["alice", "bob", "carol"]
    header = [a["text"].splitlines()[0] for a in card.attachments]
    assert header[0] == "**1. Alice Archer** (alice) · answered 3 threads about terraform, 1 endorsement, latest 2 days ago"
    # Only q3 reads as a question; q1 and q2 are statements of a problem (no question mark).
    assert header[1] == "**2. bob** (bob) · asked 1 question about terraform, latest 3 days ago"
    assert header[2] == "**3. carol** (carol) · wrote 1 post about terraform, latest 3 weeks ago"
    assert card.text == (
        "#### Who knows about terraform?\n3 people, from 3 matching posts in channels you can read."
    )


def test_a_single_answer_reads_in_the_singular(world: World) -> None:
    world.ingest(
        user("alice"),
        user("bob"),
        post("q1", "bob", "kafka consumer lag keeps growing", at=NOW - 50 * DAY_MS),
        reply("a1", "q1", "alice", "kafka needs more partitions for that topic", at=NOW - 3 * 60 * 60 * 1000),
    )
    _, card = card_for(world, "kafka", exclude=["bob"])

    (attachment,) = card.attachments
    assert attachment["text"].splitlines()[0] == "**1. alice** (alice) · answered 1 thread about kafka, latest 3 hours ago"
    assert card.text.splitlines()[1] == "1 person, from 2 matching posts in channels you can read."


def test_quote_leaves_plain_words_alone() -> None:
    assert quote("terraform plan is clean, apply it") == "terraform plan is clean, apply it"

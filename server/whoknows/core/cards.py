"""Cards: a ranking turned into a Mattermost message (markdown text plus message attachments).

Everything quoted from a post or a name goes through `quote`, which makes sure a snippet can never
notify anyone (@channel, @here, @all, @someone) and never adds links, images or formatting to a card.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from .conversation import PostFacts
from .excerpt import SNIPPET_CHARS, Excerpt, cut, excerpt, flatten, title
from .ranking import Evidence, Expert

if TYPE_CHECKING:
    from .engine import Ranking

CARD_COLOR = "#2f81f7"

_WORD_SPLIT = re.compile(r"(\w+(?:\.\w+)*)", re.UNICODE)
# Marks that format, link or embed anywhere in a line of Mattermost markdown; escaped with a backslash.
_MARKDOWN = re.compile(r"([\\`*_~\[\]<>#|$&])")
# Marks that only format at the start of a line (lists, quotes, ordered lists).
_LINE_START = re.compile(r"^(\d+)([.)])|^([-+>=])")
_FULLWIDTH_AT = "\uff20"


def assets_dir() -> Path:
    env = os.environ.get("WHOKNOWS_ASSETS")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "webapp-assets"


def _escape(piece: str) -> str:
    # A full-width at sign reads the same but is not a mention to Mattermost.
    return _MARKDOWN.sub(r"\\\1", piece).replace("@", _FULLWIDTH_AT)


def _inert_line_start(text: str) -> str:
    return _LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", text)


def quote(text: object) -> str:
    """Plain text safe inside a card: one line, no mentions, no markdown, no links."""
    return _inert_line_start(_escape(flatten(str(text))))


def quote_marked(shown: Excerpt) -> str:
    """`quote` for an excerpt, with the topic's words in bold (the only formatting a card adds to a quote)."""
    pieces = _WORD_SPLIT.split(flatten(shown.text))
    marked = (f"**{_escape(p)}**" if i % 2 == 1 and p.lower() in shown.marks else _escape(p) for i, p in enumerate(pieces))
    return _inert_line_start("".join(marked))


def ago(delta_ms: int) -> str:
    """A short, friendly distance in time ("3 days ago")."""
    minutes = max(0, delta_ms) // 60_000
    if minutes < 1:
        return "just now"
    for size, unit in ((525_600, "year"), (43_200, "month"), (10_080, "week"), (1_440, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size:
            n = minutes // size
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "just now"


def permalink(site_url: str, team: str, post_id: str) -> str:
    return f"{site_url}/{team}/pl/{post_id}"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(assets_dir() / "templates"),
        autoescape=False,  # the output is Mattermost markdown, escaped by `quote`, not HTML
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters["quote"] = quote
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context).strip()


@dataclass(frozen=True, slots=True)
class Card:
    text: str
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def props(self) -> dict[str, Any]:
        return {"attachments": self.attachments} if self.attachments else {}


def reason(expert: Expert, topic: str, now: int) -> str:
    return render(
        "reason.txt.j2",
        answers=expert.answers,
        questions=expert.questions,
        posts=expert.posts,
        endorsements=expert.endorsements,
        mentioned=expert.mentioned,
        topic=topic,
        latest=ago(now - expert.last_active),
    )


@dataclass(frozen=True, slots=True)
class ShownEvidence:
    """One evidence item as the card shows it: the post, the excerpt quoted, and for an answer that
    matched through its thread, the thread's matching question as its title."""

    post: PostFacts
    snippet: Excerpt
    title: Excerpt | None


def shown_evidence(ev: Evidence, terms: tuple[str, ...], terms_of: Callable[[str], list[str]] | None) -> ShownEvidence:
    if terms_of is None:
        return ShownEvidence(ev.post, Excerpt(cut(ev.post.message), frozenset()), None)
    snippet = excerpt(ev.post.message, terms, terms_of)
    heading = title(ev.context.message, terms, terms_of) if ev.context is not None and not ev.direct else None
    return ShownEvidence(ev.post, snippet, heading)


def expert_evidence(expert: Expert, ranking: Ranking) -> list[ShownEvidence]:
    """What the card shows for one person: the same for chat and for the evaluation's evidence measure."""
    return [shown_evidence(ev, ranking.topic.terms, ranking.terms_of) for ev in expert.evidence]


def evidence_view(post: PostFacts, channels: Mapping[str, tuple[str, str]], now: int, site_url: str) -> dict[str, str]:
    """A post quoted from its start (what someone is known for)."""
    return shown_view(ShownEvidence(post, Excerpt(cut(post.message), frozenset()), None), channels, now, site_url)


def shown_view(shown: ShownEvidence, channels: Mapping[str, tuple[str, str]], now: int, site_url: str) -> dict[str, str]:
    """One quoted post as a card shows it: a safe snippet, its channel, its age and its permalink."""
    post = shown.post
    team, channel = channels.get(post.channel_id, ("", post.channel_id))
    return {
        "snippet": quote_marked(shown.snippet),
        "title": quote_marked(shown.title) if shown.title else "",
        "where": f"~{channel}",
        "when": ago(now - post.create_at),
        "link": permalink(site_url, team, post.post_id),
    }


def expert_attachment(
    rank: int, expert: Expert, ranking: Ranking, channels: Mapping[str, tuple[str, str]], *, now: int, site_url: str
) -> dict[str, Any]:
    person = expert.person
    text = render(
        "expert.md.j2",
        rank=rank,
        name=person.display_name or person.username,
        username=person.username,
        reason=reason(expert, ranking.topic.label or ranking.topic.text, now),
        evidence=[shown_view(shown, channels, now, site_url) for shown in expert_evidence(expert, ranking)],
    )
    return {"color": CARD_COLOR, "fallback": f"{rank}. {person.username}", "text": text}


def render_card(ranking: Ranking, channels: Mapping[str, tuple[str, str]], *, now: int, site_url: str) -> Card:
    """The /whoknows card for a ranking."""
    text = render("card.md.j2", heading=ranking.topic.heading, topic=ranking.topic.label or ranking.topic.text,
                  experts=ranking.experts, considered=ranking.considered_posts)
    attachments = [expert_attachment(i, e, ranking, channels, now=now, site_url=site_url) for i, e in enumerate(ranking.experts, start=1)]
    return Card(text, attachments)

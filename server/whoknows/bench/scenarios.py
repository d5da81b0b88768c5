"""The timed paths, built from the same functions the service calls: the slash command's card, the
inline suggestion under a question, and the engine's raw retrieval for the same terms (the reference)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from .. import messages
from ..commands import Ask, parse
from ..core.cards import Card, reason, render, render_card
from ..core.questions import is_question
from ..core.query import analyse
from ..store import Store
from ..suggestions import DAY_MS, MINUTE_MS, pick

CARD_PEOPLE = 3
"""plugin.json CardPeople default."""
MIN_CONFIDENCE = 0.3
"""plugin.json SuggestionMinConfidence default."""
PERSON_QUIET_MS = 60 * MINUTE_MS


@dataclass(frozen=True, slots=True)
class Asked:
    """One timed request: the text, who asks, and where (the channel of a question)."""

    text: str
    caller: str
    channel_id: str


def callers(store: Store, count: int, seed: int) -> list[str]:
    """Active people, sampled: callers differ in which private channels they can read."""
    rows = store.conversation.db.execute("SELECT user_id FROM users WHERE is_bot=0 AND deactivated=0 ORDER BY user_id").fetchall()
    people = [r[0] for r in rows]
    return random.Random(seed).sample(people, min(count, len(people)))


def slash_command(store: Store, text: str, caller: str, *, now: int, site_url: str) -> Card | None:
    """`/whoknows <text>` as responder.topic_card answers it, with the store's readable channels
    standing in for the (cached) Mattermost lookup. None when the text is no topic."""
    cmd = parse(text)
    if not isinstance(cmd, Ask):
        return None
    conv = store.conversation
    readable = conv.readable_channels(caller)
    ranking = store.engine.ask(cmd.topic, now=now, readable=readable, exclude=[caller], limit=CARD_PEOPLE)
    if not ranking.topic.terms:
        return None
    channels = conv.channel_team([e.post.channel_id for x in ranking.experts for e in x.evidence])
    return render_card(ranking, channels, now=now, site_url=site_url)


def inline_suggestion(store: Store, asked: Asked, public: frozenset[str], *, now: int) -> str | None:
    """A new root question in a channel, as runtime + suggestions.wanted/_suggest handle it (the channel's
    busyness check, the question test, the ranking, the policy, the note). None when nothing is suggested."""
    conv = store.conversation
    conv.channel_posts_since(asked.channel_id, now - DAY_MS)
    if not is_question(asked.text):
        return None
    readable = public | {asked.channel_id}
    ranking = store.engine.ask(asked.text, now=now, readable=readable, exclude=[asked.caller], limit=10)
    if ranking.confidence < MIN_CONFIDENCE:
        return None
    chosen = pick(ranking.experts, asked.caller, {}, now, PERSON_QUIET_MS)
    if not chosen:
        return None
    topic = ranking.topic.label
    people = [{"name": e.person.display_name or e.person.username, "username": e.person.username, "reason": reason(e, topic, now)} for e in chosen]
    return render("suggestion.md.j2", intro=messages.suggestion_intro(), people=people)


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What the engine sends to the index for one request: analysed terms and the channels it hides."""

    terms: tuple[str, ...]
    hidden: frozenset[str]


def retrievals(store: Store, asked: Sequence[Asked], *, command: bool) -> list[Retrieval]:
    """The exact index calls Engine.rank_topic makes for these requests (prepared outside the timing)."""
    conv, index, weights = store.conversation, store.index, store.engine.weights
    everything = conv.all_channels()
    public = conv.readable_channels(None)
    out = []
    for a in asked:
        text = a.text
        if command:
            cmd = parse(text)
            text = cmd.topic if isinstance(cmd, Ask) else ""
            readable = conv.readable_channels(a.caller)
        else:
            readable = public | {a.channel_id}
        topic = analyse(text, index, max_terms=weights.key_terms)
        out.append(Retrieval(topic.terms, everything - readable))
    return out


def raw_search(store: Store, r: Retrieval) -> int:
    """The engine alone: WhooshIndex.search with the terms and limit Engine uses (no ranking, no card)."""
    return len(store.index.search(r.terms, limit=store.engine.weights.retrieve, exclude_channels=r.hidden))

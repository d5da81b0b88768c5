"""The timed paths, built from the same functions the service calls: the slash command's card, the
inline suggestion under a question, and the engine's raw retrieval for the same terms (the reference)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..app.commands import Ask, UseCases, command, parse
from ..app.ports import Services
from ..app.suggestions import compose, scope, wanted
from ..core.events import ChannelUpdated, PostCreated
from ..core.query import analyse
from ..storage.store import Store


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


async def slash_command(app: UseCases, asked: Asked) -> dict[str, Any]:
    """`/whoknows <text>` through the slash command's own entry (parse, the permission check with its cache, the
    card, its buttons), as the service answers it."""
    return await command(app, {"text": asked.text, "user_id": asked.caller, "channel_id": asked.channel_id})


def inline_suggestion(svc: Services, asked: Asked, *, now: int) -> str | None:
    """A new root question in a channel, through suggestions.wanted and suggestions.compose (the channel's
    busyness, the question test, the ranking, the policy, the note), with evidence from what production scopes
    a note to (the team's public channels and the channel). None when nothing is suggested."""
    post = PostCreated("bench-question", asked.channel_id, asked.caller, asked.text, now)
    if not wanted(svc, post, now):
        return None
    note = compose(svc, post, scope(svc.presence.channels, asked.channel_id), now)
    return note[0] if note is not None else None


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What the engine sends to the index for one request: analysed terms and the channels it hides."""

    terms: tuple[str, ...]
    hidden: frozenset[str]


def retrievals(store: Store, asked: Sequence[Asked], *, command: bool) -> list[Retrieval]:
    """The exact index calls Engine.rank_topic makes for these requests (prepared outside the timing)."""
    conv, index, weights = store.conversation, store.index, store.engine.weights
    everything = conv.all_channels()
    channels = {c: ChannelUpdated(c, t, n, k) for c, t, n, k in conv.db.execute("SELECT channel_id, team_id, name, type FROM channels")}
    out = []
    for a in asked:
        text = a.text
        if command:
            cmd = parse(text)
            text = cmd.topic if isinstance(cmd, Ask) else ""
            readable = conv.readable_channels(a.caller)
        else:
            readable = scope(channels, a.channel_id)
        topic = analyse(text, index, max_terms=weights.key_terms)
        out.append(Retrieval(topic.terms, everything - readable))
    return out


def raw_search(store: Store, r: Retrieval) -> int:
    """The engine alone: WhooshIndex.search with the terms and limit Engine uses (no ranking, no card)."""
    return len(store.index.search(r.terms, limit=store.engine.weights.retrieve, exclude_channels=r.hidden))

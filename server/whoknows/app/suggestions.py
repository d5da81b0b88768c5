"""Inline suggestions: under a new question in a channel, a compact note naming at most three people who
may know, with one-line reasons. The policy (who may be named, when a channel or a person is quiet) is
pure; `suggest` applies it to a live post."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Mapping, Sequence

from .. import messages
from ..core.index import IndexUnavailable
from ..core.cards import reason, render
from ..core.events import ChannelUpdated, PostCreated
from ..core.questions import is_question
from ..core.ranking import Expert
from .ports import Services
from .posting import reply_once

log = logging.getLogger("whoknows.suggestions")
PROP_SUGGESTION = "whoknows_suggestion"
"""The idempotency key of a suggestion in a thread: the question's post id (one suggestion per question)."""
MAX_PEOPLE = 3
DAY_MS = 24 * 3600 * 1000
MINUTE_MS = 60_000


def channel_allows(enabled: bool, choice: bool | None, posts_last_day: int, busy_threshold: int) -> bool:
    """Suggestions on globally; the channel admins' choice wins; otherwise off in very busy channels."""
    if not enabled:
        return False
    if choice is not None:
        return choice
    return posts_last_day <= busy_threshold


def quiet(last_at: int | None, now: int, quiet_ms: int) -> bool:
    """True while the last suggestion is more recent than the quiet time."""
    return last_at is not None and now - last_at < quiet_ms


def pick(experts: Sequence[Expert], asker: str, last_named: Mapping[str, int | None], now: int, quiet_ms: int) -> list[Expert]:
    """At most three people who answered on the topic (not someone who only asked about it, or is merely
    around): never the asker, never bots or opted-out people, none named too recently."""
    out = []
    for e in experts:
        p = e.person
        if e.answers == 0 or p.user_id == asker or p.is_bot or p.opted_out or p.deactivated or quiet(last_named.get(p.user_id), now, quiet_ms):
            continue
        out.append(e)
        if len(out) == MAX_PEOPLE:
            break
    return out


async def suggest(svc: Services, post: PostCreated) -> None:
    """Runs after a live root post was applied; never raises (errors are logged with an id)."""
    try:
        await _suggest(svc, post)
    except IndexUnavailable as error:  # OpenSearch away: no suggestion this time, nothing to look into
        log.info("no suggestion for post %s: %s", post.post_id, error)
    except Exception:
        log.exception("error %s: suggestion for post %s", uuid.uuid4().hex[:8], post.post_id)


def wanted(svc: Services, post: PostCreated, now: int) -> bool:
    """Decided as the post is applied (so a later switch of the channel does not change it)."""
    s, state = svc.settings, svc.state
    busy = svc.store.conversation.channel_posts_since(post.channel_id, now - DAY_MS)
    if not channel_allows(s.suggestions, state.channel_suggestions(post.channel_id), busy, s.high_traffic_posts_per_day):
        return False
    if quiet(state.last(f"channel:{post.channel_id}"), now, int(s.suggestion_channel_minutes * MINUTE_MS)):
        return False
    if not is_question(post.message):
        log.debug("post %s is not a question", post.post_id)
        return False
    return True


def scope(channels: Mapping[str, ChannelUpdated], channel_id: str) -> frozenset[str]:
    """Everyone in the channel sees the note: evidence only from this team's public channels and this channel."""
    here = channels.get(channel_id)
    team = here.team_id if here is not None else None
    return frozenset({c.channel_id for c in channels.values() if c.type == "O" and c.team_id == team} | {channel_id})


def compose(svc: Services, post: PostCreated, readable: Collection[str], now: int) -> tuple[str, list[Expert]] | None:
    """The note under a question and the people it names, or None when nobody should be suggested."""
    s, state = svc.settings, svc.state
    ranking = svc.store.engine.ask(post.message, now=now, readable=readable, exclude=[post.user_id], channel=post.channel_id, limit=10)
    if ranking.confidence < s.suggestion_min_confidence:
        log.info("no suggestion under %s: confidence %.2f is below %.2f", post.post_id, ranking.confidence, s.suggestion_min_confidence)
        return None
    last = {e.person.user_id: state.last(f"person:{e.person.user_id}") for e in ranking.experts}
    chosen = pick(ranking.experts, post.user_id, last, now, int(s.suggestion_person_minutes * MINUTE_MS))
    if not chosen:
        return None
    topic = ranking.topic.label
    people = [{"name": e.person.display_name or e.person.username, "username": e.person.username, "reason": reason(e, topic, now)} for e in chosen]
    return render("suggestion.md.j2", intro=messages.suggestion_intro(), people=people), chosen


async def _suggest(svc: Services, post: PostCreated) -> None:
    s, state = svc.settings, svc.state
    now = svc.clock()
    note = compose(svc, post, scope(svc.presence.channels, post.channel_id), now)
    if note is None:
        return
    text, chosen = note
    if s.suggestion_mode == "thread":
        await reply_once(svc, post.channel_id, text, root_id=post.post_id, prop=PROP_SUGGESTION, value=post.post_id)
    else:
        await svc.chat.ephemeral(post.user_id, post.channel_id, text, root_id=post.post_id)
    state.mark(f"channel:{post.channel_id}", now)
    for e in chosen:
        state.mark(f"person:{e.person.user_id}", now)
    log.info("suggested %d people under post %s", len(chosen), post.post_id)

"""The slash command's replies about topics and people, and the person's own switches.

Replies are ephemeral. Evidence only ever comes from channels the caller can read (asked of Mattermost).
Person-facing mistakes are UserErrors whose text is the reply. Each command kind is a typed value made
by its row in app.commands.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from .. import messages
from ..core.cards import CARD_COLOR, Card, evidence_view, quote, render, render_card
from ..core.events import UserOptedIn, UserOptedOut
from ..core.profile import known_for
from ..errors import UserError
from ..storage.store import Store
from .ports import Services
from .signing import sign

if TYPE_CHECKING:
    from ..core.engine import Ranking

HOUR_MS = 3600 * 1000
_LONE_USERNAME = re.compile(r"^([a-z0-9][a-z0-9._-]{0,63})$", re.IGNORECASE)
"""A Mattermost username, alone (the topic "alice")."""
Attachments = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Ask:
    topic: str


@dataclass(frozen=True, slots=True)
class AboutPerson:
    username: str


@dataclass(frozen=True, slots=True)
class AboutMe:
    pass


@dataclass(frozen=True, slots=True)
class OptOut:
    pass


@dataclass(frozen=True, slots=True)
class OptIn:
    pass


@dataclass(frozen=True, slots=True)
class ChannelSuggestions:
    enabled: bool | None
    """None when the word after `channel` was neither on nor off."""


def ranked_card(store: Store, topic: str, caller: str | None, readable: Collection[str], *, now: int, limit: int,
                site_url: str, offset: int = 0) -> tuple[Ranking, Card]:
    """The ranking's page from `offset` and its card: what /whoknows, `whoknows ask` and the benchmark show."""
    ranking = store.engine.ask(topic, now=now, readable=readable, exclude=[caller] if caller else [], limit=offset + limit)
    page = dataclasses.replace(ranking, experts=ranking.experts[offset:])
    channels = store.conversation.channel_team([e.post.channel_id for x in page.experts for e in x.evidence])
    return page, render_card(page, channels, now=now, site_url=site_url)


def _someone_called(svc: Services, topic: str) -> str | None:
    """The username a one-word topic names (a person, not a bot), or None."""
    match = _LONE_USERNAME.match(topic)
    user_id = svc.store.conversation.user_by_name(match.group(1).lower()) if match else None
    person = svc.store.conversation.people([user_id]).get(user_id) if user_id else None
    return person.username if person is not None and not person.is_bot else None


async def topic_card(svc: Services, topic: str, user_id: str, channel_id: str, *, offset: int) -> tuple[str, Attachments]:
    """The card from `offset`. On the first page, a lone word that is someone's username and finds nobody shows
    that person's card instead (as `@username` does); when it finds people, the card says it is also a name."""
    readable = await svc.permissions.of(user_id)
    page, card = ranked_card(svc.store, topic, user_id, readable, now=svc.clock(), limit=svc.settings.card_people,
                             site_url=svc.settings.site_url, offset=offset)
    shown, trigger = page.experts, svc.settings.command_trigger
    someone = _someone_called(svc, topic) if offset == 0 else None
    if someone is not None and not shown:
        return messages.person_instead(quote(topic), someone, trigger) + "\n" + await person_card(svc, someone, user_id), []
    if not page.topic.terms:
        raise UserError(messages.nothing_to_search(quote(topic), trigger))
    if offset and not shown:
        raise UserError(messages.no_more_people())
    attachments = list(card.attachments)
    if shown:
        people = [x.person.user_id for x in shown]
        attachments.append(buttons(svc, topic, user_id, channel_id, people, offset + len(shown)))
    text = card.text + ("\n" + messages.also_a_person(someone, trigger) if someone is not None and shown else "")
    return text, attachments


def buttons(svc: Services, topic: str, user_id: str, channel_id: str, people: list[str], next_offset: int) -> dict[str, Any]:
    url = svc.presence.callback_url + "/action"
    expires = svc.clock() + int(svc.settings.action_ttl_hours * HOUR_MS)
    secret = svc.state.action_secret()
    base = {"t": topic, "u": user_id, "c": channel_id, "p": people, "o": next_offset}

    def button(action_id: str, name: str) -> dict[str, Any]:
        context = {"s": sign(secret, {**base, "a": action_id}, expires_at=expires)}
        return {"id": action_id, "name": name, "type": "button", "integration": {"url": url, "context": context}}

    return {
        "color": CARD_COLOR,
        "fallback": "whoknows buttons",
        "actions": [button("ask", "Ask them in this channel"), button("nothelpful", "Not helpful"), button("more", "Show more")],
    }


async def person_card(svc: Services, username: str | None, caller: str) -> str:
    """What someone is known for (`@username`), or the caller (`me`: with a word on being opted out, if they are)."""
    conv = svc.store.conversation
    if username is None:
        await svc.feed.introduce(caller)  # someone who never posted is known by name too
    user_id = caller if username is None else conv.user_by_name(username) or await _introduce_by_name(svc, username)
    if user_id is None:
        raise UserError(messages.unknown_person(username or ""))
    person = conv.people([user_id])[user_id]
    if username is not None and (person.opted_out or person.is_bot or person.deactivated):
        raise UserError(messages.person_opted_out(username))
    readable = await svc.permissions.of(caller)
    profile = known_for(conv, svc.store.index, user_id, readable, withheld=svc.store.engine.withheld)
    now = svc.clock()
    channels = conv.channel_team([p.channel_id for p in profile.evidence])
    evidence = [evidence_view(post, channels, now, svc.settings.site_url) for post in profile.evidence]
    card = render("person.md.j2", name=person.display_name or person.username, username=person.username,
                  terms=list(profile.terms), posts=profile.posts, evidence=evidence)
    if username is None and person.opted_out:
        return messages.you_are_opted_out(svc.settings.command_trigger, svc.settings.opted_out_by_default) + "\n\n" + card
    return card


async def _introduce_by_name(svc: Services, username: str) -> str | None:
    """Someone never heard of here (joined while whoknows was away, never posted since): asked of the server by name and
    introduced, so they are found and shown by name like everyone else. None: the server knows nobody by that name."""
    found = await svc.chat.user_by_username(username)
    if not found or not isinstance(found.get("id"), str):
        return None
    await svc.feed.introduce(found["id"])
    return svc.store.conversation.user_by_name(username) and str(found["id"])


async def opt(svc: Services, user_id: str, out: bool) -> str:
    event = UserOptedOut(user_id, svc.clock()) if out else UserOptedIn(user_id, svc.clock())
    await svc.feed.submit([event])
    await svc.feed.drained()
    return messages.opted_out() if out else messages.opted_in()


async def channel_switch(svc: Services, channel_id: str, user_id: str, enabled: bool | None) -> str:
    if enabled is None:
        raise UserError(messages.unknown_subcommand("channel", svc.settings.command_trigger))
    if not await svc.permissions.is_channel_admin(channel_id, user_id):
        raise UserError(messages.not_channel_admin())
    svc.state.set_channel_suggestions(channel_id, enabled)
    return messages.channel_suggestions(enabled)

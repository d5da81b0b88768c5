"""What the bot answers: the slash command's replies and the card buttons' effects.

Replies are ephemeral. Evidence only ever comes from channels the caller can read (asked of Mattermost).
Person-facing mistakes are UserErrors whose text is the reply.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from . import messages
from .commands import AboutMe, AboutPerson, Ask, ChannelSuggestions, DigestNow, Help, Learn, OptIn, OptOut, parse
from .core.cards import CARD_COLOR, evidence_view, quote, render, render_card
from .core.events import SuggestionRejected, UserOptedIn, UserOptedOut
from .core.profile import known_for
from .core.query import analyse
from .errors import UserError
from .signing import BadSignature, sign, verify

if TYPE_CHECKING:
    from .core.engine import Ranking
    from .runtime import Runtime

log = logging.getLogger("whoknows.responder")
HOUR_MS = 3600 * 1000


def _now() -> int:
    from .runtime import now_ms

    return now_ms()


async def command(rt: Runtime, form: dict[str, str]) -> dict[str, Any]:
    user_id, channel_id = form.get("user_id", ""), form.get("channel_id", "")
    cmd = parse(form.get("text", ""))
    trigger = rt.settings.command_trigger
    attachments: list[dict[str, Any]] = []
    try:
        match cmd:
            case Help(empty=empty):
                text = messages.empty_topic(trigger) if empty else messages.help_text(trigger)
            case Ask(topic=topic):
                text, attachments = await topic_card(rt, topic, user_id, channel_id, offset=0)
            case AboutPerson(username=username):
                text = await person_card(rt, username, user_id)
            case AboutMe():
                text = await person_card(rt, None, user_id)
            case OptOut() | OptIn():
                event = UserOptedOut(user_id, _now()) if isinstance(cmd, OptOut) else UserOptedIn(user_id, _now())
                await rt.submit([event])
                await rt.drained()
                text = messages.opted_out() if isinstance(cmd, OptOut) else messages.opted_in()
            case ChannelSuggestions(enabled=enabled):
                text = await channel_switch(rt, channel_id, user_id, enabled)
            case Learn():
                text = await rt.learning.command(cmd, user_id, channel_id)
            case DigestNow():
                text = await rt.learning.digests.on_demand(channel_id)
    except UserError as error:
        text, attachments = error.reason, []
    answer: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if attachments:
        answer["attachments"] = attachments
    return answer


def _rank(rt: Runtime, topic: str, user_id: str, readable: frozenset[str], limit: int) -> Ranking:
    return rt.store.engine.ask(topic, now=_now(), readable=readable, exclude=[user_id], limit=limit)


async def topic_card(rt: Runtime, topic: str, user_id: str, channel_id: str, *, offset: int) -> tuple[str, list[dict[str, Any]]]:
    readable = await rt.readable.of(user_id)
    n = rt.settings.card_people
    ranking = _rank(rt, topic, user_id, readable, offset + n)
    if not ranking.topic.terms:
        raise UserError(messages.nothing_to_search(quote(topic), rt.settings.command_trigger))
    shown = ranking.experts[offset:]
    if offset and not shown:
        raise UserError(messages.no_more_people())
    page = dataclasses.replace(ranking, experts=shown)
    channels = rt.store.conversation.channel_team([e.post.channel_id for x in shown for e in x.evidence])
    card = render_card(page, channels, now=_now(), site_url=rt.settings.mattermost_url)
    attachments = list(card.attachments)
    if shown:
        people = [x.person.user_id for x in shown]
        attachments.append(_buttons(rt, topic, user_id, channel_id, people, offset + len(shown)))
    return card.text, attachments


def _buttons(rt: Runtime, topic: str, user_id: str, channel_id: str, people: list[str], next_offset: int) -> dict[str, Any]:
    url = rt.settings.callback(rt.http_port) + "/action"
    expires = _now() + int(rt.settings.action_ttl_hours * HOUR_MS)
    secret = rt.state.action_secret()
    base = {"t": topic, "u": user_id, "c": channel_id, "p": people, "o": next_offset}

    def button(action_id: str, name: str) -> dict[str, Any]:
        context = {"s": sign(secret, {**base, "a": action_id}, expires_at=expires)}
        return {"id": action_id, "name": name, "type": "button", "integration": {"url": url, "context": context}}

    return {
        "color": CARD_COLOR,
        "fallback": "whoknows buttons",
        "actions": [button("ask", "Ask them in this channel"), button("nothelpful", "Not helpful"), button("more", "Show more")],
    }


async def person_card(rt: Runtime, username: str | None, caller: str) -> str:
    conv = rt.store.conversation
    user_id = caller if username is None else conv.user_by_name(username)
    if user_id is None:
        raise UserError(messages.unknown_person(username or ""))
    person = conv.people([user_id])[user_id]
    if username is not None and (person.opted_out or person.is_bot or person.deactivated):
        raise UserError(messages.person_opted_out(username))
    readable = await rt.readable.of(caller)
    profile = known_for(conv, rt.store.index, user_id, readable)
    now = _now()
    channels = conv.channel_team([p.channel_id for p in profile.evidence])
    evidence = [evidence_view(post, channels, now, rt.settings.mattermost_url) for post in profile.evidence]
    return render("person.md.j2", name=person.display_name or person.username, username=person.username,
                  terms=list(profile.terms), posts=profile.posts, evidence=evidence)


async def channel_switch(rt: Runtime, channel_id: str, user_id: str, enabled: bool | None) -> str:
    if enabled is None:
        raise UserError(messages.unknown_subcommand("channel", rt.settings.command_trigger))
    member = await rt.rest.channel_member(channel_id, user_id)
    roles = str((member or {}).get("roles", "")).split()
    if "channel_admin" not in roles and not (member or {}).get("scheme_admin"):
        raise UserError(messages.not_channel_admin())
    rt.state.set_channel_suggestions(channel_id, enabled)
    return messages.channel_suggestions(enabled)


async def action(rt: Runtime, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A card button; the signed context is checked before anything else."""
    context = body.get("context") or {}
    try:
        p = verify(rt.state.action_secret(), context.get("s") if isinstance(context, dict) else None, now=_now())
        if p.get("u") != body.get("user_id"):
            raise BadSignature("another person's card")
    except BadSignature as error:
        log.warning("refused a button call (%s) from user %s", error, body.get("user_id"))
        return {"ephemeral_text": messages.action_refused()}, 403
    user_id, topic, people = str(p["u"]), str(p["t"]), [str(x) for x in p["p"]]
    await rt.introduce(user_id)
    conv = rt.store.conversation
    match p.get("a"):
        case "ask":
            folks = conv.people([user_id, *people])
            names = [folks[u].username for u in people if not (folks[u].opted_out or folks[u].is_bot)]
            if names:
                await rt.rest.create_post(str(p["c"]), messages.asked_in_channel(folks[user_id].username, quote(topic), names))
            return {"ephemeral_text": messages.asked_done()}, 200
        case "nothelpful":
            key = analyse(topic, rt.store.index, max_terms=rt.store.engine.weights.key_terms).key
            await rt.submit([SuggestionRejected(u, key, user_id, _now()) for u in people])
            await rt.drained()
            return {"ephemeral_text": messages.not_helpful_noted()}, 200
        case "more":
            try:
                text, attachments = await topic_card(rt, topic, user_id, str(p["c"]), offset=int(p["o"]))
            except UserError as error:
                return {"ephemeral_text": error.reason}, 200
            # Cards are ephemeral: Mattermost cannot update them, and a bot may not post ephemerals itself,
            # so the next people come as the ephemeral text (without buttons).
            page = "\n\n".join([text, *(str(a["text"]) for a in attachments if a.get("text"))])
            return {"ephemeral_text": page}, 200
    return {"ephemeral_text": messages.action_refused()}, 400

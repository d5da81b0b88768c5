"""The card buttons' effects; the signed context is checked before anything else."""

from __future__ import annotations

import logging
from typing import Any

from .. import messages
from ..core.cards import quote
from ..core.events import SuggestionRejected
from ..core.query import analyse
from ..errors import UserError
from .ports import Services
from .replies import topic_card
from .signing import BadSignature, verify

log = logging.getLogger("whoknows.responder")


async def action(svc: Services, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A card button: (the answer, its HTTP status)."""
    context = body.get("context") or {}
    try:
        p = verify(svc.state.action_secret(), context.get("s") if isinstance(context, dict) else None, now=svc.clock())
        if p.get("u") != body.get("user_id"):
            raise BadSignature("another person's card")
    except BadSignature as error:
        log.warning("refused a button call (%s) from user %s", error, body.get("user_id"))
        return {"ephemeral_text": messages.action_refused()}, 403
    user_id, topic, people = str(p["u"]), str(p["t"]), [str(x) for x in p["p"]]
    await svc.feed.introduce(user_id)
    conv = svc.store.conversation
    match p.get("a"):
        case "ask":
            folks = conv.people([user_id, *people])
            names = [folks[u].username for u in people if not (folks[u].opted_out or folks[u].is_bot)]
            if names:
                await svc.chat.create_post(str(p["c"]), messages.asked_in_channel(folks[user_id].username, quote(topic), names))
            return {"ephemeral_text": messages.asked_done()}, 200
        case "nothelpful":
            key = analyse(topic, svc.store.index, max_terms=svc.store.engine.weights.key_terms).key
            await svc.feed.submit([SuggestionRejected(u, key, user_id, svc.clock()) for u in people])
            await svc.feed.drained()
            return {"ephemeral_text": messages.not_helpful_noted()}, 200
        case "more":
            try:
                text, attachments = await topic_card(svc, topic, user_id, str(p["c"]), offset=int(p["o"]))
            except UserError as error:
                return {"ephemeral_text": error.reason}, 200
            # Cards are ephemeral: Mattermost cannot update them, and a bot may not post ephemerals itself,
            # so the next people come as the ephemeral text (without buttons).
            page = "\n\n".join([text, *(str(a["text"]) for a in attachments if a.get("text"))])
            return {"ephemeral_text": page}, 200
    return {"ephemeral_text": messages.action_refused()}, 400

"""The slash command's table: one row per sub-command (its word, matcher, handler, help line and
autocomplete hint), from which the parse, the help text, the autocomplete data and the dispatch are made.

A new sub-command is one typed value and one handler next to the use case it calls, and one row here.
The parse is pure and never raises; anything that matches no row asks about a topic.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from .. import messages
from ..core.index import IndexUnavailable
from ..core.query import MAX_INPUT_CHARS, clean_text, shortened
from ..errors import UserError
from .digests import DigestNow, Digests
from .engine_advice import engine_advice
from .learning import Learn, Learning
from .ports import Services
from .replies import AboutMe, AboutPerson, Ask, Attachments, ChannelSuggestions, OptIn, OptOut, channel_switch, opt, person_card, topic_card

_USERNAME = re.compile(r"^@([a-z0-9][a-z0-9._-]{0,63})$", re.IGNORECASE)
log = logging.getLogger("whoknows.commands")


@dataclass(frozen=True, slots=True)
class Help:
    empty: bool = False
    """True when nothing was typed: the reply says what to type."""


Command: TypeAlias = Ask | AboutPerson | AboutMe | OptOut | OptIn | Help | ChannelSuggestions | Learn | DigestNow


@dataclass(frozen=True, slots=True)
class UseCases:
    """What a sub-command's handler may call: the services and the two workers behind learning threads."""

    services: Services
    learning: Learning
    digests: Digests


@dataclass(frozen=True, slots=True)
class Request:
    app: UseCases
    user_id: str
    channel_id: str


Reply: TypeAlias = tuple[str, Attachments]
Matcher: TypeAlias = Callable[[list[str], str], Command | None]
"""(the words, the cleaned text) -> the command, or None when the row does not apply."""
Handler: TypeAlias = Callable[[Request, Any], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    """The word after the trigger (the autocomplete item); "@someone" for the person lookup."""
    hint: str
    """Autocomplete's hint for what follows the word."""
    help: str
    usage: str
    """How the help text shows it, after the trigger."""
    matcher: Matcher
    handler: Handler


def _one_word(*words: str) -> Callable[[Callable[[], Command]], Matcher]:
    def make(build: Callable[[], Command]) -> Matcher:
        return lambda w, _: build() if len(w) == 1 and w[0].lower() in words else None
    return make


def _person(words: list[str], _: str) -> Command | None:
    match = _USERNAME.match(words[0]) if len(words) == 1 else None
    return AboutPerson(match.group(1).lower()) if match else None


def _opt(out: bool) -> Matcher:
    word, dashed = ("optout", "opt-out") if out else ("optin", "opt-in")

    def match(words: list[str], _: str) -> Command | None:
        lower = [w.lower() for w in words]
        if lower in ([word], [dashed], ["opt", "out" if out else "in"]):
            return OptOut() if out else OptIn()
        return None
    return match


def _channel(words: list[str], _: str) -> Command | None:
    if words[0].lower() != "channel" or len(words) > 2:
        return None
    arg = words[1].lower() if len(words) == 2 else ""
    return ChannelSuggestions(True if arg == "on" else False if arg == "off" else None)


def _learn(words: list[str], cleaned: str) -> Command | None:
    if words[0].lower() != "learn":
        return None
    title = cleaned.split(None, 1)[1] if len(words) > 1 else ""
    return Learn(off=True) if title.lower() == "off" else Learn(title)


async def _help(r: Request, cmd: Help) -> Reply:
    svc = r.app.services
    trigger = svc.settings.command_trigger
    if cmd.empty:
        return messages.empty_topic(trigger), []
    advice = engine_advice(svc.settings, svc.store)
    if advice is not None and await svc.permissions.is_system_admin(r.user_id):
        return help_text(trigger) + "\n\n" + messages.for_admins(advice), []
    return help_text(trigger), []


async def _ask(r: Request, cmd: Ask) -> Reply:
    return await topic_card(r.app.services, cmd.topic, r.user_id, r.channel_id, offset=0)


async def _about(r: Request, cmd: AboutPerson | AboutMe) -> Reply:
    return await person_card(r.app.services, cmd.username if isinstance(cmd, AboutPerson) else None, r.user_id), []


async def _opt_handler(r: Request, cmd: OptOut | OptIn) -> Reply:
    return await opt(r.app.services, r.user_id, isinstance(cmd, OptOut)), []


async def _channel_handler(r: Request, cmd: ChannelSuggestions) -> Reply:
    return await channel_switch(r.app.services, r.channel_id, r.user_id, cmd.enabled), []


async def _learn_handler(r: Request, cmd: Learn) -> Reply:
    return await r.app.learning.command(cmd, r.user_id, r.channel_id), []


async def _digest_handler(r: Request, cmd: DigestNow) -> Reply:
    return await r.app.digests.on_demand(r.channel_id, r.user_id), []


ROWS: tuple[Row, ...] = (
    Row("@someone", "", "what someone is known for", "@someone", _person, _about),
    Row("me", "", "what you are known for", "me", _one_word("me")(AboutMe), _about),
    Row("optout", "", "leave the cards and suggestions", "optout", _opt(True), _opt_handler),
    Row("optin", "", "join the cards and suggestions again", "optin", _opt(False), _opt_handler),
    Row("channel", "on|off", "inline suggestions in this channel (channel admins)", "channel on|off", _channel, _channel_handler),
    Row("learn", "[title | off]", "this channel's pinned learning thread (channel admins rename it, or `learn off`)", "learn [title]",
        _learn, _learn_handler),
    Row("digest", "", "post this channel's learning digest now", "digest", _one_word("digest")(DigestNow), _digest_handler),
    Row("help", "", "what you can ask", "help", _one_word("help", "-h", "--help", "?")(Help), _help),
)
TOPIC = Row("", "<topic or question>", "the people who know, with the posts that show it", "<topic or question>",
            lambda _, cleaned: Ask(cleaned), _ask)
"""The default: whatever matches no row is a topic."""
HELP = ROWS[-1]


def _match(text: str) -> tuple[Row, Command]:
    cleaned = clean_text(text)
    words = cleaned.split()
    if not words:
        return HELP, Help(empty=True)
    for row in ROWS:
        found = row.matcher(words, cleaned)
        if found is not None:
            return row, found
    return TOPIC, Ask(cleaned)


def parse(text: str) -> Command:
    return _match(text)[1]


def help_text(trigger: str) -> str:
    lines = [f"* `/{trigger} {row.usage}`: {row.help}" for row in (TOPIC, *ROWS) if row.name != "help"]
    return "\n".join([messages.HELP_TITLE, *lines, messages.HELP_FOOTER])


def autocomplete(trigger: str = "whoknows") -> dict[str, Any]:
    """The command's autocomplete data as JSON (the Go plugin registers it); made from the same rows."""
    return {
        "trigger": trigger,
        "description": messages.COMMAND_DESCRIPTION,
        "hint": "[" + " | ".join(["topic", *(row.name for row in ROWS)]) + "]",
        "subcommands": [{"name": row.name, "hint": row.hint, "help": row.help} for row in ROWS],
    }


def autocomplete_hint() -> str:
    """The one-line hint of a slash command registered over REST (no sub-command list there)."""
    return " | ".join([TOPIC.hint, *(f"{row.name} {row.hint}".strip() for row in ROWS)])


async def command(app: UseCases, form: dict[str, str]) -> dict[str, Any]:
    """The slash command: parse, dispatch to the row's handler, answer ephemerally (UserError: its text); text over
    MAX_INPUT_CHARS is read up to its last whole word that fits, and the reply says so."""
    typed = form.get("text", "")
    row, cmd = _match(typed)
    request = Request(app, form.get("user_id", ""), form.get("channel_id", ""))
    try:
        text, attachments = await row.handler(request, cmd)
    except UserError as error:
        text, attachments = error.reason, []
    except IndexUnavailable as error:  # OpenSearch away: said plainly, no error id (the log says which server)
        log.warning("/whoknows could not answer: %s", error)
        text, attachments = messages.index_away_for_people(), []
    if len(typed) > MAX_INPUT_CHARS:  # said, not silently cut
        text = messages.text_shortened(len(shortened(typed))) + "\n\n" + text
    answer: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    if attachments:
        answer["attachments"] = attachments
    return answer


__all__ = [
    "AboutMe", "AboutPerson", "Ask", "ChannelSuggestions", "Command", "DigestNow", "Help", "Learn", "OptIn", "OptOut", "ROWS", "Request",
    "Row", "UseCases", "autocomplete", "autocomplete_hint", "command", "help_text", "parse",
]

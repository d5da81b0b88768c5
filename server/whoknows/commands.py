"""What a person typed after /whoknows, parsed into one command. Pure; never raises."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

from .core.query import clean_text

_USERNAME = re.compile(r"^@([a-z0-9][a-z0-9._-]{0,63})$", re.IGNORECASE)


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
class Help:
    empty: bool = False
    """True when nothing was typed: the reply says what to type."""


@dataclass(frozen=True, slots=True)
class ChannelSuggestions:
    enabled: bool | None
    """None when the word after `channel` was neither on nor off."""


@dataclass(frozen=True, slots=True)
class Learn:
    """`learn [title]` (the channel's learning thread) or `learn off` (retire it)."""

    title: str = ""
    off: bool = False


@dataclass(frozen=True, slots=True)
class DigestNow:
    pass


Command: TypeAlias = Ask | AboutPerson | AboutMe | OptOut | OptIn | Help | ChannelSuggestions | Learn | DigestNow


def parse(text: str) -> Command:
    cleaned = clean_text(text)
    words = cleaned.split()
    if not words:
        return Help(empty=True)
    first = words[0].lower()
    if len(words) == 1:
        if first in ("help", "-h", "--help", "?"):
            return Help()
        if first == "me":
            return AboutMe()
        if first in ("optout", "opt-out"):
            return OptOut()
        if first in ("optin", "opt-in"):
            return OptIn()
        match = _USERNAME.match(words[0])
        if match:
            return AboutPerson(match.group(1).lower())
    if first == "opt" and len(words) == 2 and words[1].lower() in ("out", "in"):
        return OptOut() if words[1].lower() == "out" else OptIn()
    if first == "learn":
        title = cleaned.split(None, 1)[1] if len(words) > 1 else ""
        return Learn(off=True) if title.lower() == "off" else Learn(title)
    if first == "digest" and len(words) == 1:
        return DigestNow()
    if first == "channel" and len(words) <= 2:
        arg = words[1].lower() if len(words) == 2 else ""
        return ChannelSuggestions(True if arg == "on" else False if arg == "off" else None)
    return Ask(cleaned)

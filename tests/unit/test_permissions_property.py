"""Random workspaces, random callers: a card never carries a snippet, link, post id or channel name from a
channel the caller cannot read, and an inline suggestion never draws on a channel that some member of the
channel it is posted in cannot read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whoknows.core.cards import render_card
from whoknows.core.conversation import Conversation
from whoknows.core.engine import Engine, Ranking
from whoknows.core.events import ChannelMemberAdded, ChannelUpdated, Event, PostCreated, TeamUpdated, UserUpdated
from whoknows.core.pipeline import Pipeline
from whoknows.core.index.whoosh_engine import WhooshIndex
from whoknows.app.settings import load, manifest_path
from whoknows.storage.state import ServiceState
from whoknows.app.suggestions import _suggest
from whoknows.app.ports import Presence, Services
from whoknows.clock import fixed_clock
from whoknows.service.offline import DirectFeed, KeptPosts, StorePermissions
from whoknows.storage.store import Store
from conftest import new_conversation, new_state

NOW = 1_750_000_000_000
DAY = 86_400_000
VOCAB = ["kafka", "ingress", "terraform", "postgres", "vault", "grafana"]
PEOPLE = 5


@dataclass(frozen=True)
class Workspace:
    private: tuple[bool, ...]
    """Per channel: private or public (all in one team)."""
    members: tuple[frozenset[int], ...]
    posts: tuple[tuple[int, int, tuple[str, ...], bool], ...]
    """(channel, author, words, reply to the channel's first post)."""

    def events(self) -> list[Event]:
        out: list[Event] = [TeamUpdated("t1", "eng")]
        out += [UserUpdated(f"u{i}", f"user{i}q") for i in range(PEOPLE)]
        for c, private in enumerate(self.private):
            out.append(ChannelUpdated(f"c{c}", "t1", f"room{c}q", "P" if private else "O"))
            out += [ChannelMemberAdded(f"c{c}", f"u{m}") for m in sorted(self.members[c])] if private else []
        first: dict[int, str] = {}
        for n, (c, author, words, is_reply) in enumerate(self.posts):
            root = first.get(c, "") if is_reply else ""
            first.setdefault(c, f"pid{n}z")
            out.append(PostCreated(f"pid{n}z", f"c{c}", f"u{author}", f"{' '.join(words)} tok{n}x", NOW - (n + 1) * DAY, root))
        return out

    def readers(self, channel: int) -> list[int]:
        """Who can read a channel: its members if private, everyone in the team if public."""
        return sorted(self.members[channel]) if self.private[channel] else list(range(PEOPLE))


@st.composite
def workspaces(draw: st.DrawFn) -> Workspace:
    n = draw(st.integers(1, 4))
    private = tuple(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    members = tuple(frozenset(draw(st.sets(st.integers(0, PEOPLE - 1), max_size=PEOPLE))) for _ in range(n))
    post = st.tuples(st.integers(0, n - 1), st.integers(0, PEOPLE - 1), st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3).map(tuple),
                     st.booleans())
    return Workspace(private, members, tuple(draw(st.lists(post, min_size=1, max_size=14))))


class World:
    def __init__(self, ws: Workspace) -> None:
        self.conversation = new_conversation()
        self.index = WhooshIndex()
        self.pipeline = Pipeline(self.conversation, self.index)
        self.engine = Engine(self.conversation, self.index)
        self.pipeline.apply(ws.events())
        self.pipeline.flush()

    def close(self) -> None:
        self.index.close()
        self.conversation.close()


def unreadable_marks(ws: Workspace, readable: Collection[str]) -> list[str]:
    """Strings that may only appear on a card if their channel is readable: snippets, post ids, channel names."""
    marks = []
    for n, (c, *_rest) in enumerate(ws.posts):
        if f"c{c}" not in readable:
            marks += [f"tok{n}x", f"pid{n}z", f"room{c}q"]
    return marks


@given(ws=workspaces(), caller=st.none() | st.integers(0, PEOPLE - 1), words=st.lists(st.sampled_from(VOCAB + ["tok0x"]), min_size=1, max_size=3))
@settings(max_examples=150, deadline=None)
def test_card_never_shows_what_the_caller_cannot_read(ws: Workspace, caller: int | None, words: list[str]) -> None:
    world = World(ws)
    try:
        user = f"u{caller}" if caller is not None else None
        readable = world.conversation.readable_channels(user)
        expected = {f"c{c}" for c in range(len(ws.private)) if caller is not None and caller in ws.readers(c) or not ws.private[c]}
        assert readable == expected
        ranking = world.engine.ask(" ".join(words), now=NOW, readable=readable, exclude=[user] if user else [], limit=10)
        for expert in ranking.experts:
            assert all(ev.post.channel_id in readable for ev in expert.evidence)
        card = render_card(ranking, world.conversation.channel_team([e.post.channel_id for x in ranking.experts for e in x.evidence]),
                           now=NOW, site_url="http://mm")
        shown = card.text + "\n" + "\n".join(str(a["text"]) for a in card.attachments)
        leaked = [m for m in unreadable_marks(ws, readable) if m in shown and m not in words]  # the topic is echoed
        assert not leaked, shown
    finally:
        world.close()


# -- inline suggestions ---------------------------------------------------------------------------


class _RecordingEngine(Engine):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine.conversation, engine.index, engine.weights)
        self.readable: list[frozenset[str]] = []

    def ask(self, text: str, *, readable: Collection[str] | None = None, **options: Any) -> Ranking:
        assert readable is not None, "a suggestion must never search every channel"
        self.readable.append(frozenset(readable))
        return super().ask(text, readable=readable, **options)


class SuggestingRuntime:
    """The services `suggestions._suggest` is handed, over the world's store; it posts into a list."""

    def __init__(self, world: World, channels: dict[str, ChannelUpdated]) -> None:
        env = {"WHOKNOWS_MATTERMOST_URL": "http://mm", "WHOKNOWS_BOT_TOKEN": "t", "WHOKNOWS_SUGGESTION_MIN_CONFIDENCE": "0"}
        self.settings = load(json.loads(manifest_path().read_text()), env)
        self.state = new_state()
        self.engine = _RecordingEngine(world.engine)
        self.store = Store(world.conversation, world.index, world.pipeline, self.engine, "http://mm")
        self.rest = KeptPosts()
        self.services = Services(self.settings, self.store, self.state, self.rest, StorePermissions(self.store),
                                 DirectFeed(self.store), fixed_clock(NOW), Presence(channels=channels))


def suggest_under(ws: Workspace, world: World, channel: int, asker: int, words: list[str], extra: dict[str, ChannelUpdated] | None = None) -> SuggestingRuntime:
    channels = {e.channel_id: e for e in ws.events() if isinstance(e, ChannelUpdated)} | (extra or {})
    rt = SuggestingRuntime(world, channels)
    question = PostCreated("qpost", f"c{channel}", f"u{asker}", f"who knows about {' '.join(words)}?", NOW)
    try:
        asyncio.run(_suggest(rt.services, question))
    finally:
        rt.state.close()
    return rt


@given(ws=workspaces(), channel=st.integers(0, 3), asker=st.integers(0, PEOPLE - 1), words=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=2))
@settings(max_examples=150, deadline=None)
def test_suggestion_draws_only_on_channels_every_member_can_read(ws: Workspace, channel: int, asker: int, words: list[str]) -> None:
    channel %= len(ws.private)
    world = World(ws)
    try:
        rt = suggest_under(ws, world, channel, asker, words)
        readers = set(ws.readers(channel)) | {asker}  # whoever posts in a channel is in it
        everyone_reads = set.intersection(*({f"c{c}" for c in range(len(ws.private)) if m in ws.readers(c)} for m in readers))
        everyone_reads.add(f"c{channel}")
        for readable in rt.engine.readable:
            assert readable <= everyone_reads
        for text in (str(p["message"]) for p in rt.rest.posts):
            assert "@" not in text and not [m for m in unreadable_marks(ws, everyone_reads) if m in text]
    finally:
        world.close()


def test_suggestion_ignores_public_channels_of_other_teams() -> None:
    ws = Workspace((False,), (frozenset(),), ((0, 1, ("kafka",), False),))
    world = World(ws)
    try:
        other_team = ChannelUpdated("elsewhere", "t2", "other-team-room", "O")
        rt = suggest_under(ws, world, 0, 0, ["kafka"], extra={"elsewhere": other_team})
        assert all("elsewhere" not in readable for readable in rt.engine.readable)
    finally:
        world.close()

"""Whatever someone types after /whoknows gets a short ephemeral reply: never a trace, never query syntax.

The text goes through the real command path (`responder.command`: parse, readable channels, engine, card)
over a real store in a temporary folder; only Mattermost itself is replaced by the store's own view.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from whoknows.app.commands import Ask, UseCases, command, parse
from whoknows.app.digests import Digests
from whoknows.app.learning import Learning
from whoknows.app.ports import Presence, Services
from whoknows.clock import fixed_clock
from whoknows.service.offline import DirectFeed, KeptPosts, StorePermissions
from whoknows.core.events import ChannelMemberAdded, ChannelMemberRemoved, ChannelUpdated, Event, PostCreated, TeamUpdated, UserUpdated
from whoknows.app.settings import Settings, load, manifest_path
from whoknows.storage.state import ServiceState
from whoknows.storage.store import Store, open_store
from conftest import new_state

NOW = 1_750_000_000_000
ALICE, BOB, CAROL = "a1ice0000000000000000000id", "b0b00000000000000000000id", "car0100000000000000000000id"
SECRET = "5ecret0000000000000000000ch"
ENV = {"WHOKNOWS_MATTERMOST_URL": "http://mm.example:8065", "WHOKNOWS_BOT_TOKEN": "t0k"}
# What a reply must never contain: a trace, or an exception's class name.
LEAK = re.compile(r"Traceback|File \"|\b[A-Z]\w*(?:Error|Exception)\b")

NASTY = [
    "", " ", "\t\n\r", "\x00\x01\x1b[31m", "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd kafka", "مرحبا بالعالم",
    "\U0001f525\U0001f680 deploy", "author:x", "user_id:" + ALICE, "channel_id:" + SECRET, "*", "**", "\"", "\"unclosed",
    "(", ")", "((((", "a AND NOT b", "NOT", "OR OR AND", "text:*", "post_id:[a TO z]", "ingress~2", "ingr?ss", "^boost",
    "[click](http://evil.example)", "![img](http://evil.example/x.png)", "<script>alert(1)</script>", "<b>bold</b>",
    "@channel", "@here kafka", "@all", "@alice", "@", "@@", "channel", "channel maybe", "opt", "me me", "-h", "?",
    "# heading", "> quote", "```\ncode\n```", "| table |", "$$x$$", "kafka " * 10_000, "x" * 50_000,
]


class FakeRuntime:
    """The services the command path is handed, over a real store: the store's memberships stand in for
    Mattermost's answer to "which channels may this person read", posts are kept in a list."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.state = new_state()
        self.services = Services(settings, store, self.state, KeptPosts(), StorePermissions(store), DirectFeed(store), fixed_clock(NOW),
                                 Presence(callback_url="http://127.0.0.1:8077"))
        learning = Learning(self.services)
        self.use_cases = UseCases(self.services, learning, Digests(self.services, learning))


def seed(store: Store) -> None:
    store.pipeline.apply([
        TeamUpdated("t1", "eng"),
        ChannelUpdated("town0000000000000000000000", "t1", "town", "O"),
        ChannelUpdated(SECRET, "t1", "secret-plans", "P"),
        UserUpdated(ALICE, "alice", "Alice A"), UserUpdated(BOB, "bob", "Bob B"), UserUpdated(CAROL, "carol", "Carol C"),
        ChannelMemberAdded(SECRET, ALICE),
        PostCreated("p1000000000000000000000000", "town0000000000000000000000", BOB, "terraform state lock keeps failing", NOW - 1000),
        PostCreated("p2000000000000000000000000", SECRET, ALICE, "the kubernetes ingress budget is frozen", NOW - 1000),
    ])
    store.pipeline.flush()


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeRuntime]:
    with open_store(tmp_path_factory.mktemp("fuzz")) as store:
        seed(store)
        rt = FakeRuntime(store, load(json.loads(manifest_path().read_text()), ENV))
        yield rt
        rt.state.close()


def reply(rt: FakeRuntime, text: str, user_id: str = CAROL) -> dict[str, Any]:
    form = {"text": text, "user_id": user_id, "channel_id": "town0000000000000000000000", "team_id": "t1"}
    return asyncio.run(command(rt.use_cases, form))


def everything(answer: dict[str, Any]) -> str:
    return "\n".join([str(answer.get("text", "")), *(json.dumps(a) for a in answer.get("attachments") or [])])


def check(answer: dict[str, Any], typed: str) -> str:
    assert answer["response_type"] == "ephemeral"
    assert str(answer["text"]).strip()
    shown = everything(answer)
    if not LEAK.search(typed):  # a card may echo what was typed, nothing more
        assert not LEAK.search(shown), shown[:500]
    assert len(str(answer["text"])) < 16_000  # a Mattermost message, not an echo of 50 kB
    return shown


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_nasty_command_text_gets_a_short_ephemeral_reply(runtime: FakeRuntime, text: str) -> None:
    check(reply(runtime, text), text)


_fragments = st.sampled_from(NASTY[:45]) | st.text(max_size=40) | st.sampled_from(["kafka", "terraform", "lock", "ingress", "budget"])


@given(st.lists(_fragments, max_size=6).map(" ".join))
@example("x" * 50_000)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzzed_command_text_never_fails(runtime: FakeRuntime, text: str) -> None:
    parse(text)  # pure, never raises
    check(reply(runtime, text), text)


@given(st.text(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_parse_is_total_and_bounded(text: str) -> None:
    cmd = parse(text)
    if isinstance(cmd, Ask):
        assert cmd.topic.strip() and len(cmd.topic) <= len(text)


@pytest.mark.parametrize("syntax", ["user_id:" + ALICE, "channel_id:" + SECRET, "post_id:p2000000000000000000000000", "*", "author:alice",
                                    "text:*", "kubern*", "ingress~", "NOT terraform", "\"kubernetes ingress\"~5"])
def test_query_syntax_is_never_syntax(runtime: FakeRuntime, syntax: str) -> None:
    # carol cannot read ~secret-plans; whatever she types, alice's private post never shows.
    answer = reply(runtime, syntax)
    shown = check(answer, syntax)
    people = " ".join(str(a.get("text", "")) for a in answer.get("attachments") or [])
    assert "alice" not in people.lower() and "budget" not in shown and "secret-plans" not in shown
    assert "/pl/p2000000000000000000000000" not in shown


def test_words_still_work_and_private_evidence_only_for_members(runtime: FakeRuntime) -> None:
    assert "bob" in everything(reply(runtime, "terraform lock"))
    assert "budget" not in everything(reply(runtime, "kubernetes ingress", user_id=BOB))
    runtime.store.pipeline.apply([ChannelMemberAdded(SECRET, BOB)])
    try:
        assert "budget" in everything(reply(runtime, "kubernetes ingress", user_id=BOB))
    finally:
        runtime.store.pipeline.apply([ChannelMemberRemoved(SECRET, BOB)])

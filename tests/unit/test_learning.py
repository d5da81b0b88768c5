"""The pure parts of learning threads: schedule syntax, digest assembly, the chart, the settings, and a
capture counting as an endorsement in the ranking. In memory, no server."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from whoknows.app.chart import drawable, render_topics
from whoknows.app.commands import Ask, DigestNow, Learn, parse
from whoknows.core.conversation import Conversation
from whoknows.core.digest import assemble
from whoknows.core.engine import Engine
from whoknows.core.events import ChannelUpdated, Event, PostCreated, ReactionAdded, TeamUpdated, UserOptedOut, UserUpdated
from whoknows.core.pipeline import Pipeline
from whoknows.core.schedule import DAY_MS, Schedule, latest_run, parse_schedule
from whoknows.core.index.whoosh_engine import WhooshIndex
from whoknows.errors import StartupError
from whoknows.app.settings import load, manifest_path
from conftest import new_conversation

UTC = timezone.utc
MONDAY_9 = int(datetime(2026, 3, 9, 9, 0, tzinfo=UTC).timestamp() * 1000)
HOUR_MS = 3600 * 1000
START = MONDAY_9 - 7 * DAY_MS
ENV = {"WHOKNOWS_MATTERMOST_URL": "http://mm.test", "WHOKNOWS_BOT_TOKEN": "t"}


# -- the schedule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("weekly:MON:09:00", Schedule("weekly", 0, 9, 0)),
    ("weekly:fri:17:30", Schedule("weekly", 4, 17, 30)),
    ("daily:9:05", Schedule("daily", 0, 9, 5)),
    (" off ", Schedule("off")),
])
def test_schedule_syntax(text: str, expected: Schedule) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize("text", ["", "weekly", "weekly:XYZ:09:00", "daily:24:00", "daily:09:60", "hourly:09:00", "weekly:MON"])
def test_schedule_syntax_refuses_the_rest(text: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(text)


def test_latest_run_is_the_last_scheduled_moment_not_after_now() -> None:
    weekly = parse_schedule("weekly:MON:09:00")
    assert latest_run(weekly, MONDAY_9, UTC) == MONDAY_9
    assert latest_run(weekly, MONDAY_9 - 1, UTC) == MONDAY_9 - 7 * DAY_MS
    assert latest_run(weekly, MONDAY_9 + 3 * DAY_MS, UTC) == MONDAY_9
    daily = parse_schedule("daily:18:30")
    assert latest_run(daily, MONDAY_9, UTC) == MONDAY_9 - 14 * HOUR_MS - 30 * 60_000  # Sunday 18:30
    assert latest_run(parse_schedule("off"), MONDAY_9, UTC) is None
    assert weekly.period_ms == 7 * DAY_MS and daily.period_ms == DAY_MS


# -- digest assembly ------------------------------------------------------------------------------


class World:
    def __init__(self, *, extra_endorsing: frozenset[str] = frozenset()) -> None:
        self.conversation = new_conversation(extra_endorsing=extra_endorsing)
        self.index = WhooshIndex()
        self.pipeline = Pipeline(self.conversation, self.index)
        self.engine = Engine(self.conversation, self.index)

    def ingest(self, *events: Event) -> None:
        self.pipeline.apply(events)
        self.pipeline.flush()

    def close(self) -> None:
        self.index.close()
        self.conversation.close()


def at(days: float) -> int:
    """A moment in the digest's week (days after its start)."""
    return START + round(days * DAY_MS)


def scripted_week(w: World) -> None:
    w.ingest(TeamUpdated("t", "eng"), ChannelUpdated("ops", "t", "ops", "O"), ChannelUpdated("elsewhere", "t", "elsewhere", "O"),
             *(UserUpdated(u, u) for u in ("alice", "bob", "carol", "dave", "erin")))
    w.ingest(
        PostCreated("old1", "ops", "alice", "the vault migration starts next week", at(-3)),
        PostCreated("old2", "ops", "bob", "standup moved to ten", at(-2)),
        PostCreated("q1", "ops", "carol", "how do I rotate the vault signing keys safely?", at(1)),
        PostCreated("a1", "ops", "bob", "rotate vault keys with the vault rotate job, then reload the proxy", at(1.1), "q1"),
        PostCreated("til", "ops", "dave", "TIL the proxy caches vault keys for ten minutes", at(2)),
        PostCreated("q2", "ops", "dave", "does anyone know why the proxy returns 502 after deploys?", at(3)),
        PostCreated("a2", "ops", "alice", "the proxy needs a warmup; proxy health checks fail first", at(3.1), "q2"),
        PostCreated("q3", "ops", "erin", "anyone tried the new grafana dashboards?", at(4)),
        PostCreated("x1", "elsewhere", "erin", "vault proxy secret roadmap", at(2)),
        PostCreated("late", "ops", "bob", "vault after the period", at(8)),
        ReactionAdded("a1", "carol", "white_check_mark", at(1.2)),
        ReactionAdded("til", "alice", "bulb", at(2.5)),
    )


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    scripted_week(w)
    yield w
    w.close()


def test_digest_of_a_week_has_learnings_topics_helpers_answered_questions_and_new_voices(world: World) -> None:
    d = assemble(world.conversation, world.index, "ops", START, MONDAY_9, {"til": ("alice",)})
    assert d.posts == 6
    assert [(x.post.post_id, x.flagged_by) for x in d.learned] == [("til", ("alice",))]
    words = [t.word for t in d.topics]
    assert words[0] == "proxy" and {"vault", "keys"} <= set(words)  # tf-idf: "vault" is common in the whole index
    vault = next(t for t in d.topics if t.word == "vault")
    assert vault.posts == 3 and vault.answerers == (("bob", 1),)
    assert [(h.helper, h.helped, h.answers) for h in d.helped] == [("bob", "carol", 1)]
    assert [(q.post.post_id, q.answerers) for q in d.answered] == [("q1", ("bob",)), ("q2", ("alice",))]
    assert d.new_voices == ("carol", "dave", "erin")
    everything = json.dumps([str(d)])
    assert "x1" not in everything and "roadmap" not in everything and "late" not in everything


def test_digest_never_names_hidden_people_and_knows_an_empty_period(world: World) -> None:
    d = assemble(world.conversation, world.index, "ops", START, MONDAY_9, {}, hidden=frozenset({"bob", "erin"}))
    assert not d.helped and "erin" not in d.new_voices
    assert all(u != "bob" for t in d.topics for u, _ in t.answerers)
    assert [q.answerers for q in d.answered] == [(), ("alice",)]
    assert assemble(world.conversation, world.index, "ops", at(20), at(27), {}).empty


# -- recognition in the ranking -------------------------------------------------------------------


@pytest.mark.parametrize("emoji", ["bulb", "mortar_board"])
def test_a_captured_posts_author_ranks_higher_for_its_topic(emoji: str) -> None:
    w = World(extra_endorsing=frozenset({emoji}))
    try:
        w.ingest(TeamUpdated("t", "eng"), ChannelUpdated("ops", "t", "ops", "O"), *(UserUpdated(u, u) for u in ("ann", "ben", "cid")),
                 PostCreated("p1", "ops", "ann", "the ledger cache must be warmed before failover", at(1)),
                 PostCreated("p2", "ops", "ben", "the ledger cache must be checked before failover", at(1)))
        before = [e.person.user_id for e in w.engine.ask("ledger cache", now=at(2)).experts]
        w.ingest(ReactionAdded("p1" if before[0] == "ben" else "p2", "cid", emoji, at(1.5)))
        after = [e.person.user_id for e in w.engine.ask("ledger cache", now=at(2)).experts]
        assert after == list(reversed(before))
    finally:
        w.close()


def test_an_emoji_outside_the_endorsing_set_endorses_only_when_configured() -> None:
    plain, learning = World(), World(extra_endorsing=frozenset({"mortar_board"}))
    try:
        for w in (plain, learning):
            w.ingest(PostCreated("p", "c", "ann", "a learning", at(1)), ReactionAdded("p", "ben", "mortar_board", at(1)))
        assert plain.conversation.post_facts(["p"])["p"].endorsements == 0
        assert learning.conversation.post_facts(["p"])["p"].endorsements == 1
    finally:
        plain.close()
        learning.close()


# -- the chart ------------------------------------------------------------------------------------


def test_chart_is_a_png_at_chat_size_without_warnings(world: World) -> None:
    d = assemble(world.conversation, world.index, "ops", START, MONDAY_9, {})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = render_topics(d.topics, {"bob": "Bob 李", "alice": "Alice"}, "~ops: topics")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 800 and int.from_bytes(png[20:24], "big") == 450
    assert 5_000 < len(png) < 100_000


def test_chart_labels_only_use_glyphs_the_font_has() -> None:
    assert drawable("Bob 李") == "Bob ?"
    assert drawable("x" * 40).endswith("\u2026") and len(drawable("x" * 40)) == 24
    assert drawable("$5 $x$") == r"\$5 \$x\$"  # never mathtext


# -- commands and settings ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "command"), [
    ("learn", Learn()), ("learn Platform lessons", Learn("Platform lessons")), ("learn OFF", Learn(off=True)),
    ("digest", DigestNow()), ("digest of terraform", Ask("digest of terraform")),
])
def test_learning_commands(text: str, command: object) -> None:
    assert parse(text) == command


def test_learning_settings_defaults_and_validation() -> None:
    manifest = json.loads(manifest_path().read_text())
    s = load(manifest, ENV)
    assert (s.learning_emoji, s.digest_schedule) == ("bulb", "weekly:MON:09:00")
    assert load(manifest, {**ENV, "WHOKNOWS_LEARNING_EMOJI": ":Mortar_Board:"}).learning_emoji == "mortar_board"
    with pytest.raises(StartupError, match="WHOKNOWS_DIGEST_SCHEDULE"):
        load(manifest, {**ENV, "WHOKNOWS_DIGEST_SCHEDULE": "sometimes"})
    with pytest.raises(StartupError, match="WHOKNOWS_LEARNING_EMOJI"):
        load(manifest, {**ENV, "WHOKNOWS_LEARNING_EMOJI": "two words"})


def test_opted_out_people_are_known_to_the_store() -> None:
    w = World()
    try:
        w.ingest(UserUpdated("ann", "ann"), UserOptedOut("ann", at(0)))
        assert w.conversation.people(["ann"])["ann"].opted_out
    finally:
        w.close()

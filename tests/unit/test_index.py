"""The index through the pipeline, seen from `Engine.ask`: re-delivery, edits and deletes; who may appear;
which channels count; and that nothing a person types is ever run as query syntax."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import (
    NOW,
    TOWN,
    World,
    channel,
    days_ago,
    delete,
    edit,
    member,
    opt_in,
    opt_out,
    post,
    reply,
    user,
)
from whoknows.core.cards import render_card
from whoknows.core.events import Event
from whoknows.core.index import ENGINES
from whoknows.core.pipeline import MAX_INDEXED_CHARS, Pipeline
from whoknows.core.index.analysis import check_whoosh_distribution


@pytest.fixture(params=ENGINES)
def index_engine(request: pytest.FixtureRequest) -> str:
    """Every test here runs on each engine: the promises are the index's, whichever engine keeps it."""
    engine: str = request.param
    return engine


def ranked(world: World, text: str) -> list[tuple[str, float, tuple[str, ...]]]:
    """What a card would show: who, how strongly, on which posts."""
    return [(e.person.username, e.score, tuple(ev.post.post_id for ev in e.evidence)) for e in world.ask(text).experts]


POSTGRES_BATCH: tuple[Event, ...] = (
    user("alice"),
    user("bob"),
    user("carol"),
    post("q1", "carol", "Why does postgres autovacuum never finish on the orders table?", at=days_ago(20)),
    reply("a1", "q1", "alice", "Raise autovacuum_work_mem and check for long transactions holding xmin.", at=days_ago(20) + 3_600_000),
    post("p2", "bob", "postgres upgrade is scheduled for friday", at=days_ago(5)),
)


# -- re-delivery, edits, deletes -----------------------------------------------------------------


def test_reapplying_a_post_or_a_whole_batch_changes_nothing(world: World) -> None:
    world.ingest(*POSTGRES_BATCH)
    documents, posts, before = world.documents(), world.conversation.post_count(), ranked(world, "postgres autovacuum")
    assert [name for name, _, _ in before][:1] == ["alice"]

    again = world.ingest(*POSTGRES_BATCH)
    single = world.ingest(post("p2", "bob", "postgres upgrade is scheduled for friday", at=days_ago(5)))

    assert (again.posts_added, single.posts_added) == (0, 0)
    assert (world.documents(), world.conversation.post_count()) == (documents, posts) == (3, 3)
    assert ranked(world, "postgres autovacuum") == before


def test_a_redelivered_post_id_does_not_overwrite_the_text(world: World) -> None:
    world.ingest(user("alice"), post("p1", "alice", "kafka consumer lag dashboard"))
    world.ingest(post("p1", "alice", "completely different words about gardening"))
    assert world.names("kafka") == ["alice"]
    assert world.names("gardening") == []


def test_an_edit_replaces_the_text(world: World) -> None:
    world.ingest(user("alice"), post("p1", "alice", "kubernetes ingress timeouts after the upgrade"))
    assert world.names("kubernetes ingress") == ["alice"]

    world.ingest(edit("p1", "terraform state locking with dynamodb"))

    assert world.found("kubernetes ingress") == []
    assert world.names("kubernetes ingress") == []
    shown = world.ask("terraform").experts
    assert [e.person.username for e in shown] == ["alice"]
    assert shown[0].evidence[0].post.message == "terraform state locking with dynamodb"
    assert world.documents() == 1


def test_an_edit_arriving_before_the_index_is_flushed_still_replaces_the_text(world: World) -> None:
    world.apply(user("alice"), post("p1", "alice", "kubernetes ingress timeouts after the upgrade"))
    world.apply(edit("p1", "terraform state locking with dynamodb"))  # a typo fixed seconds later
    world.pipeline.flush()

    assert world.names("kubernetes ingress") == []
    assert world.documents() == 1


def test_a_delete_hides_the_post_at_once_and_purges_it_at_the_next_flush(world: World) -> None:
    world.ingest(
        user("alice"),
        user("bob"),
        post("p1", "alice", "postgres replication lag on the replica"),
        post("p2", "bob", "postgres replication slots filling the disk"),
    )
    assert sorted(world.names("postgres replication")) == ["alice", "bob"]

    world.apply(delete("p1"))

    assert "p1" in world.found("postgres replication"), "the index is not flushed yet"
    ranking = world.ask("postgres replication")
    assert [e.person.username for e in ranking.experts] == ["bob"]
    assert all(ev.post.post_id != "p1" for e in ranking.experts for ev in e.evidence)
    assert ranking.considered_posts == 1

    world.pipeline.flush()
    assert world.found("postgres replication") == ["p2"]
    assert world.documents() == 1


def test_a_post_deleted_before_the_flush_leaves_no_document_behind(world: World) -> None:
    world.ingest(user("alice"), post("p1", "alice", "grafana dashboards for the api"))
    world.apply(post("p2", "alice", "grafana alert rules are noisy"))
    world.apply(delete("p2"))
    world.pipeline.flush()

    assert world.found("grafana") == ["p1"]
    assert world.documents() == 1


# -- who may appear -------------------------------------------------------------------------------

VAULT_THREAD: tuple[Event, ...] = (
    user("hank"),
    user("bob"),
    post("q1", "hank", "How do I rotate the vault tokens of the deploy pipeline?"),
    reply("a1", "q1", "bob", "Run the renew command with a periodic policy, then restart the runner."),
)


@pytest.mark.parametrize(
    "hide",
    [
        pytest.param(user("hank", bot=True), id="bot"),
        pytest.param(user("hank", deactivated=True), id="deactivated"),
        pytest.param(opt_out("hank"), id="opted-out"),
    ],
)
def test_hidden_people_never_appear_but_their_posts_still_find_the_answerer(world: World, hide: Event) -> None:
    world.ingest(*VAULT_THREAD)
    assert sorted(world.names("vault tokens")) == ["bob", "hank"]

    world.ingest(hide)

    ranking = world.ask("vault tokens")
    assert [e.person.username for e in ranking.experts] == ["bob"]
    # bob's reply says nothing about vault: he is found through hank's question.
    assert [ev.post.post_id for ev in ranking.experts[0].evidence] == ["a1"]


def test_opting_back_in_makes_a_person_appear_again(world: World) -> None:
    world.ingest(*VAULT_THREAD, opt_out("hank", at=days_ago(3)))
    assert "hank" not in world.names("vault tokens")

    world.ingest(opt_in("hank", at=days_ago(1)))
    assert sorted(world.names("vault tokens")) == ["bob", "hank"]


def test_opted_out_by_default_hides_everyone_who_never_opted_in(make_world: Callable[..., World]) -> None:
    world = make_world(opted_out_by_default=True)
    world.ingest(*VAULT_THREAD)

    ranking = world.ask("vault tokens")
    assert ranking.experts == ()
    assert ranking.considered_posts == 1, "the posts are still searched"

    world.ingest(opt_in("bob"))
    assert world.names("vault tokens") == ["bob"]


@pytest.mark.parametrize("kind", ["D", "G"])
def test_direct_and_group_messages_are_never_indexed(world: World, kind: str) -> None:
    dm = channel("alice__bob", "D" if kind == "D" else "G")
    applied = world.ingest(dm, user("alice"), post("d1", "alice", "the kafka admin password is hunter2", channel="alice__bob"))

    assert applied.posts_added == 0 and applied.ignored == 1
    assert not world.conversation.has_post("d1")
    assert world.documents() == 0
    assert world.names("kafka password") == []

    # After a restart the pipeline remembers which channels are private conversations.
    restarted = Pipeline(world.conversation, world.index)
    assert restarted.apply([post("d2", "alice", "kafka password rotated", channel="alice__bob")]).ignored == 1
    restarted.flush()
    assert world.documents() == 0


def test_a_message_longer_than_mattermost_allows_is_indexed_cut(world: World) -> None:
    message = "kubernetes ingress notes: " + "filler " * 3000 + "zebrafish"
    assert len(message) > MAX_INDEXED_CHARS

    world.ingest(user("alice"), post("long", "alice", message))

    assert world.names("kubernetes ingress") == ["alice"]
    assert world.found("zebrafish") == [], "words past the limit are not indexed"
    assert world.conversation.post_facts(["long"])["long"].message == message, "the store keeps the whole post"


# -- readable channels ---------------------------------------------------------------------------


@pytest.fixture
def vault_world(world: World) -> World:
    world.ingest(
        channel("vaultops", "P"),
        user("carol"),
        user("dave"),
        user("erin"),
        member("vaultops", "carol"),
        member("vaultops", "erin"),
        post("c1", "carol", "vault rotation runbook for the unseal keys", channel="vaultops", at=days_ago(3)),
        post("c2", "carol", "vault audit log is shipped to the siem", at=days_ago(30)),
        post("d1", "dave", "vault sealed itself after the restart", at=days_ago(20)),
        post("e1", "erin", "vault rotation failed with permission denied", channel="vaultops", at=days_ago(4)),
    )
    return world


def test_private_posts_are_evidence_only_for_those_who_can_read_them(vault_world: World) -> None:
    conv = vault_world.conversation
    for_dave = vault_world.ask("vault rotation", readable=conv.readable_channels("dave"))
    for_carol = vault_world.ask("vault rotation", readable=conv.readable_channels("carol"))

    assert sorted(e.person.username for e in for_dave.experts) == ["carol", "dave"]
    assert {ev.post.channel_id for e in for_dave.experts for ev in e.evidence} == {TOWN}
    assert for_dave.considered_posts == 2

    assert sorted(e.person.username for e in for_carol.experts) == ["carol", "dave", "erin"]
    assert "c1" in {ev.post.post_id for e in for_carol.experts for ev in e.evidence}

    channels = conv.channel_team(conv.all_channels())
    dave_sees = "\n".join(a["text"] for a in render_card(for_dave, channels, now=NOW, site_url="http://mm").attachments)
    carol_sees = "\n".join(a["text"] for a in render_card(for_carol, channels, now=NOW, site_url="http://mm").attachments)
    assert "vaultops" not in dave_sees and "runbook" not in dave_sees and "/pl/c1)" not in dave_sees
    assert "vaultops" in carol_sees and "runbook" in carol_sees


def test_readable_none_is_everything_and_an_empty_set_is_nothing(vault_world: World) -> None:
    assert sorted(vault_world.names("vault")) == ["carol", "dave", "erin"]
    assert vault_world.ask("vault", readable=frozenset()).experts == ()


# -- what a person types is words, never syntax ----------------------------------------------------


@pytest.fixture
def syntax_world(world: World) -> World:
    world.ingest(
        user("alice"),
        user("bob"),
        post("p1", "alice", "postgres vacuum settings for the orders table"),
        post("p2", "bob", "the bar downstairs has a quiz on friday"),
    )
    return world


@pytest.mark.parametrize(
    "text",
    [
        "author:alice",
        "user_id:alice",
        "channel_id:town",
        "post_id:p1",
        "*",
        "postg*",
        "?ostgres",
        '"',
        "(",
        ")",
        "[a TO z]",
        "{",
        "NOT",
        "",
        "   \n\t ",
        "\U0001f525\U0001f680\U0001f44d",
        "\u202e\u202d\u200f\u2066",
        "(*\"" * 17_000,
        "lorem ipsum " * 4_300,
    ],
)
def test_query_syntax_is_inert_and_never_raises(syntax_world: World, text: str) -> None:
    ranking = syntax_world.ask(text)
    assert ranking.experts == ()
    assert ranking.considered_posts == 0


def test_a_field_query_is_just_words(syntax_world: World) -> None:
    assert syntax_world.names("postgres") == ["alice"]
    assert syntax_world.names("user_id:alice") == []
    assert syntax_world.names("text:foo AND NOT bar") == ["bob"], "NOT is a stop word, bar is a word"
    assert syntax_world.names("(postgres OR") == ["alice"]


def test_direction_overrides_around_a_word_leave_the_word(syntax_world: World) -> None:
    assert syntax_world.names("\u202epostgres\u202c vacuum") == ["alice"]


def test_the_installed_whoosh_is_the_pinned_distribution() -> None:
    check_whoosh_distribution()


def test_no_post_from_the_future_of_now_shapes_its_thread(world: World) -> None:
    """Asked as of a moment, a reply written later is not counted (what the evaluation replay relies on)."""
    world.ingest(*VAULT_THREAD)
    before_reply = days_ago(9) - 1
    assert world.names("vault tokens", now=before_reply) == ["hank"]
    assert sorted(world.names("vault tokens", now=NOW)) == ["bob", "hank"]


def test_a_heard_deletion_or_edit_leaves_every_answer_before_it_is_applied(world: World) -> None:
    world.ingest(
        user("alice"),
        user("bob"),
        post("p1", "alice", "postgres replication lag on the replica"),
        post("p2", "bob", "postgres replication slots filling the disk"),
        reply("r1", "p1", "bob", "postgres replication lag went away after vacuum"),
    )
    assert sorted(world.names("postgres replication")) == ["alice", "bob"]

    world.engine.withheld.hear(["p1", "r1"])  # heard, still queued: the store and the index hold them as they were

    shown = [ev.post.post_id for e in world.ask("postgres replication").experts for ev in e.evidence]
    assert shown and "p1" not in shown and "r1" not in shown
    assert world.names("postgres replication") == ["bob"]
    world.engine.withheld.applied(["p1"])
    assert "alice" in world.names("postgres replication"), "released once applied"


def test_withheld_counts_each_change_so_a_second_edit_keeps_the_post_out() -> None:
    from whoknows.core.withheld import Withheld

    withheld = Withheld()
    withheld.hear(["p1", "p1"])
    withheld.applied(["p1"])
    assert "p1" in withheld
    withheld.applied(["p1"])
    assert "p1" not in withheld and len(withheld) == 0

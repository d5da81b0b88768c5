"""Evidence a person believes: what a card quotes for each person, how it reads the question, and what a
person is shown to be known for. Built from real rankings over the store and the RAM index."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from conftest import NOW, World, days_ago, post, reply, user
from whoknows.app.suggestions import pick
from whoknows.core.cards import expert_evidence, render_card
from whoknows.core.profile import known_for
from whoknows.core.query import Topic, named, strip_request
from whoknows.core.substance import is_content_free
from whoknows.demo import generate
from whoknows.evaluation.replay import evidence_on_topic
from whoknows.service.importer import import_export

SITE = "https://chat.example.com"


def shown_texts(world: World, topic: str) -> dict[str, list[tuple[str, str]]]:
    """username -> [(snippet, title)] as the card shows them."""
    ranking = world.ask(topic)
    return {
        e.person.username: [(s.snippet.text, s.title.text if s.title else "") for s in expert_evidence(e, ranking)] for e in ranking.experts
    }


# -- the posts that show knowledge ----------------------------------------------------------------


def test_an_acknowledgement_in_a_matching_thread_is_never_shown_nor_counted(world: World) -> None:
    world.ingest(
        user("asker"), user("expert"), user("fan"),
        post("q1", "asker", "How do I unlock the terraform state after a CI job died mid-apply?"),
        reply("a1", "q1", "expert", "run force-unlock with the lock id from the error message"),
        reply("a2", "q1", "fan", "thanks, bookmarking this thread!"),
        reply("a3", "q1", "fan", "nice one :+1:"),
    )
    shown = shown_texts(world, "terraform state")
    assert "fan" not in shown
    ranking = world.ask("terraform state")
    assert all(not is_content_free(s.post.message) for e in ranking.experts for s in expert_evidence(e, ranking))


def test_an_answer_that_matched_through_its_thread_is_shown_with_the_question(world: World) -> None:
    world.ingest(
        user("asker"), user("expert"),
        post("q1", "asker", "How do I unlock the terraform state after a CI job died mid-apply?"),
        reply("a1", "q1", "expert", "run force-unlock with the lock id from the error message"),
    )
    ranking = world.ask("terraform state")
    (expert,) = [e for e in ranking.experts if e.person.username == "expert"]
    assert expert.answers == 1
    (item,) = expert_evidence(expert, ranking)
    assert item.title is not None and "terraform state" in item.title.text
    assert item.snippet.text.startswith("run force-unlock")
    card = render_card(ranking, world.conversation.channel_team(["town"]), now=NOW, site_url=SITE)
    text = next(a["text"] for a in card.attachments if a["fallback"].endswith("expert"))
    assert "answered “How do I unlock the **terraform** **state**" in text
    assert "run force-unlock with the lock id" in text


def test_a_long_post_is_quoted_where_it_talks_about_the_topic(world: World) -> None:
    intro = " ".join(f"filler{i}" for i in range(60))
    world.ingest(user("vera"), post("p1", "vera", f"{intro} the ingress controller caches TLS certs for ten minutes, restart it"))
    ((snippet, title),) = shown_texts(world, "ingress certs")["vera"]
    assert snippet.startswith("\u2026") and "ingress controller caches TLS certs" in snippet and title == ""


def test_the_reason_counts_only_substantive_answers(world: World) -> None:
    world.ingest(
        user("asker"), user("helper"),
        post("q1", "asker", "is the kafka consumer group rebalancing again?"),
        reply("a1", "q1", "helper", "yes: raise max.poll.interval.ms on the kafka consumer"),
        post("q2", "asker", "kafka lag on the events topic?"),
        reply("a2", "q2", "helper", "thanks!"),
    )
    (helper,) = [e for e in world.ask("kafka").experts if e.person.username == "helper"]
    assert helper.answers == 1


def test_evidence_on_the_demo_workspace_shows_the_topic(tmp_path: Path, world: World) -> None:
    buf = io.StringIO()
    summary = generate(buf, posts=2_400, end_ms=NOW)
    path = tmp_path / "demo.jsonl"
    path.write_text(buf.getvalue(), encoding="utf-8")
    import_export(world.pipeline, path)
    items = on_topic = 0
    for truth in summary.topics:
        for text in (truth.phrase, *truth.queries[:3]):
            ranking = world.ask(text)
            n, k = evidence_on_topic(ranking, world.index)
            items, on_topic = items + n, on_topic + k
            assert not any(is_content_free(s.post.message) for e in ranking.experts for s in expert_evidence(e, ranking))
    assert items > 100 and on_topic / items >= 0.95, (on_topic, items)


# -- what the person typed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "topic"),
    [
        ("who knows about the build cache?", "the build cache"),
        ("Does anyone know how to rotate the postgres password?", "how to rotate the postgres password"),
        ("@whoknows kubernetes ingress", "kubernetes ingress"),
        ("anyone familiar with terraform state locks?", "terraform state locks"),
        ("who is the expert on SSO", "SSO"),
        ("who knows about who knows about flaky tests", "flaky tests"),
        ("is there anyone here who knows about ldap?", "ldap"),
        ("can someone help me with the flaky ios build please", "the flaky ios build"),
        ("How do I unlock terraform state?", "How do I unlock terraform state"),
        ("kafka", "kafka"),
        ("who knows?", "who knows?"),
    ],
)
def test_asking_phrases_reduce_to_the_topic(typed: str, topic: str) -> None:
    assert strip_request(typed) == topic


@pytest.mark.parametrize(
    ("typed", "heading"),
    [
        ("who knows about the build cache?", "Who knows about the build cache?"),
        ("does anyone know how to rotate the postgres password", "Who knows how to rotate the postgres password?"),
        ("@whoknows kubernetes ingress", "Who knows about kubernetes ingress?"),
        ("How do I unlock terraform state?", "Who knows about unlock terraform state?"),
    ],
)
def test_the_cards_heading_reads_naturally(world: World, typed: str, heading: str) -> None:
    world.ingest(user("dana"), post("p1", "dana", "the build cache, kubernetes ingress, terraform state unlock and postgres password rotation"))
    card = render_card(world.ask(typed), {}, now=NOW, site_url=SITE)
    assert card.text.splitlines()[0] == f"#### {heading}"


def test_a_hyphenated_topic_is_labelled_once() -> None:
    topic = Topic("default-ssl-certificate", ("default", "ssl", "certif"), ("default", "ssl", "certificate"))
    assert topic.label == "default ssl certificate"


def test_names_a_question_addresses() -> None:
    assert named("@dana can you look?\nvera: and you?\nnothing: here") == {"dana", "vera", "nothing"}
    assert named("mail me at a@b.example, see 10:30") == set()


# -- what someone is known for ---------------------------------------------------------------------


def test_known_for_shows_topical_words_never_function_words_or_mentions(world: World) -> None:
    world.ingest(
        user("vera"), user("sam"),
        post("p1", "vera", "after the deploy I run a check: the default-ssl-certificate served by the ingress expired @sam", at=days_ago(3)),
        post("p2", "vera", "after that, check the ingress certificate again and run the development build", at=days_ago(2)),
        post("p3", "vera", "the ingress certificate rotation is automated now, @sam can check", at=days_ago(1)),
        post("p4", "vera", "thanks!", at=days_ago(1)),
    )
    profile = known_for(world.conversation, world.index, "vera", {"town"})
    assert profile.terms and {"ingress", "certificate"} <= set(profile.terms)
    assert not {"after", "run", "check", "served", "sam", "thanks"} & set(profile.terms)
    assert len(profile.terms) == len(set(profile.terms))
    assert profile.posts == 3  # "thanks!" says nothing


# -- inline suggestions ----------------------------------------------------------------------------


def test_a_suggestion_names_people_who_answered_not_people_who_only_asked(world: World) -> None:
    world.ingest(
        user("asker"), user("helper"), user("curious"),
        post("q1", "curious", "why does the ios build fail on the release branch?", at=days_ago(5)),
        reply("a1", "q1", "helper", "the ios build needs the new provisioning profile from the match repo", at=days_ago(5)),
        post("q2", "curious", "is the ios build flaky for anyone else?", at=days_ago(1)),
    )
    ranking = world.ask("how do I fix the ios build?", exclude=["asker"])
    assert {"helper", "curious"} <= {e.person.username for e in ranking.experts}
    chosen = pick(ranking.experts, "asker", {}, NOW, 0)
    assert [e.person.username for e in chosen] == ["helper"]


def test_a_digests_topics_are_topical_words(world: World) -> None:
    from whoknows.core.digest import key_terms

    world.ingest(
        user("a"), user("b"),
        post("p1", "a", "after the deploy, run the terraform plan again", at=days_ago(3)),
        post("p2", "b", "after lunch I will check the terraform state", at=days_ago(2)),
        post("p3", "a", "after that, run it with @b and check", at=days_ago(1)),
    )
    posts = list(world.conversation.post_facts(["p1", "p2", "p3"]).values())
    words = [word for _, word, _, _ in key_terms(posts, world.index)]
    assert words == ["terraform"]

"""The first hour's pure parts: what someone is known for leaves names and filler out; a long text is cut where a
word ends."""

from __future__ import annotations

from conftest import World, days_ago, post, user
from whoknows.core.profile import known_for
from whoknows.core.query import MAX_INPUT_CHARS, analyse, clean_text, shortened


def test_known_for_never_lists_names_mentions_filler_or_repeated_words(world: World) -> None:
    world.ingest(
        user("alice"), user("bob"), user("carol.smith"), user("github", bot=True),
        post("p1", "alice", "@bob the the", at=days_ago(9)),
        post("p2", "alice", "+1 +1", at=days_ago(8)),
        post("p3", "alice", "lol lol", at=days_ago(7)),
        post("p4", "alice", "thanks bob, ask carol.smith about the kubernetes ingress lol", at=days_ago(6)),
        post("p5", "alice", "bob bob bob", at=days_ago(5)),
        post("p6", "alice", "@carol.smith the kubernetes ingress lol is fixed, github action too", at=days_ago(4)),
        post("p7", "alice", "test test test", at=days_ago(3)),
        post("p8", "alice", "haha haha haha", at=days_ago(2)),
        post("p9", "alice", "@dana.new the ingress is yours now; dana.new knows kubernetes", at=days_ago(1)),  # never posted
    )
    profile = known_for(world.conversation, world.index, "alice", {"town"})
    assert {"kubernetes", "ingress"} <= set(profile.terms)
    assert not {"bob", "carol.smith", "dana.new", "the", "lol", "test", "haha", "+1"} & set(profile.terms)
    assert "github" in profile.terms  # a bot's name is still a topic
    assert profile.posts == 3  # the filler says nothing


def test_known_for_shows_each_cjk_word_once(world: World) -> None:
    world.ingest(user("li"), post("p1", "li", "数据库迁移 明天", at=days_ago(3)),
                 post("p2", "li", "数据库迁移 完成", at=days_ago(2)))
    profile = known_for(world.conversation, world.index, "li", {"town"})
    assert "迁移" in profile.terms and len(profile.terms) == len(set(profile.terms))


def test_a_long_text_is_cut_where_a_word_ends(world: World) -> None:
    typed = "kubernetes " * 1000  # 11,000 characters
    kept = shortened(typed)
    assert len(kept) <= MAX_INPUT_CHARS and kept.endswith("kubernetes") and typed.startswith(kept)
    assert clean_text(typed).split()[-1] == "kubernetes"
    assert analyse(typed, world.index).words == ("kubernetes",)  # never "kube" in the heading
    assert shortened("x" * 5000) == "x" * MAX_INPUT_CHARS  # one word longer than the limit: cut inside it
    assert shortened("short text") == "short text"

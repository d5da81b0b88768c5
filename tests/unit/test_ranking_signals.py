"""Each ranking signal decides a case on its own: with the signal switched off, the order flips.

The scenarios are built directly as retrieved posts (pure `rank`), so each test isolates one signal.
"""

from __future__ import annotations

from dataclasses import replace

from whoknows.core.conversation import Activity, Person, PostFacts
from whoknows.core.ranking import DAY_MS, Weights, confidence, rank

NOW = 1_700_000_000_000
W = Weights()


def person(user_id: str, **flags: bool) -> Person:
    return Person(user_id, user_id, user_id.title(), flags.get("bot", False), flags.get("deactivated", False), flags.get("opted_out", False))


def post(post_id: str, user: str, *, root: str = "", root_user: str = "", days_ago: float = 1, endorsements: int = 0, accepted: bool = False) -> PostFacts:
    return PostFacts(post_id, "c1", user, root, root_user, NOW - int(days_ago * DAY_MS), f"text of {post_id}", endorsements, accepted)


def order(matched: list[tuple[PostFacts, float]], *, threads: dict[str, list[PostFacts]] | None = None,
          activity: dict[str, Activity] | None = None, ties: dict[str, int] | None = None,
          rejections: dict[str, int] | None = None, weights: Weights = W, exclude: tuple[str, ...] = ()) -> list[str]:
    users = {p.user_id for p, _ in matched} | {r.user_id for rs in (threads or {}).values() for r in rs}
    experts = rank(matched, threads or {}, activity or {}, {u: person(u) for u in users}, rejections or {}, ties,
                   now=NOW, exclude=exclude, weights=weights)
    return [e.person.user_id for e in experts]


def test_answering_someone_elses_thread_beats_asking() -> None:
    matched = [(post("q1", "asker"), 1.0), (post("a1", "helper", root="q0", root_user="other"), 0.8)]
    assert order(matched)[0] == "helper"
    assert order(matched, weights=replace(W, answer=W.question))[0] == "asker"


def test_answerers_of_a_matching_thread_count_even_when_their_words_do_not_match() -> None:
    # The question matches; the answer's own words do not (it was not retrieved).
    root = post("q1", "asker")
    answer = post("a1", "answerer", root="q1", root_user="asker")
    matched = [(root, 1.0), (post("p2", "bystander", root="q9", root_user="x"), 0.5)]
    assert order(matched, threads={"q1": [answer]})[0] == "answerer"
    assert "answerer" not in order(matched, threads={"q1": [answer]}, weights=replace(W, thread=0.0))


def test_endorsed_answers_weigh_more() -> None:
    matched = [
        (post("a1", "endorsed", root="q1", root_user="x", endorsements=3), 0.8),
        (post("a2", "plain", root="q2", root_user="y"), 1.0),
    ]
    assert order(matched)[0] == "endorsed"
    assert order(matched, weights=replace(W, endorsement=0.0))[0] == "plain"


def test_the_askers_check_mark_weighs_more() -> None:
    matched = [
        (post("a1", "accepted", root="q1", root_user="x", accepted=True), 0.8),
        (post("a2", "plain", root="q2", root_user="y"), 1.0),
    ]
    assert order(matched)[0] == "accepted"
    assert order(matched, weights=replace(W, accepted=0.0))[0] == "plain"


def test_old_evidence_fades() -> None:
    matched = [
        (post("a1", "recent", root="q1", root_user="x", days_ago=2), 0.8),
        (post("a2", "long_ago", root="q2", root_user="y", days_ago=400), 1.0),
    ]
    assert order(matched)[0] == "recent"
    assert order(matched, weights=replace(W, evidence_half_life_days=1e12))[0] == "long_ago"


def test_recent_activity_is_a_prior() -> None:
    matched = [
        (post("a1", "active", root="q1", root_user="x"), 0.9),
        (post("a2", "absent", root="q2", root_user="y"), 1.0),
    ]
    activity = {"active": Activity(200, 120, NOW, 40.0), "absent": Activity(1, 1, NOW, 0.1)}
    assert order(matched, activity=activity)[0] == "active"
    assert order(matched, activity=activity, weights=replace(W, activity=0.0))[0] == "absent"


def test_people_who_helped_the_asker_before_rank_higher() -> None:
    matched = [
        (post("a1", "old_friend", root="q1", root_user="x"), 0.9),
        (post("a2", "stranger", root="q2", root_user="y"), 1.0),
    ]
    assert order(matched, ties={"old_friend": 6})[0] == "old_friend"
    assert order(matched, ties={"old_friend": 6}, weights=replace(W, tie=0.0))[0] == "stranger"


def test_not_helpful_feedback_demotes() -> None:
    matched = [
        (post("a1", "rejected", root="q1", root_user="x"), 1.0),
        (post("a2", "other", root="q2", root_user="y"), 0.8),
    ]
    assert order(matched, rejections={"rejected": 2})[0] == "other"
    assert order(matched, rejections={"rejected": 2}, weights=replace(W, rejection=1.0))[0] == "rejected"


def test_sharper_scores_let_the_best_match_beat_many_weak_ones() -> None:
    weak = [(post(f"w{i}", "many_weak", root=f"q{i}", root_user="x"), 0.45) for i in range(4)]
    matched = [(post("s1", "one_strong", root="qs", root_user="y"), 1.0), *weak]
    assert order(matched)[0] == "one_strong"
    assert order(matched, weights=replace(W, sharpen=1.0))[0] == "many_weak"


def test_asker_bots_deactivated_and_opted_out_never_appear() -> None:
    matched = [(post(f"a{u}", u, root="q", root_user="x"), 1.0) for u in ("asker", "bot", "gone", "private", "ok")]
    people = {
        "asker": person("asker"),
        "bot": person("bot", bot=True),
        "gone": person("gone", deactivated=True),
        "private": person("private", opted_out=True),
        "ok": person("ok"),
    }
    experts = rank(matched, {}, {}, people, {}, now=NOW, exclude=["asker"])
    assert [e.person.user_id for e in experts] == ["ok"]


def test_confidence_needs_several_strong_answers() -> None:
    one = [(post("a1", "h", root="q1", root_user="x"), 1.0)]
    three = one + [(post(f"a{i}", "h", root=f"q{i}", root_user="x"), 1.0) for i in (2, 3)]
    low = confidence(rank(one, {}, {}, {"h": person("h")}, {}, now=NOW))
    high = confidence(rank(three, {}, {}, {"h": person("h")}, {}, now=NOW))
    assert low < high == 1.0


def test_in_a_channel_without_threads_statements_count_more_than_questions() -> None:
    statement = PostFacts("s1", "c1", "expert", "", "", NOW - DAY_MS, "use the ingress annotation", 0, False, False)
    question = PostFacts("q1", "c1", "asker", "", "", NOW - DAY_MS, "how does the ingress annotation work?", 0, False, True)
    matched = [(question, 1.0), (statement, 0.8)]
    assert order(matched)[0] == "expert"
    assert order(matched, weights=replace(W, statement=W.question))[0] == "asker"


def test_outside_threads_the_next_messages_answer_a_matching_question() -> None:
    from whoknows.core.conversation import Conversation
    from whoknows.core.engine import Engine
    from whoknows.core.events import ChannelUpdated, PostCreated, UserUpdated
    from whoknows.core.pipeline import Pipeline
    from whoknows.core.index.whoosh_engine import WhooshIndex

    conv, index = Conversation(), WhooshIndex()
    pipeline = Pipeline(conv, index)
    t0 = NOW - DAY_MS
    pipeline.apply([
        ChannelUpdated("c1", "t", "general", "O"),
        *(UserUpdated(u, u) for u in ("asker", "answerer", "chatter")),
        PostCreated("q", "c1", "asker", "how do we rotate the replication password?", t0),
        PostCreated("a", "c1", "answerer", "alter role on the primary, then reload the standbys", t0 + 60_000),
        PostCreated("x", "c1", "chatter", "lunch anyone", t0 + 3 * 3600_000),
    ])
    pipeline.flush()

    def names(weights: Weights) -> list[str]:
        ranking = Engine(conv, index, weights).ask("replication password", now=NOW, exclude=["asker"])
        return [e.person.username for e in ranking.experts]

    assert names(W) == ["answerer"]  # the chatter came hours later: not an answer
    assert names(replace(W, follow_minutes=0)) == []
    index.close()

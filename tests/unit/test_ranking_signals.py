"""Each ranking signal decides a case on its own: with that signal alone switched off (its weight set to
zero), the order flips. The scenarios are built directly as retrieved posts (pure `rank`), so each test
isolates one signal; the last ones go through the real store, index and engine.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from whoknows.core.conversation import Activity, Person, PostFacts
from whoknows.core.ranking import DAY_MS, HOUR_MS, Context, Weights, confidence, rank
from conftest import new_conversation

NOW = 1_700_000_000_000
W = Weights()


def person(user_id: str, **flags: bool) -> Person:
    return Person(user_id, user_id, user_id.title(), flags.get("bot", False), flags.get("deactivated", False), flags.get("opted_out", False))


def post(
    post_id: str,
    user: str,
    *,
    root: str = "",
    root_user: str = "",
    days_ago: float = 1,
    endorsements: int = 0,
    accepted: bool = False,
    text: str = "",
    question: bool = False,
) -> PostFacts:
    message = text or f"text of {post_id} about the ingress controller"
    return PostFacts(post_id, "c1", user, root, root_user, NOW - int(days_ago * DAY_MS), message, endorsements, accepted, question)


def answer(post_id: str, user: str, root: str = "q0", **kw: object) -> PostFacts:
    return post(post_id, user, root=root, root_user="someone", **kw)  # type: ignore[arg-type]


def order(
    matched: Sequence[tuple[PostFacts, float]],
    *,
    threads: Mapping[str, Sequence[PostFacts]] | None = None,
    activity: Mapping[str, Activity] | None = None,
    weights: Weights = W,
    exclude: Collection[str] = (),
    **context: object,
) -> list[str]:
    users = {p.user_id for p, _ in matched} | {r.user_id for rs in (threads or {}).values() for r in rs}
    room: Sequence[tuple[str, int]] = context.get("room", ())  # type: ignore[assignment]
    mentioned: Collection[str] = context.get("mentioned", ())  # type: ignore[assignment]
    users |= {u for u, _ in room} | set(mentioned)
    ctx = Context(activity=activity or {}, people={u: person(u) for u in users}, **context)  # type: ignore[arg-type]
    return [e.person.user_id for e in rank(matched, threads or {}, ctx, now=NOW, exclude=exclude, weights=weights)]


def active(posts: int, recent: float) -> Activity:
    return Activity(posts, posts // 2, NOW, recent)


# -- what a post says about its author ------------------------------------------------------------


def test_answering_someone_elses_thread_beats_asking() -> None:
    matched = [(post("q1", "asker", question=True), 1.0), (answer("a1", "helper"), 0.8)]
    assert order(matched)[0] == "helper"
    assert order(matched, weights=replace(W, answer=0.0))[0] == "asker"


def test_a_matching_question_counts_for_its_asker() -> None:
    matched = [(post("q1", "asker", question=True), 1.0)]
    assert order(matched) == ["asker"]
    assert order(matched, weights=replace(W, question=0.0)) == []


def test_a_reply_in_ones_own_thread_counts() -> None:
    matched = [(post("r1", "author", root="q1", root_user="author"), 1.0), (post("q2", "asker", question=True), 0.9)]
    assert order(matched)[0] == "author"
    assert order(matched, weights=replace(W, own_thread_reply=0.0))[0] == "asker"


def test_in_a_channel_without_threads_statements_count_more_than_questions() -> None:
    statement = post("s1", "expert", text="use the ingress annotation")
    question = post("q1", "asker", text="how does the ingress annotation work?", question=True)
    matched = [(question, 1.0), (statement, 0.8)]
    assert order(matched)[0] == "expert"
    assert order(matched, weights=replace(W, statement=0.0))[0] == "asker"


def test_answerers_of_a_matching_question_count_even_when_their_words_do_not_match() -> None:
    root = post("q1", "asker", question=True)
    reply = post("a1", "answerer", root="q1", root_user="asker", text="run force-unlock with the lock id")
    matched = [(root, 1.0), (answer("p2", "bystander", root="q9"), 0.5)]
    assert order(matched, threads={"q1": [reply]})[0] == "answerer"
    assert "answerer" not in order(matched, threads={"q1": [reply]}, weights=replace(W, thread=0.0))


def test_a_thread_that_matches_through_a_reply_credits_the_others_who_answered_in_it() -> None:
    """Conversation-level retrieval: a reply matches, so the whole conversation is about the topic."""
    matching_reply = answer("a1", "talker", root="q1")
    colleague = post("a2", "colleague", root="q1", root_user="someone", text="restart the pods after renewing the cert")
    matched = [(matching_reply, 1.0), (answer("p9", "bystander", root="q9"), 0.5)]
    assert "colleague" in order(matched, threads={"q1": [matching_reply, colleague]})
    assert "colleague" not in order(matched, threads={"q1": [matching_reply, colleague]}, weights=replace(W, thread=0.0))


def test_content_free_replies_never_count_and_follow_up_questions_are_not_answers() -> None:
    root = post("q1", "asker", question=True)
    thanks = post("a1", "thanker", root="q1", root_user="asker", text="thanks, bookmarking this thread!")
    plus_one = post("a2", "plusone", root="q1", root_user="asker", text="+1 :thumbsup: https://example.com/x")
    follow_up = post("a3", "curious", root="q1", root_user="asker", text="and is that safe without downtime?")
    real = post("a4", "expert", root="q1", root_user="asker", text="yes: drain the node first")
    ranked = order([(root, 1.0)], threads={"q1": [thanks, plus_one, follow_up, real]})
    assert ranked == ["expert", "asker"]
    # A matching "thanks" is not evidence either.
    assert order([(post("t1", "thanker", root="q1", root_user="asker", text="thanks!"), 1.0)]) == []


def test_endorsed_answers_weigh_more() -> None:
    matched = [(answer("a1", "endorsed", endorsements=3), 0.8), (answer("a2", "plain", root="q2"), 1.0)]
    assert order(matched)[0] == "endorsed"
    assert order(matched, weights=replace(W, endorsement=0.0))[0] == "plain"


def test_the_askers_check_mark_weighs_more() -> None:
    matched = [(answer("a1", "accepted", accepted=True), 0.8), (answer("a2", "plain", root="q2"), 1.0)]
    assert order(matched)[0] == "accepted"
    assert order(matched, weights=replace(W, accepted=0.0))[0] == "plain"


def test_old_evidence_fades_and_a_zero_half_life_turns_that_off() -> None:
    matched = [(answer("a1", "recent", days_ago=2), 0.8), (answer("a2", "long_ago", root="q2", days_ago=400), 1.0)]
    assert order(matched)[0] == "recent"
    assert order(matched, weights=replace(W, evidence_half_life_days=0.0))[0] == "long_ago"


def test_sharper_scores_let_the_best_match_beat_many_weak_ones() -> None:
    weak = [(answer(f"w{i}", "many_weak", root=f"q{i}"), 0.45) for i in range(4)]
    matched = [(answer("s1", "one_strong", root="qs"), 1.0), *weak]
    activity = {"many_weak": active(4, 1.0), "one_strong": active(1, 1.0)}
    assert order(matched, activity=activity, weights=replace(W, focus=0.0))[0] == "one_strong"
    assert order(matched, activity=activity, weights=replace(W, focus=0.0, sharpen=1.0))[0] == "many_weak"


def test_a_focused_expert_beats_someone_who_posts_everywhere() -> None:
    matched = [
        (answer("f1", "focused", root="q1"), 1.0),
        (answer("f2", "focused", root="q2"), 1.0),
        *((answer(f"v{i}", "volume", root=f"r{i}"), 1.0) for i in range(3)),
    ]
    activity = {"focused": active(10, 2.0), "volume": active(2000, 2.0)}
    assert order(matched, activity=activity)[0] == "focused"
    assert order(matched, activity=activity, weights=replace(W, focus=0.0))[0] == "volume"


# -- who is around, who is asked -------------------------------------------------------------------


def test_recent_activity_over_days_counts() -> None:
    matched = [(answer("a1", "active"), 0.9), (answer("a2", "absent", root="q2"), 1.0)]
    activity = {"active": active(20, 20.0), "absent": active(20, 0.1)}
    assert order(matched, activity=activity)[0] == "active"
    assert order(matched, activity=activity, weights=replace(W, presence_days=0.0))[0] == "absent"


def test_who_posted_in_the_last_hours_is_around_to_answer() -> None:
    matched = [(answer("a1", "here_now"), 0.9), (answer("a2", "elsewhere", root="q2"), 1.0)]
    activity = {"here_now": active(20, 1.0), "elsewhere": active(20, 1.0)}
    recent = {"here_now": [NOW - 10 * 60_000, NOW - 40 * 60_000]}
    assert order(matched, activity=activity, recent_posts=recent)[0] == "here_now"
    assert order(matched, activity=activity, recent_posts=recent, weights=replace(W, presence_hours=0.0))[0] == "elsewhere"


def test_in_a_channel_the_people_speaking_right_now_are_candidates() -> None:
    matched = [(answer("a1", "expert", days_ago=300), 1.0)]
    activity = {"expert": active(5, 0.001), "speaker": active(50, 3.0)}
    room = [("speaker", NOW - 60_000), ("speaker", NOW - 120_000)]
    assert order(matched, activity=activity, room=room, in_channel=True, pace_ms=10 * 60_000)[0] == "speaker"
    assert order(matched, activity=activity, room=room, in_channel=True, pace_ms=10 * 60_000, weights=replace(W, room=0.0)) == ["expert"]


def test_knowledge_outweighs_presence_unless_switched_off() -> None:
    matched = [(answer("k1", "knows", root="q1"), 1.0), (answer("k2", "knows", root="q2"), 1.0), (answer("s1", "around", root="q3"), 0.3)]
    activity = {"knows": active(10, 1.0), "around": active(10, 2.5)}
    assert order(matched, activity=activity, in_channel=True)[0] == "knows"
    assert order(matched, activity=activity, in_channel=True, weights=replace(W, topical=0.0))[0] == "around"


def test_on_a_card_presence_counts_less_than_under_a_question() -> None:
    matched = [(answer("a1", "present"), 0.8), (answer("a2", "expert", root="q2"), 1.0)]
    activity = {"present": active(10, 50.0), "expert": active(10, 0.5)}
    assert order(matched, activity=activity, in_channel=True)[0] == "present"
    assert order(matched, activity=activity, in_channel=False, weights=replace(W, card_presence=0.0))[0] == "expert"
    assert order(matched, activity=activity, in_channel=False)[0] == "present"  # presence still counts, dampened


def test_a_person_named_in_the_question_is_the_one_asked() -> None:
    matched = [(answer("a1", "other"), 1.0), (answer("a2", "named", root="q2"), 0.5)]
    assert order(matched, mentioned=["named"])[0] == "named"
    assert order(matched, mentioned=["named"], weights=replace(W, mention=0.0))[0] == "other"


def test_people_whose_answers_were_endorsed_before_rank_higher() -> None:
    matched = [(answer("a1", "trusted"), 0.9), (answer("a2", "unknown", root="q2"), 1.0)]
    assert order(matched, endorsed={"trusted": 12})[0] == "trusted"
    assert order(matched, endorsed={"trusted": 12}, weights=replace(W, reputation=0.0))[0] == "unknown"


def test_people_who_helped_the_asker_before_rank_higher() -> None:
    matched = [(answer("a1", "old_friend"), 0.9), (answer("a2", "stranger", root="q2"), 1.0)]
    assert order(matched, ties={"old_friend": 6})[0] == "old_friend"
    assert order(matched, ties={"old_friend": 6}, weights=replace(W, tie=0.0))[0] == "stranger"


def test_not_helpful_feedback_demotes() -> None:
    matched = [(answer("a1", "rejected"), 1.0), (answer("a2", "other", root="q2"), 0.8)]
    assert order(matched, rejections={"rejected": 2})[0] == "other"
    assert order(matched, rejections={"rejected": 2}, weights=replace(W, rejection=0.0))[0] == "rejected"


def test_asker_bots_deactivated_and_opted_out_never_appear() -> None:
    matched = [(answer(f"a{u}", u), 1.0) for u in ("asker", "bot", "gone", "private", "ok")]
    people = {
        "asker": person("asker"),
        "bot": person("bot", bot=True),
        "gone": person("gone", deactivated=True),
        "private": person("private", opted_out=True),
        "ok": person("ok"),
    }
    room = [(u, NOW - 60_000) for u in people]
    ctx = Context(activity={}, people=people, room=room, mentioned=list(people), in_channel=True)
    assert [e.person.user_id for e in rank(matched, {}, ctx, now=NOW, exclude=["asker"])] == ["ok"]


def test_confidence_needs_several_strong_answers_from_someone_who_answered() -> None:
    def conf(matched: list[tuple[PostFacts, float]], **context: object) -> float:
        users = {p.user_id for p, _ in matched} | {u for u, _ in context.get("room", ())}  # type: ignore[attr-defined]
        ctx = Context(activity={}, people={u: person(u) for u in users}, **context)  # type: ignore[arg-type]
        return confidence(rank(matched, {}, ctx, now=NOW))

    one = [(answer("a1", "h", root="q1"), 1.0)]
    three = one + [(answer(f"a{i}", "h", root=f"q{i}"), 1.0) for i in (2, 3)]
    assert conf(one) < conf(three) == 1.0
    # Someone in the room ranked above the answerer does not make the suggestion less sure of the answerer.
    assert conf(three, room=[("talker", NOW - 1000)] * 30, in_channel=True) == 1.0


# -- through the store, the index and the engine -----------------------------------------------------


def test_outside_threads_the_next_messages_answer_a_matching_question() -> None:
    from whoknows.core.conversation import Conversation
    from whoknows.core.engine import Engine
    from whoknows.core.events import ChannelUpdated, PostCreated, UserUpdated
    from whoknows.core.index.whoosh_engine import WhooshIndex
    from whoknows.core.pipeline import Pipeline

    conv, index = new_conversation(), WhooshIndex()
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
    conv.close()


def test_a_question_that_names_someone_reaches_them_through_the_engine() -> None:
    from whoknows.core.conversation import Conversation
    from whoknows.core.engine import Engine
    from whoknows.core.events import ChannelUpdated, PostCreated, UserUpdated
    from whoknows.core.index.whoosh_engine import WhooshIndex
    from whoknows.core.pipeline import Pipeline

    conv, index = new_conversation(), WhooshIndex()
    pipeline = Pipeline(conv, index)
    pipeline.apply([
        ChannelUpdated("c1", "t", "general", "O"),
        *(UserUpdated(u, u) for u in ("asker", "dana", "eli")),
        PostCreated("p1", "c1", "eli", "the cache warmer runs nightly", NOW - 2 * DAY_MS),
        PostCreated("p2", "c1", "dana", "I moved the build cache last week", NOW - 30 * DAY_MS),
    ])
    pipeline.flush()
    engine = Engine(conv, index)
    first = [e.person.username for e in engine.ask("@dana where does the cache live now?", now=NOW, exclude=["asker"]).experts]
    plain = [e.person.username for e in engine.ask("where does the cache live now?", now=NOW, exclude=["asker"]).experts]
    assert first[0] == "dana" and plain[0] == "eli"
    assert HOUR_MS > 0
    index.close()
    conv.close()

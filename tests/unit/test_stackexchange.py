"""The Stack Exchange converter: exact output on a hand-made dump, sanity on the real ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest

from conftest import SHARED, dev_data
from whoknows.datasets.stackexchange import (
    ConversionSummary,
    convert,
    html_to_text,
    parse_tags,
    parse_time,
    window_start,
)
from whoknows.errors import UserError

SE_DATA = SHARED / "datasets" / "stackexchange"

DAY = 86_400_000
JAN1 = 1_609_459_200_000  # 2021-01-01T00:00:00Z
TEAM_LINES = [
    {"type": "version", "version": 1},
    {"type": "team", "team": {"name": "cardano", "display_name": "Cardano", "type": "O"}},
    {"type": "channel", "channel": {"team": "cardano", "name": "qa", "display_name": "Q&A", "type": "O"}},
]


def row(**attrs: str | int) -> str:
    """One dump row, escaped the way the dumps are (newlines as &#xA;)."""
    return "<row " + " ".join(f"{k}={quoteattr(str(v), {chr(10): '&#xA;'})}" for k, v in attrs.items()) + " />"


def xml_file(path: Path, root: str, rows: list[str]) -> None:
    body = "\n".join(f"  {r}" for r in rows)
    path.write_text(f'\ufeff<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n{body}\n</{root}>\n', encoding="utf-8")


Q10_BODY = (
    "<p>I ran <code>cardano-cli stake-address</code> &amp; got &lt;error&gt;:</p>\n"
    "<pre><code>line one\n  indented &lt;b&gt;\n</code></pre>\n"
    "<ul>\n<li>first</li>\n<li>second<br>line</li>\n</ul>\n"
)
Q10_TEXT = "I ran cardano-cli stake-address & got <error>:\n\nline one\n  indented <b>\n\nfirst\nsecond\nline"


def question(qid: int, when: str, owner: int | None, tags: str, accepted: int | None = None, **extra: str) -> str:
    attrs: dict[str, str | int] = {"Id": qid, "PostTypeId": 1, "CreationDate": when}
    if accepted is not None:
        attrs["AcceptedAnswerId"] = accepted
    attrs["Body"] = extra.get("body", f"<p>Body of {qid}.</p>\n")
    if owner is not None:
        attrs["OwnerUserId"] = owner
    attrs["Title"] = extra.get("title", f"Question {qid}?")
    attrs["Tags"] = tags
    return row(**attrs)


def answer(aid: int, parent: int, when: str, owner: int | None) -> str:
    attrs: dict[str, str | int] = {"Id": aid, "PostTypeId": 2, "ParentId": parent, "CreationDate": when,
                                   "Body": f"<p>Answer {aid}.</p>\n"}
    if owner is not None:
        attrs["OwnerUserId"] = owner
    return row(**attrs)


def make_dump(root: Path, with_comments: bool = True) -> Path:
    """26 questions over 10 days; the window starts 2021-01-07T00:00 (t_min + 6 days)."""
    dump = root / "Cardano"
    dump.mkdir()
    posts = [
        question(10, "2021-01-01T00:00:00.000", 1, "<stake-pool><cardano-node>", 11,
                 title="How do I stake & delegate?", body=Q10_BODY),
        answer(11, 10, "2021-01-01T02:00:00", 2),  # no milliseconds: still parsed
        answer(12, 10, "2021-01-01T01:00:00.000", 3),
        question(20, "2021-01-02T00:00:00.000", None, "|stake-pool|", 21),  # asker deleted, pipe tags
        answer(21, 20, "2021-01-02T05:00:00.000", 2),
        question(30, "2021-01-06T23:59:59.999", 1, "<stake-pool>", 31),  # 1 ms before the window
        answer(31, 30, "2021-01-07T01:00:00.000", 2),
        question(40, "2021-01-07T00:00:00.000", 1, "<stake-pool><rare>", 41),  # exactly at the window start
        answer(41, 40, "2021-01-07T03:00:00.000", 2),
        question(50, "2021-01-08T00:00:00.000", 3, "<stake-pool>", 51),  # self-answer
        answer(51, 50, "2021-01-08T01:00:00.000", 3),
        question(55, "2021-01-08T12:00:00.000", 4, "<stake-pool><wallet>", 56),
        answer(56, 55, "2021-01-08T13:00:00.000", 3),
        question(60, "2021-01-09T00:00:00.000", 1, "<stake-pool>", 61),  # accepted answer by a deleted user
        answer(61, 60, "2021-01-09T01:00:00.000", None),
        question(65, "2021-01-09T12:00:00.000", 4, "<stake-pool>", 66),
        answer(66, 65, "2021-01-09T13:00:00.000", None),
        question(70, "2021-01-10T00:00:00.000", 4, "<wallet>"),  # nothing accepted
        answer(71, 70, "2021-01-10T01:00:00.000", 2),
        question(85, "2021-01-10T12:00:00.000", 5, "<wallet>", 999),  # accepted answer not in the dump
        question(80, "2021-01-11T00:00:00.000", 5, "<stake-pool><rare>", 81),  # t_max
        answer(81, 80, "2021-01-11T02:00:00.000", 2),
        answer(90, 12345, "2021-01-05T00:00:00.000", 4),  # orphan answer: dropped
        row(Id=500, PostTypeId=4, CreationDate="2021-01-03T00:00:00.000", Body="<p>wiki</p>", OwnerUserId=-1),
    ]
    # Fillers in the history: stake-pool ends up on exactly 10 questions, wallet on 10, rare on 9.
    filler_tags = ["<stake-pool>"] + ["<rare>"] * 7 + ["<wallet>"] * 7
    for index, tags in enumerate(filler_tags):
        posts.append(question(200 + index, f"2021-01-03T00:{index:02d}:00.000", 5, tags))
    xml_file(dump / "Posts.xml", "posts", posts)
    xml_file(dump / "Users.xml", "users", [row(Id=n, DisplayName=f"user {n}") for n in range(-1, 8)])
    if with_comments:
        xml_file(dump / "Comments.xml", "comments", [
            row(Id=100, PostId=11, Text="Thanks, that & more!", CreationDate="2021-01-01T03:00:00.000", UserId=1),
            row(Id=101, PostId=10, Text="Which node version?", CreationDate="2021-01-01T00:30:00.000"),
            row(Id=102, PostId=500, Text="wiki comment", CreationDate="2021-01-03T00:00:00.000", UserId=7),
        ])
    return dump


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def posts_by_time(lines: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {line["post"]["create_at"]: line["post"] for line in lines if line["type"] == "post"}


@pytest.fixture
def converted(tmp_path: Path) -> tuple[ConversionSummary, list[dict[str, Any]], list[dict[str, Any]]]:
    summary = convert(make_dump(tmp_path), tmp_path / "corpus.jsonl", tmp_path / "queries.jsonl")
    return summary, read_jsonl(tmp_path / "corpus.jsonl"), read_jsonl(tmp_path / "queries.jsonl")


Converted = tuple[ConversionSummary, list[dict[str, Any]], list[dict[str, Any]]]


def test_header_and_users(converted: Converted) -> None:
    _, corpus, _ = converted
    assert corpus[:3] == TEAM_LINES
    users = [line for line in corpus if line["type"] == "user"]
    assert [u["user"]["username"] for u in users] == ["u1", "u2", "u3", "u4", "u5", "deleted"]
    assert users[0]["user"] == {"username": "u1", "email": "u1@example.invalid",
                                "teams": [{"name": "cardano", "channels": [{"name": "qa"}]}]}
    assert [line["type"] for line in corpus[3 + len(users):]] == ["post"] * 26


def test_question_message_and_thread(converted: Converted) -> None:
    _, corpus, _ = converted
    post = posts_by_time(corpus)[JAN1]
    assert post["team"] == "cardano" and post["channel"] == "qa" and post["user"] == "u1"
    assert post["message"] == f"How do I stake & delegate?\n\n{Q10_TEXT}\n\n#stake-pool #cardano-node"
    assert post["replies"] == [
        {"user": "deleted", "message": "Which node version?", "create_at": JAN1 + 1_800_000},
        {"user": "u3", "message": "Answer 12.", "create_at": JAN1 + 3_600_000},
        {"user": "u2", "message": "Answer 11.", "create_at": JAN1 + 7_200_000,
         "reactions": [{"user": "u1", "emoji_name": "white_check_mark", "create_at": JAN1 + 7_201_000}]},
        {"user": "u1", "message": "Thanks, that & more!", "create_at": JAN1 + 10_800_000},
    ]
    assert "reactions" not in post


def test_deleted_asker_pipe_tags_and_sorting(converted: Converted) -> None:
    _, corpus, _ = converted
    posts = posts_by_time(corpus)
    assert list(posts) == sorted(posts)
    deleted_question = posts[JAN1 + DAY]
    assert deleted_question["user"] == "deleted"
    assert deleted_question["message"] == "Question 20?\n\nBody of 20.\n\n#stake-pool"
    assert deleted_question["replies"][0]["reactions"][0]["user"] == "deleted"
    unanswered = posts[JAN1 + 9 * DAY + DAY // 2]  # accepted id 999 is not in the dump
    assert unanswered["replies"] == []


def test_summary_counts(converted: Converted) -> None:
    summary, _, _ = converted
    assert summary == ConversionSummary(users=6, questions=26, answers=11, comments=2, reactions=9,
                                        question_queries=3, topic_queries=1, window_start=JAN1 + 6 * DAY)


def test_queries(converted: Converted) -> None:
    _, _, queries = converted
    start = JAN1 + 6 * DAY
    assert [q["id"] for q in queries] == ["q40", "t:stake-pool", "q55", "q80"]
    assert queries[0] == {"id": "q40", "kind": "question", "text": "Question 40?\n\nBody of 40.", "at": start,
                          "asker": "u1", "team": "cardano", "channel": "qa", "relevant": ["u2"]}
    assert queries[2]["relevant"] == ["u3"] and queries[2]["asker"] == "u4"
    assert queries[3]["relevant"] == ["u2"] and queries[3]["at"] == JAN1 + 10 * DAY
    # stake-pool: u2 (q40, q80) and u3 (q50 self-accepted, q55) have two accepted answers in the window;
    # `deleted` also has two and is left out; q30 lies 1 ms before the window. rare (9 questions) and
    # wallet (nobody with two accepted answers) give no query.
    assert queries[1] == {"id": "t:stake-pool", "kind": "topic", "text": "stake pool", "at": start,
                          "asker": None, "team": "cardano", "channel": "qa", "relevant": ["u2", "u3"]}


def test_output_is_deterministic(tmp_path: Path) -> None:
    dump = make_dump(tmp_path)
    convert(dump, tmp_path / "a.jsonl", tmp_path / "qa.jsonl")
    convert(dump, tmp_path / "b.jsonl", tmp_path / "qb.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "qa.jsonl").read_bytes() == (tmp_path / "qb.jsonl").read_bytes()
    assert not list(tmp_path.glob("*.tmp"))


def test_comments_file_is_optional(tmp_path: Path) -> None:
    summary = convert(make_dump(tmp_path, with_comments=False), tmp_path / "c.jsonl", tmp_path / "q.jsonl")
    assert summary.comments == 0 and summary.answers == 11


def test_bad_input_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such folder"):
        convert(tmp_path / "absent", tmp_path / "c.jsonl", tmp_path / "q.jsonl")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no Posts.xml"):
        convert(empty, tmp_path / "c.jsonl", tmp_path / "q.jsonl")
    (empty / "Posts.xml").write_text("this is not XML", encoding="utf-8")
    with pytest.raises(UserError, match="not a valid XML file") as caught:
        convert(empty, tmp_path / "c.jsonl", tmp_path / "q.jsonl")
    assert "Posts.xml" in caught.value.reason
    xml_file(empty / "Posts.xml", "posts", [row(Id=1, PostTypeId=1, CreationDate="yesterday", Title="t")])
    with pytest.raises(UserError, match="CreationDate='yesterday'"):
        convert(empty, tmp_path / "c.jsonl", tmp_path / "q.jsonl")
    xml_file(empty / "Posts.xml", "posts", [])
    with pytest.raises(UserError, match="no questions"):
        convert(empty, tmp_path / "c.jsonl", tmp_path / "q.jsonl")
    assert not (tmp_path / "c.jsonl").exists()


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a &lt;b&gt; &amp;&nbsp;c</p>", "a <b> & c"),
        ("<p>one</p>\n\n<p>two  words\nhere</p>", "one\n\ntwo words here"),
        ("<p>see <a href='x'>the <em>docs</em></a>.</p>", "see the docs."),
        ("<pre><code>  keep\n\n\n  spacing\n</code></pre><p>after</p>", "  keep\n\n\n  spacing\n\nafter"),
        ("<ol><li>a</li><li>b</li></ol>text", "a\nb\n\ntext"),
        ("x<br/>y<br><br>z", "x\ny\n\nz"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_tags_times_and_window() -> None:
    assert parse_tags("<a><b-c><a>") == ("a", "b-c")
    assert parse_tags("|a|b-c|") == ("a", "b-c")
    assert parse_tags("") == ()
    assert parse_time("2021-04-27T14:53:19.553") == 1_619_535_199_553
    assert parse_time("1970-01-01T00:00:01") == 1000
    assert window_start([0, 10]) == 6
    assert window_start([0, 11]) == 7  # 6.6 rounds up: `at >= 6.6` and `at >= 7` agree on integers
    assert window_start([5]) == 5


@pytest.mark.parametrize("site", ["cardano", "beer"])
def test_real_dump(site: str, tmp_path: Path) -> None:
    dump = dev_data(SE_DATA / site / "Posts.xml").parent
    summary = convert(dump, tmp_path / "corpus.jsonl", tmp_path / "queries.jsonl")
    corpus = read_jsonl(tmp_path / "corpus.jsonl")
    queries = read_jsonl(tmp_path / "queries.jsonl")
    users = {line["user"]["username"] for line in corpus if line["type"] == "user"}
    posts = [line["post"] for line in corpus if line["type"] == "post"]
    assert len(users) == summary.users and len(posts) == summary.questions
    assert sum(len(post["replies"]) for post in posts) == summary.answers + summary.comments
    assert [post["create_at"] for post in posts] == sorted(post["create_at"] for post in posts)
    reactions = 0
    for post in posts:
        assert post["user"] in users
        times = [reply["create_at"] for reply in post["replies"]]
        assert times == sorted(times) and all(t >= post["create_at"] for t in times)
        for reply in post["replies"]:
            assert reply["user"] in users
            for reaction in reply.get("reactions", []):
                assert reaction["create_at"] == reply["create_at"] + 1000 and reaction["user"] == post["user"]
                reactions += 1
    assert reactions == summary.reactions
    assert [(q["at"], q["id"]) for q in queries] == sorted((q["at"], q["id"]) for q in queries)
    assert len(queries) == summary.question_queries + summary.topic_queries
    for query in queries:
        assert query["relevant"] and set(query["relevant"]) <= users and "deleted" not in query["relevant"]
        assert query["at"] >= summary.window_start
        assert query["kind"] == "question" or (query["at"] == summary.window_start and query["asker"] is None)
        assert query["asker"] not in query["relevant"]
    print(site, summary)
    if site == "cardano":  # the counts quoted in PROTOCOL.md section 5
        assert (summary.question_queries, summary.topic_queries) == (139, 22)

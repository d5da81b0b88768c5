"""The evaluation of shared/eval/PROTOCOL.md on a small corpus written by hand, and the `whoknows` command
line end to end (import, ask, eval) the way a newcomer runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import (
    DAY_MS,
    HOUR_MS,
    NOW,
    TEAM,
    World,
    channel_line,
    days_ago,
    post_line,
    reaction_obj,
    reply_obj,
    team_line,
    user_line,
    version_line,
    write_jsonl,
)
from whoknows.cli import main
from whoknows.errors import UserError
from whoknows.evaluation.baselines import popularity
from whoknows.evaluation.replay import evaluate
from whoknows.service.importer import import_export

QA = "qa"
RANDOM = "random"
START = days_ago(120)
SPLIT = days_ago(40)
"""Lena, the kafka specialist, joins the conversation only after this moment."""

SPECIALISTS = {"terraform": "tara", "postgres": "pete", "react": "fiona"}
QUESTIONS = {
    "terraform": [
        "terraform plan wants to destroy the vpc after the provider upgrade",
        "terraform state lock is stuck after a cancelled apply",
        "how do terraform workspaces map to our environments",
        "terraform import of an existing s3 bucket fails",
    ],
    "postgres": [
        "postgres autovacuum never finishes on the orders table",
        "postgres replication lag grows every night",
        "which postgres index for a jsonb containment query",
        "postgres connection limit reached during deploys",
    ],
    "react": [
        "react component renders twice in development",
        "react useEffect fires on every keystroke in the form",
        "react hydration mismatch on the pricing page",
        "react context update does not rerender the header",
    ],
}
ANSWERS = {
    "terraform": "pin the terraform provider and use a moved block; run plan with -refresh-only first",
    "postgres": "tune postgres autovacuum cost limits and look at pg_stat_activity for idle transactions",
    "react": "react strict mode mounts twice; memoise the handler with useCallback and check the deps array",
}
CHATTER = ["lunch at noon anyone?", "coffee machine is broken again", "who took my standing desk", "friday demo moved to 3pm"]


def corpus_lines() -> list[dict[str, Any]]:
    """Six people (three specialists, two askers, a chatty colleague), a late kafka specialist and a bot.

    alex asks most of the questions and chats a lot: by number of posts, he is the most active person."""
    lines: list[dict[str, Any]] = [
        version_line(),
        team_line(),
        channel_line(QA),
        channel_line(RANDOM),
        user_line("tara", [QA, RANDOM], first="Tara", last="Singh"),
        user_line("pete", [QA, RANDOM], first="Pete", last="Novak"),
        user_line("fiona", [QA, RANDOM], first="Fiona", last="Reyes"),
        user_line("alex", [QA, RANDOM]),
        user_line("bea", [QA, RANDOM]),
        user_line("chad", [QA, RANDOM]),
        user_line("lena", [QA, RANDOM]),
        {"type": "bot", "bot": {"username": "cibot", "display_name": "CI"}},
    ]
    at = START
    n = 0
    for round_ in range(4):
        for topic, questions in QUESTIONS.items():
            asker = "bea" if n % 3 == 2 else "alex"
            replies = [
                reply_obj(
                    SPECIALISTS[topic],
                    ANSWERS[topic],
                    at + HOUR_MS,
                    reactions=[reaction_obj(asker, at + 2 * HOUR_MS)],
                )
            ]
            if n % 2 == 0:
                replies.append(reply_obj("chad", "same problem here, following", at + 3 * HOUR_MS))
            lines.append(post_line(asker, questions[round_], at, channel=QA, replies=replies))
            lines.append(post_line("cibot", f"nightly {topic} job finished", at + 4 * HOUR_MS, channel=QA))
            at += 6 * DAY_MS
            n += 1
    for i, text in enumerate(CHATTER * 3):
        lines.append(post_line("chad", text, START + i * 7 * DAY_MS + 5 * HOUR_MS, channel=RANDOM))
        lines.append(post_line("alex", f"re: {text} count me in", START + i * 7 * DAY_MS + 6 * HOUR_MS, channel=RANDOM))
    # A kafka question asked before SPLIT, answered only after it by lena, who had never posted before.
    lines.append(
        post_line(
            "alex",
            "kafka consumer group keeps rebalancing",
            SPLIT - 2 * DAY_MS,
            channel=QA,
            replies=[reply_obj("lena", "raise max.poll.interval.ms; the kafka consumer is too slow per batch", SPLIT + DAY_MS)],
        )
    )
    lines.append(post_line("lena", "kafka retention is now 7 days on the events topic", SPLIT + 2 * DAY_MS, channel=QA))
    return lines


def query(qid: str, kind: str, text: str, at: int, relevant: list[str], asker: str | None = None) -> dict[str, Any]:
    return {"id": qid, "kind": kind, "text": text, "at": at, "asker": asker, "team": TEAM, "channel": QA, "relevant": relevant}


def late_question_queries() -> list[dict[str, Any]]:
    """The questions of the last round, asked while the corpus goes on after them."""
    out = []
    at = START + 9 * 6 * DAY_MS
    for i, (topic, questions) in enumerate(QUESTIONS.items()):
        asker = "bea" if (9 + i) % 3 == 2 else "alex"
        out.append(query(f"q{i}", "question", questions[3], at + i * 6 * DAY_MS, [SPECIALISTS[topic]], asker))
    return out


def topic_queries(at: int) -> list[dict[str, Any]]:
    return [query(f"t-{topic}", "topic", topic, at, [who]) for topic, who in SPECIALISTS.items()]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "corpus.jsonl", corpus_lines())


def run(tmp_path: Path, corpus: Path, queries: list[dict[str, Any]]) -> dict[str, Any]:
    return evaluate(corpus, write_jsonl(tmp_path / "queries.jsonl", queries))


METRICS = {"mrr", "mrr_ci", "p1", "hit5", "ndcg5", "mrr_answerable"}


def test_the_result_has_the_shape_of_protocol_section_5(tmp_path: Path, corpus: Path) -> None:
    queries = late_question_queries() + topic_queries(SPLIT)
    result = run(tmp_path, corpus, queries)

    assert json.loads(json.dumps(result)) == result, "plain JSON"
    assert (result["corpus"], result["queries"]) == (TEAM, 6)
    assert set(result["by_kind"]) == {"question", "topic"}
    for block in result["by_kind"].values():
        assert (block["queries"], block["answerable"]) == (3, 3)
        assert set(block["methods"]) == {"whoknows", "popularity", "combmnz", "recent"}
        assert set(block["evidence"]) == {"items", "on_topic"} and 0.0 <= block["evidence"]["on_topic"] <= 1.0
        for m in block["methods"].values():
            assert METRICS <= set(m)
            low, high = m["mrr_ci"]
            assert 0.0 <= low <= m["mrr"] <= high <= 1.0
            assert all(0.0 <= m[k] <= 1.0 for k in ("p1", "hit5", "ndcg5", "mrr_answerable"))


def test_whoknows_ranks_each_specialist_first_on_their_topic(tmp_path: Path, corpus: Path) -> None:
    result = run(tmp_path, corpus, late_question_queries() + topic_queries(SPLIT))

    for kind in ("question", "topic"):
        whoknows = result["by_kind"][kind]["methods"]["whoknows"]
        assert (whoknows["mrr"], whoknows["p1"], whoknows["ndcg5"]) == (1.0, 1.0, 1.0), kind
    # Counting posts names the chatty asker first, never a specialist.
    assert result["by_kind"]["topic"]["methods"]["popularity"]["p1"] == 0.0


def test_a_kind_absent_from_the_queries_is_absent_from_the_result(tmp_path: Path, corpus: Path) -> None:
    result = run(tmp_path, corpus, topic_queries(SPLIT))
    assert set(result["by_kind"]) == {"topic"} and result["queries"] == 3


@pytest.mark.parametrize(
    ("at", "answerable", "mrr"),
    [
        pytest.param(SPLIT, 0, 0.0, id="before-lena-posted"),
        pytest.param(SPLIT + 3 * DAY_MS, 1, 1.0, id="after-lena-posted"),
    ],
)
def test_no_peeking_at_the_future(tmp_path: Path, corpus: Path, at: int, answerable: int, mrr: float) -> None:
    """Before lena's first post she is unknown, even though she answers a thread that already exists."""
    result = run(tmp_path, corpus, [query("k", "topic", "kafka consumer", at, ["lena"])])

    block = result["by_kind"]["topic"]
    assert block["answerable"] == answerable
    assert block["methods"]["whoknows"]["mrr"] == mrr
    assert block["methods"]["whoknows"]["mrr_answerable"] == mrr


def test_the_asker_never_appears_in_any_method(tmp_path: Path, corpus: Path) -> None:
    """alex is the most active person and the most frequent terraform asker; as the asker he is never named."""
    at = NOW - DAY_MS
    result = run(tmp_path, corpus, [query("self", "question", QUESTIONS["terraform"][1], at, ["alex"], asker="alex")])

    block = result["by_kind"]["question"]
    assert block["answerable"] == 1
    assert {name: m["mrr"] for name, m in block["methods"].items()} == {"whoknows": 0.0, "popularity": 0.0, "combmnz": 0.0, "recent": 0.0}


def test_engine_and_baseline_leave_out_the_person_excluded(world: World, corpus: Path) -> None:
    import_export(world.pipeline, corpus)
    question = QUESTIONS["terraform"][1]

    assert "alex" in world.names(question), "without exclusion the asker would be named"
    assert popularity(world.conversation, exclude=[], limit=3)[0] == "alex"

    names = world.names(question, exclude=["alex"], asker="alex")
    assert names[0] == "tara" and "alex" not in names
    assert "alex" not in popularity(world.conversation, exclude=["alex"], limit=10)
    assert "cibot" not in world.names("nightly terraform job finished")


def test_engine_ranks_the_specialists_on_the_whole_corpus(world: World, corpus: Path) -> None:
    import_export(world.pipeline, corpus)
    for topic, specialist in SPECIALISTS.items():
        assert world.names(topic)[0] == specialist, topic
    assert world.names("kafka")[0] == "lena"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        pytest.param('{"id": "q2", "kind": "topic", "text": "x",', "not a query", id="bad-json"),
        pytest.param(json.dumps({"id": "q2", "kind": "topic", "text": "x", "at": 1, "asker": None}), "relevant", id="no-relevant"),
        pytest.param(json.dumps(query("q2", "opinion", "x", 1, ["a"])), "kind must be one of", id="unknown-kind"),
        pytest.param(json.dumps(query("q2", "topic", "x", 1, "tara")), "relevant must be a list", id="relevant-not-a-list"),  # type: ignore[arg-type]
        pytest.param(json.dumps({**query("q2", "topic", "x", 1, ["a"]), "at": "2024-01-01"}), "at must be an integer", id="at-not-ms"),
    ],
)
def test_a_malformed_queries_file_is_refused_naming_the_line(tmp_path: Path, corpus: Path, line: str, problem: str) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps(topic_queries(SPLIT)[0]) + "\n" + line + "\n", encoding="utf-8")

    with pytest.raises(UserError, match=rf"queries\.jsonl line 2: .*{problem}"):
        evaluate(corpus, queries)


def test_a_queries_file_that_is_not_utf8_is_refused_as_a_user_error(tmp_path: Path, corpus: Path) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_bytes(json.dumps(topic_queries(SPLIT)[0]).encode() + b"\n\xff\xfe binary\n")

    with pytest.raises(UserError, match="line 2"):
        evaluate(corpus, queries)


# -- the command line -------------------------------------------------------------------------------


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_import_then_ask_prints_the_card_with_the_specialist(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "data"

    imported = cli("--data", str(data), "import", str(corpus))
    assert imported.exit_code == 0, imported.output
    posts = sum(1 + len(line["post"]["replies"]) for line in corpus_lines() if line["type"] == "post")
    assert imported.stdout.startswith(f"Imported {len(corpus_lines())} lines: {posts} new posts")

    asked = cli("--data", str(data), "ask", "--at", str(NOW), "--limit", "3", "postgres", "autovacuum")
    assert asked.exit_code == 0, asked.output
    lines = asked.stdout.splitlines()
    assert lines[0] == "#### Who knows about postgres autovacuum?"
    first = next(line for line in lines if line.startswith("**1. "))
    assert first.startswith("**1. Pete Novak** (pete) · answered 4 threads about postgres autovacuum")
    assert "cibot" not in asked.stdout and "@" not in asked.stdout


def test_ask_as_a_person_excludes_them(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "data"
    cli("--data", str(data), "import", str(corpus))

    asked = cli("--data", str(data), "ask", "--at", str(NOW), "--as", "@alex", "terraform")
    assert asked.exit_code == 0, asked.output
    assert "(tara)" in asked.stdout and "(alex)" not in asked.stdout


def test_ask_on_an_empty_data_folder_says_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "nothing-here"

    asked = cli("--data", str(data), "ask", "terraform")

    assert asked.exit_code == 2
    assert asked.stdout == ""
    assert asked.stderr.count("\n") == 1 and asked.stderr.startswith("whoknows: there is no whoknows data in ")
    assert "import FILE" in asked.stderr and "Traceback" not in asked.output


def test_ask_as_an_unknown_person_is_one_line(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "data"
    cli("--data", str(data), "import", str(corpus))

    asked = cli("--data", str(data), "ask", "--as", "nobody", "terraform")

    assert asked.exit_code == 2
    assert asked.stderr == "whoknows: nobody called 'nobody' is known here\n"


def test_import_of_a_bad_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type":"team","team":{"name":"eng"}}\n', encoding="utf-8")

    imported = cli("--data", str(tmp_path / "data"), "import", str(bad))

    assert imported.exit_code == 2
    assert imported.stderr.startswith("whoknows: line 1: a bulk export starts with")
    assert imported.stderr.count("\n") == 1


def test_eval_prints_the_json_document_on_stdout(tmp_path: Path, corpus: Path) -> None:
    queries = write_jsonl(tmp_path / "queries.jsonl", late_question_queries() + topic_queries(SPLIT))

    out = cli("eval", "--corpus", str(corpus), "--queries", str(queries))

    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["corpus"] == TEAM and result["queries"] == 6
    assert result["by_kind"]["topic"]["methods"]["whoknows"]["p1"] == 1.0
    assert "whoknows" in out.stderr and "MRR" in out.stderr, "the human summary goes to stderr"


def test_the_evaluation_gives_the_same_result_on_a_postgresql_store_and_only_on_an_empty_one(
        tmp_path: Path, corpus: Path, pg_database: str) -> None:
    import postgres_node
    from whoknows.errors import UserError
    from whoknows.storage.postgres import PostgresDatabase

    queries = write_jsonl(tmp_path / "queries.jsonl", late_question_queries() + topic_queries(SPLIT))
    url = postgres_node.fresh_store(pg_database)
    assert evaluate(corpus, queries, store=PostgresDatabase(url)) == evaluate(corpus, queries)
    with pytest.raises(UserError, match="already holds posts"):  # a second replay would find the first one's posts
        evaluate(corpus, queries, store=PostgresDatabase(url))

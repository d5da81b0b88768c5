"""The generated workspace is a valid, consistent bulk export, the same for the same seed, and its ground truth holds."""

from __future__ import annotations

import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from whoknows.demo import DEFAULT_END_MS, WorkspaceSummary, generate
from whoknows.demo import vocabulary

ORDER = ("version", "team", "channel", "user", "bot", "post", "direct_channel", "direct_post")
DEMO_TOPICS = ("kubernetes ingress", "postgres replication", "ios build")
DAY_MS = 86_400_000
WORD = re.compile(r"[a-z0-9_]+")


@dataclass
class Workspace:
    text: str
    lines: list[dict[str, Any]]
    summary: WorkspaceSummary
    requested_posts: int

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [line[kind] for line in self.lines if line["type"] == kind]

    def messages(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(root post, message) for every root and reply."""
        for post in self.of("post"):
            yield post, post
            for reply in post.get("replies", []):
                yield post, reply

    def members(self) -> dict[tuple[str, str], set[str]]:
        out: dict[tuple[str, str], set[str]] = defaultdict(set)
        for user in self.of("user"):
            for team in user["teams"]:
                for ch in team["channels"]:
                    out[(team["name"], ch["name"])].add(user["username"])
        return out


def _make(posts: int, **kwargs: Any) -> Workspace:
    buf = io.StringIO()
    summary = generate(buf, posts=posts, **kwargs)
    text = buf.getvalue()
    return Workspace(text, [json.loads(line) for line in text.splitlines()], summary, posts)


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return _make(2_400)


@pytest.fixture(scope="module")
def bench() -> Workspace:
    return _make(20_000, people=500, preset="bench", seed=11)


@pytest.fixture(params=["demo", "bench"])
def workspace(request: pytest.FixtureRequest) -> Workspace:
    ws: Workspace = request.getfixturevalue(request.param)
    return ws


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(demo: Workspace, tmp_path: Path) -> None:
    again = io.StringIO()
    generate(again, seed=7)
    assert again.getvalue() == demo.text
    generate(tmp_path / "w.jsonl", seed=7)
    assert (tmp_path / "w.jsonl").read_bytes() == demo.text.encode()
    other = io.StringIO()
    generate(other, seed=8)
    assert other.getvalue() != demo.text


def test_every_line_is_a_known_type_in_import_order(workspace: Workspace) -> None:
    assert workspace.lines[0] == {"type": "version", "version": 1}
    ranks = [ORDER.index(line["type"]) for line in workspace.lines]
    assert ranks == sorted(ranks)
    assert {line["type"] for line in workspace.lines} == set(ORDER)


def test_every_author_and_reactor_exists_and_belongs_to_the_channel(workspace: Workspace) -> None:
    channels = {(c["team"], c["name"]) for c in workspace.of("channel")}
    teams = {t["name"] for t in workspace.of("team")}
    members = workspace.members()
    bots = {b["username"] for b in workspace.of("bot")}
    assert bots == set(workspace.summary.bots)
    for post, msg in workspace.messages():
        where = (post["team"], post["channel"])
        assert post["team"] in teams and where in channels
        assert msg["user"] in members[where] or msg["user"] in bots, (msg["user"], where)
        for reaction in msg.get("reactions", []):
            assert reaction["user"] in members[where], (reaction, where)


def test_private_channels_only_hold_their_members_posts(workspace: Workspace) -> None:
    private = {(c["team"], c["name"]) for c in workspace.of("channel") if c["type"] == "P"}
    members = workspace.members()
    seen = Counter[tuple[str, str]]()
    for post, msg in workspace.messages():
        where = (post["team"], post["channel"])
        if where in private:
            seen[where] += 1
            assert msg["user"] in members[where]
    assert private and sum(seen.values()) > 0
    assert ("acme", "incident-review") in private


def test_times_run_forward_and_stop_at_the_end(workspace: Workspace) -> None:
    roots = [post["create_at"] for post in workspace.of("post")]
    assert roots == sorted(roots) and len(set(roots)) == len(roots)
    left = {u["username"]: u["delete_at"] for u in workspace.of("user") if "delete_at" in u}
    stamps = []
    for post in workspace.of("post"):
        previous = post["create_at"]
        for reply in post.get("replies", []):
            assert reply["create_at"] > previous
            previous = reply["create_at"]
        for msg in (post, *post.get("replies", [])):
            stamps.append(msg["create_at"])
            assert msg["create_at"] < left.get(msg["user"], DEFAULT_END_MS + 1)
            for reaction in msg.get("reactions", []):
                assert reaction["create_at"] > msg["create_at"]
                assert reaction["create_at"] < left.get(reaction["user"], DEFAULT_END_MS + 1)
                stamps.append(reaction["create_at"])
    direct = [d["create_at"] for d in workspace.of("direct_post")]
    assert direct == sorted(direct)
    stamps += direct
    assert max(stamps) <= DEFAULT_END_MS
    assert (workspace.summary.first_at, workspace.summary.last_at) == (min(stamps), max(stamps))
    assert min(stamps) >= DEFAULT_END_MS - 200 * DAY_MS


def test_summary_counts_what_was_written(workspace: Workspace) -> None:
    s, posts = workspace.summary, workspace.of("post")
    replies = [r for p in posts for r in p.get("replies", [])]
    reactions = sum(len(m.get("reactions", [])) for m in (*posts, *replies))
    assert (s.root_posts, s.replies, s.reactions) == (len(posts), len(replies), reactions)
    assert s.posts == workspace.requested_posts
    assert (s.teams, s.channels) == (len(workspace.of("team")), len(workspace.of("channel")))
    assert s.users == len(workspace.of("user"))
    assert (s.direct_channels, s.direct_posts) == (len(workspace.of("direct_channel")), len(workspace.of("direct_post")))
    assert s.direct_posts > 0 and s.private_channels > 0


def test_demo_topics_have_active_experts_who_answered_most(demo: Workspace) -> None:
    users = {u["username"] for u in demo.of("user")}
    for phrase in DEMO_TOPICS:
        truth = demo.summary.topic(phrase)
        assert len(truth.experts) >= 2 and set(truth.experts) <= users
        assert not set(truth.experts) & (set(demo.summary.deactivated) | set(demo.summary.bots))
        assert truth.answers[0] == max(truth.answers) >= 10
        assert truth.team == "acme" and truth.channel in {c["name"] for c in demo.of("channel")}
    assert demo.summary.topic("ios build").former_experts == demo.summary.deactivated


def _topical_words(summary: WorkspaceSummary) -> dict[str, str]:
    """Words of exactly one area's topic terms that no chat template uses: they say which field a message is in."""
    generic: set[str] = set()
    stack: list[object] = [getattr(vocabulary, name) for name in dir(vocabulary) if name.isupper()]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            generic.update(WORD.findall(item.lower()))
        elif isinstance(item, tuple):
            stack.extend(item)
    areas: dict[str, set[str]] = defaultdict(set)
    for truth in summary.topics:
        for term in truth.terms:
            for word in WORD.findall(term.lower()):
                areas[word].add(truth.area)
    return {w: next(iter(a)) for w, a in areas.items() if len(a) == 1 and w not in generic and len(w) > 2}


def _own_field_share(ws: Workspace) -> list[tuple[float, int, int]]:
    """(share of own-field words, topical words written, expert rank) for each designated expert of each topic."""
    words = _topical_words(ws.summary)
    fields: dict[str, Counter[str]] = defaultdict(Counter)
    for _, msg in ws.messages():
        fields[msg["user"]].update(words[w] for w in WORD.findall(msg["message"].lower()) if w in words)
    out = []
    for truth in ws.summary.topics:
        for rank, expert in enumerate(truth.experts):
            total = sum(fields[expert].values())
            if total:
                out.append((fields[expert][truth.area] / total, total, rank))
    return out


def test_experts_write_mostly_about_their_own_field(demo: Workspace, bench: Workspace) -> None:
    top_demo = [share for share, _, rank in _own_field_share(demo) if rank == 0]
    assert len(top_demo) == len(demo.summary.topics) and min(top_demo) > 0.5
    busy = [share for share, words, _ in _own_field_share(bench) if words >= 20]
    assert len(busy) > 100
    assert sum(share > 0.5 for share in busy) / len(busy) > 0.8


def test_a_few_people_write_most_of_the_posts(bench: Workspace) -> None:
    per_person = Counter(msg["user"] for _, msg in bench.messages() if msg["user"] not in bench.summary.bots)
    top = sum(n for _, n in per_person.most_common(bench.summary.users // 10))
    assert top / sum(per_person.values()) > 0.4


def test_held_out_questions_exist_and_are_not_in_the_corpus(demo: Workspace, bench: Workspace) -> None:
    corpus = "\0".join(msg["message"] for _, msg in demo.messages())
    for truth in demo.summary.topics:
        assert 1 <= len(truth.phrase.split()) <= 3 and len(truth.queries) >= 2
        assert not any(q in corpus for q in truth.queries)
    assert "How do I rotate the postgres replication password without downtime?" in demo.summary.queries("postgres replication")
    bench_messages = {msg["message"] for _, msg in bench.messages()}
    for truth in bench.summary.topics:
        assert 1 <= len(truth.phrase.split()) <= 3 and len(truth.queries) >= 2
        assert not bench_messages & set(truth.queries)


def test_direct_messages_stay_between_their_two_members(demo: Workspace) -> None:
    users = {u["username"] for u in demo.of("user")}
    pairs = {tuple(d["members"]) for d in demo.of("direct_channel")}
    assert all(len(p) == 2 and set(p) <= users for p in pairs)
    for dm in demo.of("direct_post"):
        assert tuple(dm["channel_members"]) in pairs and dm["user"] in dm["channel_members"]


def test_demo_has_one_former_colleague_and_a_bot(demo: Workspace) -> None:
    left = [u for u in demo.of("user") if "delete_at" in u]
    assert [u["username"] for u in left] == list(demo.summary.deactivated) and len(left) == 1
    assert any(msg["user"] == left[0]["username"] for _, msg in demo.messages())
    (bot,) = demo.of("bot")
    assert bot["owner"] in {u["username"] for u in demo.of("user")}
    assert sum(1 for post in demo.of("post") if post["user"] == bot["username"]) >= 10
    assert all(u["email"] == f"{u['username']}@example.invalid" for u in demo.of("user"))


def test_demo_reads_like_a_team_chat(demo: Workspace) -> None:
    texts = [msg["message"] for _, msg in demo.messages()]
    assert sum(t.rstrip().endswith("?") for t in texts) > 100
    assert sum("```" in t for t in texts) >= 2 and sum("@" in t for t in texts) > 50
    assert sum(bool(re.search(r"(^|\s)#[a-z]", t)) for t in texts) > 10
    emojis = Counter(r["emoji_name"] for _, msg in demo.messages() for r in msg.get("reactions", []))
    assert {"+1", "white_check_mark", "bulb", "heart"} <= set(emojis)
    accepted = sum(
        1 for post in demo.of("post") for reply in post.get("replies", [])
        for r in reply.get("reactions", []) if r["emoji_name"] == "white_check_mark" and r["user"] == post["user"]
    )
    assert accepted > 50
    assert len(demo.summary.topics) >= 15 and demo.summary.users <= 30


def test_the_end_time_moves_the_whole_timeline() -> None:
    end = DEFAULT_END_MS - 400 * DAY_MS
    summary = generate(io.StringIO(), posts=300, end_ms=end, days=30)
    assert end - 31 * DAY_MS <= summary.first_at <= summary.last_at <= end


@pytest.mark.parametrize("kwargs", [{"posts": 0}, {"people": 5}, {"preset": "huge"}])
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        generate(io.StringIO(), **kwargs)

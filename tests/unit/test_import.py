"""`whoknows import`: a Mattermost bulk export (JSONL, or the zip of `mmctl export`) into the store and the
index, all or nothing, with errors that name the line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    TOWN,
    World,
    channel_line,
    days_ago,
    jsonl,
    post_line,
    reaction_obj,
    reply_obj,
    team_line,
    user_line,
    version_line,
    write_jsonl,
)
from whoknows.adapters.bulk_export import read_export
from whoknows.errors import UserError
from whoknows.service.importer import import_export

GOOD: list[dict[str, Any]] = [
    version_line(),
    team_line(),
    channel_line(TOWN),
    channel_line("vaultops", "P"),
    user_line("alice", [TOWN, "vaultops"], first="Alice", last="Archer", locale="fr", notify_props={"email": "false"}),
    user_line("bob", first="Bob", last="Brown"),
    user_line("carol", delete_at=days_ago(100)),
    user_line("dave"),
    {"type": "bot", "bot": {"username": "deploybot", "display_name": "Deploy Bot", "owner": "alice"}},
    post_line(
        "bob",
        "terraform plan shows drift on every run, why?",
        days_ago(30),
        reactions=[reaction_obj("dave", days_ago(30) + 60_000, "+1")],
        replies=[
            reply_obj(
                "alice",
                "The provider rewrites the tags block; pin the provider and ignore_changes on tags.",
                days_ago(30) + 3_600_000,
                reactions=[reaction_obj("bob", days_ago(30) + 7_200_000)],
            ),
            reply_obj("bob", "that fixed it, thanks", days_ago(30) + 7_300_000),
        ],
    ),
    post_line("alice", "vault rotation runbook for the unseal keys", days_ago(20), channel="vaultops"),
    post_line("deploybot", "deploy finished for api v2", days_ago(10), replies=[reply_obj("carol", "smoke tests green", days_ago(10) + 1000)]),
    {**post_line("carol", "old notes on grafana dashboards", days_ago(200)), "is_pinned": True},
    {"type": "direct_channel", "direct_channel": {"members": ["alice", "bob"]}},
    {
        "type": "direct_post",
        "direct_post": {"channel_members": ["alice", "bob"], "user": "alice", "message": "the kafka admin password is hunter2", "create_at": days_ago(5)},
    },
    {"type": "emoji", "emoji": {"name": "partyparrot", "image": "data/emoji/partyparrot.gif"}},
    {"type": "something_from_mattermost_12", "something_from_mattermost_12": {"x": 1}},
]
GOOD_POSTS = 7  # 4 root posts, 3 replies; the direct post is never imported
GOOD_REACTIONS = 2


def good_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "export.jsonl", GOOD)


def assert_nothing_applied(world: World) -> None:
    assert world.conversation.post_count() == 0
    assert world.documents() == 0
    assert world.conversation.user_by_name("alice") is None
    assert world.conversation.all_channels() == {TOWN}, "only the channel the test started with"


@pytest.mark.parametrize("chunk_lines", [1, 2000])
def test_a_good_export_imports_everything_it_should(world: World, tmp_path: Path, chunk_lines: int) -> None:
    report = import_export(world.pipeline, good_file(tmp_path), chunk_lines=chunk_lines)

    assert report.lines == len(GOOD)
    assert (report.applied.posts_added, report.applied.reactions) == (GOOD_POSTS, GOOD_REACTIONS)
    assert world.conversation.post_count() == GOOD_POSTS
    assert world.documents() == GOOD_POSTS

    people = world.conversation.people(["alice", "carol", "deploybot", "dave"])
    assert people["alice"].display_name == "Alice Archer"
    assert people["deploybot"].is_bot and not people["deploybot"].deactivated
    assert people["carol"].deactivated and not people["carol"].is_bot
    assert not (people["dave"].is_bot or people["dave"].deactivated)

    assert world.found("kafka password") == [], "direct messages are never imported"
    assert "eng/vaultops" in world.conversation.readable_channels("alice")
    assert "eng/vaultops" not in world.conversation.readable_channels("bob")


def test_an_imported_thread_ranks_its_accepted_answerer(world: World, tmp_path: Path) -> None:
    import_export(world.pipeline, good_file(tmp_path))

    ranking = world.ask("terraform drift", exclude=["bob"])
    assert [e.person.username for e in ranking.experts] == ["alice"]
    answer = ranking.experts[0].evidence[0].post
    assert answer.message.startswith("The provider rewrites the tags block")
    assert answer.accepted, "the asker's check mark on the reply marks it accepted"
    # Nobody hidden shows up, however well their posts match.
    assert world.names("deploy finished smoke tests") == []
    assert world.names("grafana dashboards") == []


def test_importing_the_same_file_twice_changes_nothing(world: World, tmp_path: Path) -> None:
    path = good_file(tmp_path)
    import_export(world.pipeline, path)
    before = [(e.person.username, e.score) for e in world.ask("terraform drift").experts]

    second = import_export(world.pipeline, path)

    assert (second.applied.posts_added, second.applied.reactions) == (0, 0)
    assert world.conversation.post_count() == GOOD_POSTS
    assert world.documents() == GOOD_POSTS
    assert [(e.person.username, e.score) for e in world.ask("terraform drift").experts] == before


BAD_LINE_5 = [
    pytest.param('{"type": "post", "post": {"team": "eng",', "not valid JSON", id="bad-json"),
    pytest.param(
        json.dumps({"type": "post", "post": {"team": "eng", "channel": TOWN, "user": "bob", "message": "hi"}}),
        "post.create_at must be an integer",
        id="post-without-create_at",
    ),
    pytest.param(
        json.dumps(post_line("bob", "hi", days_ago(1), reactions=["white_check_mark"])),  # type: ignore[list-item]
        r"post.reactions\[0\] must be an object",
        id="reaction-not-an-object",
    ),
    pytest.param(
        json.dumps(post_line("bob", "hi", days_ago(1), replies=[reply_obj("alice", "ok", "yesterday")])),  # type: ignore[arg-type]
        r"post.replies\[0\].create_at must be an integer",
        id="reply-with-text-time",
    ),
    pytest.param("[1, 2, 3]", 'expected a JSON object with a "type"', id="not-an-object"),
]


@pytest.mark.parametrize("chunk_lines", [1, 2000])
@pytest.mark.parametrize(("bad", "problem"), BAD_LINE_5)
def test_a_malformed_line_stops_the_import_naming_it_and_nothing_is_applied(
    world: World, tmp_path: Path, bad: str, problem: str, chunk_lines: int
) -> None:
    first_post = post_line("alice", "kafka partitions rebalance all the time", days_ago(40))
    lines: list[dict[str, Any] | str] = [GOOD[0], GOOD[1], GOOD[4], first_post, bad, GOOD[2], GOOD[3], *GOOD[5:]]
    path = write_jsonl(tmp_path / "export.jsonl", lines)

    with pytest.raises(UserError, match=rf"^line 5: {problem}") as caught:
        import_export(world.pipeline, path, chunk_lines=chunk_lines)

    assert "line 5" in caught.value.reason
    assert_nothing_applied(world)


def test_a_file_that_does_not_start_with_a_version_line_is_refused(world: World, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "export.jsonl", GOOD[1:])

    with pytest.raises(UserError, match=r"^line 1: a bulk export starts with \{\"type\":\"version\",\"version\":1\}"):
        import_export(world.pipeline, path)
    assert_nothing_applied(world)


def test_an_unknown_export_version_is_refused(world: World, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "export.jsonl", [{"type": "version", "version": 2}, *GOOD[1:]])

    with pytest.raises(UserError, match="unsupported bulk-export version 2"):
        import_export(world.pipeline, path)
    assert_nothing_applied(world)


def test_a_leading_blank_line_does_not_skip_the_version_check(world: World, tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text("\n" + jsonl(GOOD[1:]), encoding="utf-8")

    with pytest.raises(UserError, match="version"):
        import_export(world.pipeline, path)


def test_unknown_line_types_and_fields_are_ignored(world: World, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "export.jsonl",
        [
            {"type": "version", "version": 1, "info": {"generator": "mmctl", "version": "11.4"}},
            {"type": "scheme", "scheme": {"name": "custom"}},
            {"type": "hologram", "hologram": [1, 2]},
            {"type": "role", "role": {"name": "custom_role"}},
            {**post_line("alice", "kafka partitions rebalance", days_ago(3)), "future_field": {"nested": True}},
        ],
    )

    report = import_export(world.pipeline, path)

    assert report.lines == 5 and report.applied.posts_added == 1
    assert world.names("kafka partitions") == ["alice"]


def test_read_export_gives_each_line_its_number_and_direct_messages_no_events(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    direct = [line for line in GOOD if line["type"] in ("direct_channel", "direct_post")]
    path.write_text(jsonl(GOOD[:3]) + "\n" + jsonl(direct), encoding="utf-8")

    numbered = list(read_export(path))

    assert [n for n, _ in numbered] == [1, 2, 3, 5, 6]
    assert numbered[3][1] == [] and numbered[4][1] == []


# -- zips and files that are not exports ------------------------------------------------------------


def zip_of(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_the_zip_of_mmctl_export_imports(world: World, tmp_path: Path) -> None:
    path = zip_of(tmp_path / "export.zip", {"import.jsonl": jsonl(GOOD), "data/attachments/diagram.png": b"\x89PNG\r\n\x1a\n"})

    report = import_export(world.pipeline, path)

    assert (report.lines, report.applied.posts_added) == (len(GOOD), GOOD_POSTS)
    assert world.names("terraform drift", exclude=["bob"]) == ["alice"]


def truncated_zip(tmp_path: Path) -> Path:
    whole = zip_of(tmp_path / "whole.zip", {"import.jsonl": jsonl(GOOD * 20)}).read_bytes()
    path = tmp_path / "export.zip"
    path.write_bytes(whole[: len(whole) * 2 // 3])  # a download cut short
    return path


def test_a_truncated_zip_is_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(UserError):
        import_export(world.pipeline, truncated_zip(tmp_path))
    assert_nothing_applied(world)


def test_a_truncated_zip_is_refused_saying_the_zip_is_damaged(world: World, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="zip is damaged or truncated"):
        import_export(world.pipeline, truncated_zip(tmp_path))


def test_a_zip_without_jsonl_is_refused(world: World, tmp_path: Path) -> None:
    path = zip_of(tmp_path / "export.zip", {"README.txt": "not an export", "data/x.png": b"\x89PNG"})

    with pytest.raises(UserError, match=r"the zip holds no \.jsonl file"):
        import_export(world.pipeline, path)
    assert_nothing_applied(world)


def test_a_binary_file_is_refused(world: World, tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(bytes(range(256)) * 40)

    with pytest.raises(UserError, match=r"line 1: .*is this the right file\?"):
        import_export(world.pipeline, path)
    assert_nothing_applied(world)


def latin1_on_line_5(tmp_path: Path) -> Path:
    accented = json.dumps(post_line("bob", "caf\u00e9 machine is broken", days_ago(1)), ensure_ascii=False)
    text = jsonl([*GOOD[:4], accented, *GOOD[4:]])
    path = tmp_path / "export.jsonl"
    path.write_bytes(text.encode("latin-1"))
    return path


def test_a_file_that_is_not_utf8_is_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not UTF-8 text"):
        import_export(world.pipeline, latin1_on_line_5(tmp_path))
    assert_nothing_applied(world)


def test_a_non_utf8_byte_is_reported_on_its_own_line(world: World, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^line 5: not UTF-8"):
        import_export(world.pipeline, latin1_on_line_5(tmp_path))


def test_a_missing_file_is_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        import_export(world.pipeline, tmp_path / "nope.jsonl")

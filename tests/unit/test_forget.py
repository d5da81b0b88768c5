"""Erasing a person: `whoknows forget` and the UserErased event behind it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from conftest import NOW, TOWN, World, days_ago, post, react, reply, user, version_line, team_line, channel_line, user_line, post_line, reply_obj, reaction_obj, write_jsonl
from whoknows.cli import main
from whoknows.core.events import UserErased


def test_an_erased_person_and_their_posts_leave_at_once_and_do_not_come_back(world: World) -> None:
    world.ingest(
        user("asker"), user("bob"), user("carol"),
        post("q1", "asker", "how do we shard the kafka topic?", at=days_ago(5)),
        reply("a1", "q1", "bob", "kafka partitions: add partitions and rebalance consumers", at=days_ago(5)),
        reply("a2", "q1", "carol", "kafka partitions can only grow, plan the key", at=days_ago(4)),
        react("a2", "bob", "+1", at=days_ago(4)),
    )
    assert "bob" in world.names("kafka partitions")
    before = world.documents()

    world.ingest(UserErased("bob", NOW))
    assert "bob" not in world.names("kafka partitions")
    assert world.documents() == before - 1
    endorsements = world.conversation.post_facts(["a2"])["a2"].endorsements
    assert endorsements == 0  # bob's reaction went with him

    # Mattermost still has bob's posts: a re-read (backfill, rebuild, re-import) never brings them back.
    world.ingest(reply("a3", "q1", "bob", "kafka partitions again", at=days_ago(1)), react("a2", "bob", "+1"))
    assert "bob" not in world.names("kafka partitions")
    assert world.conversation.post_facts(["a2"])["a2"].endorsements == 0
    assert not world.conversation.has_post("a3")


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_forget_from_the_command_line(tmp_path: Path) -> None:
    export = write_jsonl(tmp_path / "export.jsonl", [
        version_line(), team_line(), channel_line(TOWN),
        user_line("asker"), user_line("bob"),
        post_line("asker", "who can explain kafka partitions?", days_ago(3),
                  replies=[reply_obj("bob", "kafka partitions are ordered logs", days_ago(3), reactions=[reaction_obj("asker", days_ago(2))])]),
    ])
    data = str(tmp_path / "data")
    assert cli("--data", data, "import", str(export)).exit_code == 0
    assert "bob" in cli("--data", data, "ask", "--at", str(NOW), "kafka partitions").stdout

    forgot = cli("--data", data, "forget", "@bob")
    assert forgot.exit_code == 0 and "Forgot bob: 1 posts left the index" in forgot.stderr
    assert "bob" not in cli("--data", data, "ask", "--at", str(NOW), "kafka partitions").stdout
    assert cli("--data", data, "import", str(export)).exit_code == 0  # the same export again
    assert "bob" not in cli("--data", data, "ask", "--at", str(NOW), "kafka partitions").stdout

    unknown = cli("--data", data, "forget", "nobody")
    assert unknown.exit_code == 2 and "nobody called 'nobody'" in unknown.stderr and "Traceback" not in unknown.output

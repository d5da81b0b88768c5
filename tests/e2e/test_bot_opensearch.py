"""The bot with IndexEngine=opensearch, against the real Mattermost and a real single-node OpenSearch: what
people post, edit and delete reaches the server's index (named under the prefix, nothing in the data folder but
the analysis stamp), private evidence stays with members, and a restart finds the index in the server again; while
OpenSearch is away /whoknows says so plainly and what is posted meanwhile is kept, searchable once it is back."""

from __future__ import annotations

import urllib.parse
import uuid
from pathlib import Path

from opensearch_node import count
from whoknows import messages
from whoknows.core.index import IndexServer
from whoknows.service.repair import STOPPED_CLEANLY, Outcome, prepare

from .bootstrap import Workspace
from .botfixture import call, card_text, post, running_bot, secret_edited_deleted, slash, until
from .tcp_relay import TcpRelay


async def test_bot_on_opensearch_indexes_edits_deletes_and_finds_its_index_after_a_restart(
        workspace: Workspace, opensearch: IndexServer, tmp_path: Path) -> None:
    prefix = f"whoknows-e2e-{uuid.uuid4().hex[:8]}"
    env = {"WHOKNOWS_INDEX_ENGINE": "opensearch", "WHOKNOWS_OPEN_SEARCH_URL": opensearch.url,
           "WHOKNOWS_OPEN_SEARCH_INDEX_PREFIX": prefix}
    # Ending in "qz", the stemmer leaves each word whole (a hex tail such as "0ed" lost its "ed": the term count missed it).
    topic, other, gone = (f"zq{uuid.uuid4().hex[:8]}qz" for _ in range(3))
    public = workspace.public_channel.id
    async with running_bot(workspace, tmp_path, **env) as rt:
        secret, edited, deleted = await secret_edited_deleted(workspace, rt, topic, other, gone)
        assert count(opensearch, f"{prefix}-posts", "text", topic) == 1, "the post is in the server's index"
        for_bob = card_text(await slash(workspace, "bob", public, topic))
        for_carol = card_text(await slash(workspace, "carol", public, topic))
        assert "alice" in for_bob and "budget" in for_bob
        assert "alice" not in for_carol and "budget" not in for_carol

        assert (await call(workspace, "dave", "PUT", f"/posts/{edited['id']}/patch", {"message": "I run the tracing stack"})).status_code == 200
        assert (await call(workspace, "carol", "DELETE", f"/posts/{deleted['id']}")).status_code == 200
        await until(rt, lambda: not rt.store.conversation.has_post(deleted["id"]))
        await rt.drained()
        assert "dave" not in card_text(await slash(workspace, "bob", public, other))
        assert "carol" not in card_text(await slash(workspace, "bob", public, gone))
        assert count(opensearch, f"{prefix}-posts", "text", other) == 0 and count(opensearch, f"{prefix}-posts", "text", gone) == 0

    assert [p.name for p in (tmp_path / "index-opensearch").iterdir()] == ["whoknows-analysis"]
    assert prepare(tmp_path, "opensearch", IndexServer(opensearch.url, prefix=prefix)) is Outcome.INTACT
    (tmp_path / STOPPED_CLEANLY).touch()  # prepare took the mark; the restart below sees a clean stop again
    async with running_bot(workspace, tmp_path, **env):
        assert "alice" in card_text(await slash(workspace, "bob", public, topic)), "the restart answers from the server's index"


async def test_an_opensearch_outage_is_said_plainly_and_the_posts_made_meanwhile_become_searchable_after_it(
        workspace: Workspace, opensearch: IndexServer, tmp_path: Path) -> None:
    node = urllib.parse.urlsplit(opensearch.url)
    away = TcpRelay(node.hostname or "127.0.0.1", node.port or 9200)  # between the bot and OpenSearch: `away` cuts its connections, as a restart does
    away.start()
    env = {"WHOKNOWS_INDEX_ENGINE": "opensearch", "WHOKNOWS_OPEN_SEARCH_URL": away.url,
           "WHOKNOWS_OPEN_SEARCH_INDEX_PREFIX": f"whoknows-e2e-{uuid.uuid4().hex[:8]}"}
    before, during = (f"zq{uuid.uuid4().hex[:8]}qz" for _ in range(2))
    public = workspace.public_channel.id
    try:
        async with running_bot(workspace, tmp_path, **env) as rt:
            rt.writer.disk_retry_s = 0.2
            first = await post(workspace, "alice", public, f"the {before} exporter needs new certificates")
            await until(rt, lambda: rt.store.conversation.has_post(first["id"]))
            await rt.drained()
            assert "alice" in card_text(await slash(workspace, "bob", public, before))

            away.away = True
            second = await post(workspace, "dave", public, f"notes on the {during} rollout")
            await until(rt, lambda: rt.store.conversation.has_post(second["id"]) and rt.writer.unwritable is not None)
            answer = await slash(workspace, "bob", public, before)
            assert card_text(answer) == messages.index_away_for_people(), "a plain sentence, no error id, no trace"

            away.away = False
            await until(rt, lambda: rt.writer.unwritable is None)
            assert "dave" in card_text(await slash(workspace, "bob", public, during)), "the post kept meanwhile is searchable"
            assert "alice" in card_text(await slash(workspace, "bob", public, before))
    finally:
        away.close()

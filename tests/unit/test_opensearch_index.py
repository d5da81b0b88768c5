"""The OpenSearch engine on its own, against the session's real node: the same terms and scores' rules as the
other engines, its own index names under the prefix, a commit searchable at once, the service's index found
again after a reopen (and by another process: nothing is kept locally but the analysis stamp), start-up
repair reading and dropping the server's index, and a scratch index gone at close."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from whoknows.core.index import IndexedPost, IndexServer, index_exists, open_index
from whoknows.core.index.opensearch_engine import OpenSearchIndex, check_prefix, index_name
from whoknows.core.index.registry import ANALYSIS_FILE, outdated_analysis
from whoknows.core.index.tantivy_engine import TantivyIndex


@pytest.fixture
def server(opensearch_server: IndexServer, request: pytest.FixtureRequest) -> Iterator[IndexServer]:
    """A prefix of the test's own, so its service index is new and nothing else sees it."""
    prefix = "whoknows-t-" + "".join(c for c in request.node.name.lower() if c.isalnum())[:40]
    mine = dataclasses.replace(opensearch_server, prefix=prefix)
    yield mine
    _delete(mine, f"{prefix}-*")


def _get(server: IndexServer, path: str) -> object:
    with urllib.request.urlopen(f"{server.url}{path}") as answer:
        return json.load(answer)


def _delete(server: IndexServer, pattern: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{server.url}/{pattern}?ignore_unavailable=true", method="DELETE")).close()


def _indices(server: IndexServer) -> set[str]:
    found = _get(server, f"/_cat/indices/{server.prefix}-*?format=json")
    assert isinstance(found, list)
    return {str(i["index"]) for i in found}


@pytest.fixture
def index(server: IndexServer) -> Iterator[OpenSearchIndex]:
    ix = OpenSearchIndex(server, scratch=True)
    ix.put(IndexedPost("p1", "town", "alice", "Postgres autovacuum never finishes"), replace=False)
    ix.put(IndexedPost("p2", "vault", "bob", "postgres replication password rotation"), replace=False)
    ix.put(IndexedPost("p3", "town", "bob", "kubernetes ingress timeouts"), replace=False)
    ix.commit()
    yield ix
    ix.close()


def found(ix: OpenSearchIndex, text: str, **options: object) -> list[str]:
    return sorted(h.post_id for h in ix.search(ix.terms(text), limit=10, **options))  # type: ignore[arg-type]


def test_terms_are_the_shared_analysers_and_the_index_keeps_them_whole(index: OpenSearchIndex) -> None:
    text = "How do I rotate the Postgres replication passwords without downtime?"
    assert index.terms(text) == TantivyIndex().terms(text) == ["rotat", "postgr", "replic", "password", "without", "downtim"]
    index.put(IndexedPost("p9", "town", "carol", text), replace=False)
    index.commit()
    assert found(index, "rotating replicated passwords") == ["p2", "p9"]


def test_hidden_channels_are_masked_and_the_author_filter_keeps_the_score(index: OpenSearchIndex) -> None:
    assert found(index, "postgres") == ["p1", "p2"]
    assert found(index, "postgres", exclude_channels={"vault"}) == ["p1"]
    assert found(index, "postgres", exclude_channels={"vault", "town"}) == []
    assert found(index, "postgres", author="bob") == ["p2"]
    assert found(index, "ingress", author="alice") == [], "the filter never adds the author's other posts"
    plain = {h.post_id: h.score for h in index.search(["postgr"], limit=10)}
    filtered = {h.post_id: h.score for h in index.search(["postgr"], limit=10, author="bob")}
    assert filtered == {"p2": plain["p2"]}


def test_operations_on_one_post_inside_a_batch_are_folded_and_searchable_at_once(index: OpenSearchIndex) -> None:
    index.put(IndexedPost("p4", "town", "carol", "terraform state lock"), replace=False)
    index.put(IndexedPost("p4", "town", "carol", "terraform plan drift"), replace=True)
    index.put(IndexedPost("p1", "town", "alice", "vacuum tuning notes"), replace=True)
    index.delete("p2")
    index.put(IndexedPost("p5", "town", "dave", "helm chart"), replace=False)
    index.delete("p5")
    assert index.pending == 3
    index.commit()

    assert found(index, "terraform drift") == ["p4"] and found(index, "lock") == []
    assert found(index, "postgres") == [], "the edit replaced p1's text, the delete removed p2"
    assert found(index, "vacuum") == ["p1"] and found(index, "helm") == []
    assert index.stats().documents == 3 and index.pending == 0


def test_document_frequencies_count_the_committed_posts_in_one_answer(index: OpenSearchIndex) -> None:
    assert index.document_frequencies(["postgr", "ingress", "absent"]) == (3, {"postgr": 2, "ingress": 1, "absent": 0})
    assert index.document_frequencies([]) == (3, {})
    index.delete("p1")
    index.commit()
    assert index.document_frequencies(["postgr"]) == (2, {"postgr": 1}), "a deleted post is not counted"


def test_the_service_index_is_named_by_the_prefix_and_found_again_after_a_reopen(server: IndexServer, tmp_path: Path) -> None:
    folder = tmp_path / "index-opensearch"
    assert not index_exists("opensearch", folder, server)
    first = open_index("opensearch", folder, server)
    first.put(IndexedPost("p1", "town", "alice", "postgres autovacuum"), replace=False)
    first.commit()
    first.close()

    assert _indices(server) == {f"{server.prefix}-posts"} == {index_name(server)}
    assert index_exists("opensearch", folder, server)
    assert outdated_analysis(folder) is None, "the stamp is the server's analysis version"
    # Another replica, with a data folder of its own, opens the same index.
    again = open_index("opensearch", tmp_path / "elsewhere" / "index-opensearch", server)
    try:
        assert [h.post_id for h in again.search(["postgr"], limit=5)] == ["p1"]
        assert isinstance(again, OpenSearchIndex) and again.post_ids() == {"p1"}
        assert again.stats().size_bytes > 0 and again.stats().segments >= 1
    finally:
        again.close()


def test_a_scratch_index_is_its_own_and_gone_at_close(index: OpenSearchIndex, server: IndexServer) -> None:
    other = OpenSearchIndex(server, scratch=True)
    try:
        assert other.name != index.name and other.name.startswith(f"{server.prefix}-scratch-")
        assert other.search(["postgr"], limit=10) == []
    finally:
        other.close()
    assert _indices(server) == {index.name}


def test_post_ids_read_every_page(server: IndexServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from whoknows.core.index import opensearch_engine

    monkeypatch.setattr(opensearch_engine, "SCROLL_PAGE", 7)  # several scroll pages
    monkeypatch.setattr(opensearch_engine, "BULK_ACTIONS", 5)  # several bulk requests in one commit too
    ix = OpenSearchIndex(server, scratch=True)
    try:
        for i in range(30):
            ix.put(IndexedPost(f"p{i:02d}", "town", "alice", f"word{i} shared"), replace=False)
        ix.commit()
        assert ix.post_ids() == {f"p{i:02d}" for i in range(30)}
        assert ix.document_frequencies(["share"]) == (30, {"share": 30})
    finally:
        ix.close()


@pytest.mark.usefixtures("sqlite_folder")  # the repair of a folder's SQLite store
def test_start_up_repair_reads_the_servers_index_and_drops_it_when_the_analysis_changed(server: IndexServer, tmp_path: Path) -> None:
    from whoknows.core.conversation import Conversation
    from whoknows.service.repair import Outcome, prepare
    from whoknows.storage.store import STATE_FILE

    conversation = Conversation(str(tmp_path / STATE_FILE))
    conversation.close()
    assert prepare(tmp_path, "opensearch", server) is Outcome.WIPED, "no index in the server yet"
    ix = open_index("opensearch", tmp_path / "index-opensearch", server)
    ix.put(IndexedPost("gone", "town", "alice", "a post the store never had"), replace=False)
    ix.commit()
    ix.close()

    assert prepare(tmp_path, "opensearch", server) is Outcome.REPAIRED, "the post the store lacks is dropped"
    assert _ids(server) == set()

    made = _uuid(server)
    (tmp_path / "index-opensearch" / ANALYSIS_FILE).unlink()  # a new replica's folder: the server's index is current
    assert prepare(tmp_path, "opensearch", server) is Outcome.INTACT, "a folder without a stamp takes the server's"
    assert _uuid(server) == made, "the index the replicas share was kept, not dropped and made again"
    assert outdated_analysis(tmp_path / "index-opensearch") is None

    again = OpenSearchIndex(server)
    again.put(IndexedPost("stale", "town", "alice", "made with another analysis"), replace=False)
    again.commit()
    again._client.indices.put_mapping(index=again.name, body={"_meta": {"whoknows_analysis": 1}})  # an older release's
    again.close()
    prepare(tmp_path, "opensearch", server)
    assert _ids(server) == set(), "the server's index, made with another analysis, was dropped, not only the stamp"


def _uuid(server: IndexServer) -> str:
    """The server's own id of the index: a new one when it is dropped and made again."""
    ix = OpenSearchIndex(server)
    try:
        return str(ix._client.indices.get_settings(index=ix.name)[ix.name]["settings"]["index"]["uuid"])
    finally:
        ix.close()


def _ids(server: IndexServer) -> set[str]:
    ix = OpenSearchIndex(server)
    try:
        return ix.post_ids()
    finally:
        ix.close()


@pytest.mark.parametrize("prefix", ["", "Whoknows", "-x", "who knows", "a*", "x" * 65])
def test_a_bad_prefix_is_refused_before_any_request(prefix: str) -> None:
    with pytest.raises(ValueError, match="index prefix"):
        check_prefix(prefix)
    with pytest.raises(ValueError, match="index prefix"):
        OpenSearchIndex(IndexServer("http://127.0.0.1:9", prefix=prefix))


def test_the_engine_without_a_server_is_refused() -> None:
    with pytest.raises(ValueError, match="OpenSearchUrl"):
        open_index("opensearch")


@pytest.mark.usefixtures("sqlite_folder")  # the repair of a folder's SQLite store
def test_an_unreachable_server_at_start_up_stops_it_in_one_line_and_wipes_nothing(tmp_path: Path) -> None:
    from opensearch_node import free_port

    from whoknows.core.conversation import Conversation
    from whoknows.errors import StartupError
    from whoknows.service.repair import prepare
    from whoknows.storage.store import STATE_FILE

    conversation = Conversation(str(tmp_path / STATE_FILE))
    conversation.begin()
    conversation.db.execute("INSERT INTO posts (post_id, channel_id, user_id, root_id, create_at, edit_at, message, is_answer)"
                            " VALUES ('p1', 'town', 'u1', '', 1, 1, 'postgres autovacuum', 0)")
    conversation.commit()
    conversation.close()
    away = IndexServer(f"http://127.0.0.1:{free_port()}", prefix="whoknows-away")
    with pytest.raises(StartupError) as raised:
        prepare(tmp_path, "opensearch", away)
    text = str(raised.value)
    assert text.startswith(f"cannot reach OpenSearch at {away.url}") and "nothing was wiped" in text and "\n" not in text
    kept = Conversation(str(tmp_path / STATE_FILE))
    try:
        assert kept.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 1
    finally:
        kept.close()


def test_the_command_line_without_a_server_or_with_one_away_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opensearch_node import free_port

    from whoknows.errors import UserError
    from whoknows.storage.store import open_store

    monkeypatch.delenv("WHOKNOWS_OPEN_SEARCH_URL", raising=False)
    with pytest.raises(UserError, match="needs the URL of an OpenSearch server"):
        with open_store(tmp_path, engine="opensearch"):
            pass
    monkeypatch.setenv("WHOKNOWS_OPEN_SEARCH_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UserError, match="cannot reach OpenSearch at http://127.0.0.1:"):
        with open_store(tmp_path, engine="opensearch"):
            pass

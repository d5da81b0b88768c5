"""The text index in an OpenSearch server (PyPI `opensearch-py`, pinned): one index every replica of the service can share.

Posts are analysed here by the shared analyser (analysis.ANALYZER) and sent as the resulting terms joined by
spaces; the index's `text` field splits them on whitespace only, so a term means what it means in the other
engines and OpenSearch scores them with its BM25. post_id, channel_id and user_id are keywords; the post id is
the document id, so every write is idempotent and a replayed commit changes nothing.

Writes are buffered and folded per post (PendingWrites) and sent at `commit` as bulk requests, the last one
with refresh=true: what a commit wrote, and what it deleted, is what the next search sees. Nothing that matters
is kept in this process: the server holds the documents, their counts and the analysis version (`_meta`).

Index names are `<prefix>-posts` (the service's index) or `<prefix>-scratch-<random>` (an index in "RAM" for
tests and evaluation, deleted at close); the prefix keeps them apart from every index Mattermost makes.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, TypeVar

from opensearchpy import OpenSearch
from opensearchpy.exceptions import AuthenticationException, AuthorizationException, NotFoundError, RequestError
from opensearchpy.exceptions import ConnectionError as SearchConnectionError

from .analysis import ANALYSIS_VERSION
from .base import Hit, IndexServer, IndexStats, IndexUnavailable
from .buffered import BufferedIndex

T = TypeVar("T")

BULK_ACTIONS = 2_000
"""Documents per bulk request (a request stays a few megabytes; a big commit is several)."""
REQUEST_SECONDS = 60
MAX_HITS = 10_000
"""OpenSearch's index.max_result_window: a search asks for at most this many hits."""
SCROLL_PAGE = 10_000
"""Post ids per page when reading every id (start-up repair)."""
SCROLL_KEEP = "1m"
"""How long the server keeps the scroll's snapshot between two pages."""
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _mapping() -> dict[str, Any]:
    return {
        "settings": {
            "index": {
                "number_of_shards": 1,  # one shard: BM25's statistics are the whole index's
                "auto_expand_replicas": "0-1",
                "refresh_interval": "1s",
            },
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {"whoknows_analysis": ANALYSIS_VERSION},
            "properties": {
                "post_id": {"type": "keyword"},
                "channel_id": {"type": "keyword"},
                "user_id": {"type": "keyword"},
                # The shared analyser's terms joined by spaces: the whitespace analyser gives them back unchanged.
                "text": {"type": "text", "analyzer": "whitespace", "similarity": "BM25"},
            },
        },
    }


def check_prefix(prefix: str) -> str:
    """The prefix when it makes valid index names of whoknows' own; ValueError saying what is wrong otherwise."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"index prefix {prefix!r}: 1-64 characters, lowercase letters, digits, - or _, not starting with - or _")
    return prefix


def index_name(server: IndexServer) -> str:
    """The service's index."""
    return f"{check_prefix(server.prefix)}-posts"


def connect(server: IndexServer) -> OpenSearch:
    auth = (server.user, server.password) if server.user else None
    return OpenSearch(
        hosts=[server.url], http_auth=auth, verify_certs=server.verify_tls, ssl_show_warn=server.verify_tls,
        timeout=REQUEST_SECONDS, http_compress=False,
    )


def reaching(server: IndexServer, call: Callable[[], T]) -> T:
    """`call()`, with the server's being unreachable or refusing the credentials raised as IndexUnavailable."""
    try:
        return call()
    except SearchConnectionError as error:
        raise IndexUnavailable(f"cannot reach OpenSearch at {server.url} ({type(error.info).__name__ if error.info else 'no answer'})") from None
    except (AuthenticationException, AuthorizationException) as error:
        raise IndexUnavailable(f"OpenSearch at {server.url} refused the credentials ({error.status_code})") from None


class OpenSearchIndex(BufferedIndex):
    """PostIndex in an OpenSearch index. `scratch=True`: a new index of its own, deleted at close (tests, evaluation)."""

    def __init__(self, server: IndexServer, *, scratch: bool = False) -> None:
        base = index_name(server)
        self.name = f"{check_prefix(server.prefix)}-scratch-{uuid.uuid4().hex[:12]}" if scratch else base
        self._scratch = scratch
        self._server = server
        self._client = connect(server)
        super().__init__()
        reaching(server, self._create)

    def _create(self) -> None:
        if self._client.indices.exists(index=self.name):
            return
        try:
            self._client.indices.create(index=self.name, body=_mapping(), params={"wait_for_active_shards": "1"})
        except RequestError as error:  # another replica made it first
            if error.error != "resource_already_exists_exception":
                raise

    def _actions(self) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        for post_id, (_, item) in self._pending.operations.items():
            if item is None:
                batch.append({"delete": {"_id": post_id}})
            else:
                text = " ".join(self.terms(item.text))
                # "index" replaces a document with the same id: an add, an update and a replay are all the same write.
                batch.append({"index": {"_id": item.post_id}})
                batch.append({"post_id": item.post_id, "channel_id": item.channel_id, "user_id": item.user_id, "text": text})
            if len(batch) >= 2 * BULK_ACTIONS:
                yield batch
                batch = []
        if batch:
            yield batch

    def commit(self) -> None:
        if not self._pending:
            return
        batches = list(self._actions())
        for number, body in enumerate(batches, 1):
            last = number == len(batches)
            # refresh=true on the last request refreshes the shard: every earlier request is searchable too.
            answer = reaching(self._server, lambda: self._client.bulk(body=body, index=self.name,
                                                                     params={"refresh": "true" if last else "false"}))
            if answer.get("errors"):
                failed = [next(iter(i.values())) for i in answer["items"] if "error" in next(iter(i.values()))]
                if failed:
                    first = failed[0]
                    raise RuntimeError(f"OpenSearch refused {len(failed)} write(s) to {self.name}: {first.get('error')}")
        # Cleared only once every request is through: a failed commit is sent again whole (every write is idempotent).
        self._pending.clear()

    def document_frequencies(self, terms: Collection[str]) -> tuple[int, dict[str, int]]:
        wanted = list(dict.fromkeys(terms))
        body: dict[str, Any] = {"size": 0, "track_total_hits": True, "query": {"match_all": {}}}
        if wanted:
            # One bucket per term, keyed by the term's position (terms may hold any character).
            body["aggs"] = {"df": {"filters": {"filters": {str(i): {"term": {"text": t}} for i, t in enumerate(wanted)}}}}
        answer = reaching(self._server, lambda: self._client.search(index=self.name, body=body))
        total = int(answer["hits"]["total"]["value"])
        buckets = answer.get("aggregations", {}).get("df", {}).get("buckets", {})
        found = {t: int(buckets.get(str(i), {}).get("doc_count", 0)) for i, t in enumerate(wanted)}
        return total, {t: found.get(t, 0) for t in terms}

    def search(
        self,
        terms: Sequence[str],
        *,
        limit: int,
        exclude_channels: Collection[str] = (),
        author: str | None = None,
    ) -> list[Hit]:
        if not terms or limit <= 0:
            return []
        query: dict[str, Any] = {
            "should": [{"term": {"text": t}} for t in dict.fromkeys(terms)],
            "minimum_should_match": 1,
        }
        if exclude_channels:
            query["must_not"] = [{"terms": {"channel_id": sorted(set(exclude_channels))}}]
        if author:
            # A filter, not a scored clause: the author's term must not change the text's score.
            query["filter"] = [{"term": {"user_id": author}}]
        body = {"size": min(limit, MAX_HITS), "_source": False, "track_total_hits": False, "query": {"bool": query}}
        answer = reaching(self._server, lambda: self._client.search(index=self.name, body=body))
        return [Hit(str(h["_id"]), float(h["_score"])) for h in answer["hits"]["hits"]]

    def stats(self) -> IndexStats:
        documents = int(self._client.count(index=self.name)["count"])
        primaries = self._client.indices.stats(index=self.name, metric="segments,store")["indices"][self.name]["primaries"]
        return IndexStats(documents, int(primaries["segments"]["count"]), int(primaries["store"]["size_in_bytes"]))

    def analysis_version(self) -> int:
        """The analysis version the index's terms were made with (its mapping's _meta; 1 when it has none)."""
        mapping = self._client.indices.get_mapping(index=self.name)[self.name]["mappings"]
        return int(mapping.get("_meta", {}).get("whoknows_analysis", 1))

    def post_ids(self) -> set[str]:
        """Every post id in the index (start-up repair compares them with the store): one scroll in index order over a
        snapshot of the index, SCROLL_PAGE ids a request (1M ids in 3.5 s on a local node, against 26 s paging by id)."""
        found: set[str] = set()
        body: dict[str, Any] = {"size": SCROLL_PAGE, "_source": False, "sort": ["_doc"], "query": {"match_all": {}}}
        answer = self._client.search(index=self.name, body=body, params={"scroll": SCROLL_KEEP})
        scroll = answer.get("_scroll_id")
        try:
            while hits := answer["hits"]["hits"]:
                found.update(str(h["_id"]) for h in hits)
                answer = self._client.scroll(scroll_id=scroll, params={"scroll": SCROLL_KEEP})
                scroll = answer.get("_scroll_id", scroll)
        finally:
            if scroll:
                with contextlib.suppress(Exception):  # the snapshot expires by itself anyway
                    self._client.clear_scroll(scroll_id=scroll)
        return found

    def drop(self) -> None:
        """Deletes the index and everything in it."""
        try:
            self._client.indices.delete(index=self.name)
        except NotFoundError:
            pass

    def close(self) -> None:
        self._pending.clear()
        try:
            if self._scratch:
                self.drop()
        finally:
            self._client.close()


def index_exists(server: IndexServer) -> bool:
    client = connect(server)
    try:
        return bool(reaching(server, lambda: client.indices.exists(index=index_name(server))))
    finally:
        client.close()


def read_post_ids(server: IndexServer) -> tuple[set[str], int]:
    """Every post id in the service's index, and the analysis version its terms were made with; FileNotFoundError
    when there is none."""
    if not index_exists(server):
        raise FileNotFoundError(index_name(server))
    index = OpenSearchIndex(server)
    try:
        return reaching(server, index.post_ids), reaching(server, index.analysis_version)
    finally:
        index.close()


def drop_index(server: IndexServer) -> None:
    """Deletes the service's index when there is one."""
    client = connect(server)
    try:
        reaching(server, lambda: client.indices.delete(index=index_name(server), params={"ignore_unavailable": "true"}))
    finally:
        client.close()

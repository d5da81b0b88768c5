"""The service commits the index on its writer's thread while requests search on the event loop: a search never
sees a hidden channel's post, a half-swapped searcher or an error, however the commits interleave with it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from conftest import server_for
from whoknows.core.index import ENGINES, IndexedPost, open_index
from whoknows.core.pipeline import Pipeline

WORDS = "kafka partition rebalancing consumer lag offsets broker".split()


@pytest.mark.parametrize("engine", ENGINES)
def test_searches_during_commits_on_another_thread_never_leak_or_fail(tmp_path: Path, engine: str,
                                                                     request: pytest.FixtureRequest) -> None:
    index = open_index(engine, None if engine == "opensearch" else tmp_path / engine, server_for(engine, request))
    channel_of: dict[str, str] = {}
    text_of: dict[str, str] = {}

    def add(batch: int, size: int) -> None:
        for i in range(size):
            post_id, channel = f"p{batch}-{i}", ("public", "hidden")[i % 2]
            channel_of[post_id] = channel
            text_of[post_id] = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(4))
            index.put(IndexedPost(post_id, channel, "u", text_of[post_id]), replace=False)

    add(0, 400)
    index.commit()
    failures: list[BaseException] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for batch in range(1, 25):
                add(batch, 60)  # the writer's thread only: nothing else puts while it commits
                index.commit()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    searches = 0
    while not done.is_set() or searches == 0:
        hits = index.search(["kafka", "broker"], limit=300, exclude_channels={"hidden"})
        assert hits, "a search during a commit found nothing"
        leaked = [h.post_id for h in hits if channel_of.get(h.post_id) != "public"]
        assert not leaked, f"hidden or unknown posts during a commit: {leaked[:5]}"
        searches += 1
    thread.join()
    assert not failures, failures
    assert {h.post_id for h in index.search(["kafka"], limit=10_000)} == {p for p, t in text_of.items() if "kafka" in t}, "a commit was lost"
    index.close()


def test_a_slow_whoosh_search_outlives_several_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search on a loaded machine can take longer than two commits of the writer's thread: it still answers."""
    from whoosh.searching import Searcher

    index = open_index("whoosh", tmp_path / "ix")
    for i in range(20):
        index.put(IndexedPost(f"p{i}", "public", "u", "kafka broker"), replace=False)
    index.commit()
    real_search, slowed = Searcher.search, [False]

    def search_while_the_writer_commits(self: Searcher, *args: object, **kwargs: object) -> object:
        if not slowed[0]:
            slowed[0] = True

            def commit_twice() -> None:
                for batch in range(2):
                    index.put(IndexedPost(f"late{batch}", "public", "u", "kafka"), replace=False)
                    index.commit()

            writer = threading.Thread(target=commit_twice)
            writer.start()
            writer.join()
        return real_search(self, *args, **kwargs)

    monkeypatch.setattr(Searcher, "search", search_while_the_writer_commits)
    hits = index.search(["kafka"], limit=100)
    assert {h.post_id for h in hits} == {f"p{i}" for i in range(20)}, "the search lost the view it started on"
    assert len(index.search(["kafka"], limit=100)) == 22, "the commits made during the search are not visible after it"
    index.close()


def test_closing_the_store_waits_for_a_commit_in_flight(tmp_path: Path) -> None:
    from whoknows.core.conversation import Conversation

    conv = Conversation(str(tmp_path / "state.sqlite"))
    index = open_index("tantivy", tmp_path / "ix")
    pipeline = Pipeline(conv, index)
    entered, release = threading.Event(), threading.Event()
    real_commit, inside, most = index.commit, [0], [0]

    def slow_commit() -> None:
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        entered.set()
        release.wait(5)
        real_commit()
        inside[0] -= 1

    index.commit = slow_commit  # type: ignore[method-assign]
    thread = threading.Thread(target=pipeline.flush)
    thread.start()
    entered.wait(5)
    second = threading.Thread(target=pipeline.flush)
    second.start()
    second.join(0.2)  # time for the second commit to start, were it not held back
    release.set()
    thread.join(5)
    second.join(5)
    assert most[0] == 1, "a second commit ran while the first was still in flight"
    index.close()
    conv.close()

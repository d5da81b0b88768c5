"""Reference engines over the same posts and the same analysed terms: tantivy (Rust, via PyPI `tantivy`)
and SQLite FTS5. Each indexes the Whoosh analyser's output (so a term means the same thing in all three)
and answers the same OR-of-terms query with the same hidden channels and limit, returning post ids."""

from __future__ import annotations

import shutil
import sqlite3
import time
from functools import partial
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..adapters.bulk_export import read_export
from ..core.events import PostCreated
from ..core.pipeline import MAX_INDEXED_CHARS
from ..core.index.analysis import ANALYZER
from .scenarios import Retrieval
from .timing import Latencies

BATCH = 5_000


@dataclass
class Build:
    posts: int = 0
    analyse_seconds: float = 0.0
    """The shared Whoosh analysis of every post (not part of either engine's build time)."""
    seconds: dict[str, float] = field(default_factory=dict)
    size_bytes: dict[str, int] = field(default_factory=dict)


def analysed_posts(path: Path, build: Build) -> Iterator[list[tuple[str, str, str]]]:
    """(post id, channel id, analysed text) in batches, from the export through the importer's decoder."""
    batch: list[tuple[str, str, str]] = []
    for _, events in read_export(path):
        for e in events:
            if isinstance(e, PostCreated):
                started = time.perf_counter()
                text = " ".join(t.text for t in ANALYZER(e.message[:MAX_INDEXED_CHARS]))
                build.analyse_seconds += time.perf_counter() - started
                batch.append((e.post_id, e.channel_id, text))
        if len(batch) >= BATCH:
            build.posts += len(batch)
            yield batch
            batch = []
    build.posts += len(batch)
    yield batch


class Fts5:
    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute(
            "CREATE VIRTUAL TABLE posts USING fts5(text, post_id UNINDEXED, channel_id UNINDEXED, "
            "tokenize=\"unicode61 remove_diacritics 0 tokenchars '._'\", detail=none)"
        )
        self.db.execute("BEGIN")

    def add(self, batch: Sequence[tuple[str, str, str]]) -> None:
        self.db.executemany("INSERT INTO posts(post_id, channel_id, text) VALUES(?,?,?)", batch)

    def finish(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("INSERT INTO posts(posts) VALUES('optimize')")

    def search(self, r: Retrieval, limit: int) -> int:
        if not r.terms:
            return 0
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in r.terms)
        hidden = tuple(r.hidden)
        marks = ",".join("?" * len(hidden))
        where = f" AND channel_id NOT IN ({marks})" if hidden else ""
        rows = self.db.execute(f"SELECT post_id FROM posts WHERE posts MATCH ?{where} ORDER BY rank LIMIT ?", (match, *hidden, limit)).fetchall()
        return len(rows)

    def size(self) -> int:
        return self.path.stat().st_size

    def close(self) -> None:
        self.db.close()


class Tantivy:
    def __init__(self, folder: Path) -> None:
        import tantivy

        self.t: Any = tantivy
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("post_id", stored=True, tokenizer_name="raw", index_option="basic")
        sb.add_text_field("channel_id", tokenizer_name="raw", index_option="basic")
        sb.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema, path=str(folder))
        self.writer = self.index.writer(heap_size=256_000_000)
        self.searcher: Any = None

    def add(self, batch: Sequence[tuple[str, str, str]]) -> None:
        Document = self.t.Document
        for post_id, channel_id, text in batch:
            self.writer.add_document(Document(post_id=post_id, channel_id=channel_id, text=text))

    def finish(self) -> None:
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, r: Retrieval, limit: int) -> int:
        if not r.terms:
            return 0
        Q, Occur, schema = self.t.Query, self.t.Occur, self.schema
        clauses = [(Occur.Should, Q.term_query(schema, "text", t)) for t in dict.fromkeys(r.terms)]
        clauses += [(Occur.MustNot, Q.term_query(schema, "channel_id", c)) for c in r.hidden]
        hits = self.searcher.search(Q.boolean_query(clauses), limit=limit, count=False).hits
        doc = self.searcher.doc
        return len([doc(addr)["post_id"][0] for _, addr in hits])

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())

    def close(self) -> None:
        self.searcher = None


def build_references(export: Path, folder: Path) -> tuple[Build, dict[str, Any]]:
    """Both reference indexes from one streaming pass over the export (memory stays flat)."""
    build = Build()
    folder.mkdir(parents=True, exist_ok=True)
    engines: dict[str, Any] = {}
    for name, make in (("fts5", lambda: Fts5(folder / "fts5.sqlite")), ("tantivy", lambda: Tantivy(folder / "tantivy"))):
        try:
            engines[name] = make()
        except ImportError:
            continue  # tantivy missing: install the bench extra
        build.seconds[name] = 0.0
    for batch in analysed_posts(export, build):
        for name, engine in engines.items():
            started = time.perf_counter()
            engine.add(batch)
            build.seconds[name] += time.perf_counter() - started
    for name, engine in engines.items():
        started = time.perf_counter()
        engine.finish()
        build.seconds[name] += time.perf_counter() - started
        build.size_bytes[name] = engine.size()
    return build, engines


def time_queries(engine: Any, work: Sequence[Retrieval], limit: int, rounds: int) -> Latencies:
    for r in work:  # warm-up
        engine.search(r, limit)
    lat = Latencies()
    for _ in range(rounds):
        for r in work:
            lat.time(partial(engine.search, r, limit))
    return lat

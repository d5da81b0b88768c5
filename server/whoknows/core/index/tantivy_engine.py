"""The text index on tantivy (Rust, PyPI `tantivy`, pinned), on disk or in RAM: for a million posts and more.

Whoosh is pure Python: at a million posts its retrieval and its segment merges take hundreds of
milliseconds to seconds. tantivy answers the same query in a few milliseconds and merges segments on
its own threads, off the apply loop. Posts are analysed by the shared analyser (analysis.ANALYZER)
and indexed as the resulting terms, so a term means the same thing whichever engine is chosen; only
the BM25 details (its idf) differ a little.

One writer, owned by the index for its lifetime (tantivy allows one per index, like Whoosh); writes are
buffered and folded per post as in WhooshIndex, applied at `commit`, then the searcher is reloaded.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import tantivy

from .base import Hit, IndexStats
from .buffered import BufferedIndex

WRITER_HEAP_BYTES = 64_000_000
"""tantivy's indexing buffer (it flushes a segment by itself when full)."""
WRITER_THREADS = 1
"""Indexing threads: the apply loop is one task; the second core serves searches and merges."""


def _schema() -> Any:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("post_id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("channel_id", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("user_id", tokenizer_name="raw", index_option="basic")
    # The Whoosh analyser's terms joined by spaces: the whitespace tokenizer gives them back unchanged.
    sb.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
    return sb.build()


SCHEMA = _schema()


def index_exists(path: Path) -> bool:
    return path.is_dir() and bool(tantivy.Index.exists(str(path)))


class TantivyIndex(BufferedIndex):
    """PostIndex on tantivy. `path=None` keeps the index in RAM (tests, evaluation)."""

    def __init__(self, path: Path | None = None, *, heap_bytes: int = WRITER_HEAP_BYTES) -> None:
        if path is None:
            self._ix = tantivy.Index(SCHEMA)
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._ix = tantivy.Index(SCHEMA, path=str(path), reuse=True)
        self._path = path
        self._writer: Any = self._ix.writer(heap_size=heap_bytes, num_threads=WRITER_THREADS)
        super().__init__()
        self._ix.reload()
        self._searcher: Any = self._ix.searcher()

    def commit(self) -> None:
        if not self._pending:
            return
        writer, document = self._writer, tantivy.Document
        try:
            for post_id, (op, item) in self._pending.operations.items():
                if op != "add":
                    # A delete applies to the documents added before it only: the new version below survives.
                    writer.delete_documents_by_term("post_id", post_id)
                if item is not None:
                    text = " ".join(self.terms(item.text))
                    writer.add_document(document(post_id=item.post_id, channel_id=item.channel_id, user_id=item.user_id, text=text))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        self._pending.clear()
        self._ix.reload()
        self._searcher = self._ix.searcher()

    def document_frequencies(self, terms: Collection[str]) -> tuple[int, dict[str, int]]:
        s = self._searcher
        return int(s.num_docs), {t: int(s.doc_freq("text", t)) for t in terms}

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
        q, occur = tantivy.Query, tantivy.Occur
        text = q.boolean_query([(occur.Should, q.term_query(SCHEMA, "text", t)) for t in dict.fromkeys(terms)])
        clauses: list[tuple[Any, Any]] = [(occur.Must, text)]
        if exclude_channels:
            clauses.append((occur.MustNot, q.term_set_query(SCHEMA, "channel_id", list(exclude_channels))))
        if author:
            # A filter, not a scored clause: the author's term must not change the text's score.
            clauses.append((occur.Must, q.const_score_query(q.term_query(SCHEMA, "user_id", author), 0.0)))
        searcher = self._searcher
        found = searcher.search(q.boolean_query(clauses), limit=limit, count=False).hits
        doc = searcher.doc
        return [Hit(str(doc(address).get_first("post_id")), float(score)) for score, address in found]

    def stats(self) -> IndexStats:
        size = 0
        if self._path is not None:
            size = sum(f.stat().st_size for f in self._path.rglob("*") if f.is_file())
        return IndexStats(int(self._searcher.num_docs), int(self._searcher.num_segments), size)

    def post_ids(self) -> set[str]:
        """Every post id in the index (start-up repair compares them with the store)."""
        searcher = self._searcher
        total = int(searcher.num_docs)
        if total == 0:
            return set()
        found = searcher.search(tantivy.Query.all_query(), limit=total, count=False).hits
        return {str(searcher.doc(address).get_first("post_id")) for _, address in found}

    def close(self) -> None:
        self._pending.clear()
        self._searcher = None
        self._writer.wait_merging_threads()
        self._writer = None


def read_post_ids(path: Path) -> set[str]:
    """Every post id in the index on disk; FileNotFoundError when there is none."""
    if not index_exists(path):
        raise FileNotFoundError(path)
    index = TantivyIndex(path)
    try:
        return index.post_ids()
    finally:
        index.close()

"""The text index as the core sees it: a small interface so Whoosh can be swapped for OpenSearch at scale."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IndexedPost:
    post_id: str
    channel_id: str
    user_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Hit:
    post_id: str
    score: float


@dataclass(frozen=True, slots=True)
class IndexStats:
    documents: int
    segments: int
    size_bytes: int


class PostIndex(Protocol):
    """Full-text index of posts. Writes are buffered until `commit`; searches see committed posts."""

    def put(self, post: IndexedPost, *, replace: bool) -> None: ...

    def delete(self, post_id: str) -> None: ...

    def commit(self) -> None: ...

    def terms(self, text: str) -> list[str]:
        """The index's own analysis of a text (lowercased, stemmed, stop words dropped)."""
        ...

    def document_frequencies(self, terms: Collection[str]) -> tuple[int, dict[str, int]]:
        """(number of documents, documents containing each term), for choosing key terms."""
        ...

    def search(
        self,
        terms: Sequence[str],
        *,
        limit: int,
        exclude_channels: Collection[str] = (),
        author: str | None = None,
    ) -> list[Hit]:
        """Best-matching posts for any of the analysed terms, BM25F-scored, best first."""
        ...

    def stats(self) -> IndexStats: ...

    def close(self) -> None: ...

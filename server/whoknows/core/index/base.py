"""The text index as the core sees it: a small interface every engine implements (the engines and their
registry sit above it, in this package)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class IndexServer:
    """Where an engine that lives in a search server keeps its indices (OpenSearch): the server's URL, its
    credentials and the prefix of every index name the engine makes. Engines with a folder ignore it."""

    url: str
    user: str = ""
    password: str = field(default="", repr=False)
    prefix: str = "whoknows"
    verify_tls: bool = True


class IndexUnavailable(Exception):
    """The index's server cannot be reached or refused the credentials (the text says which, naming the server):
    not a damaged index, so nothing is wiped because of it."""


class PendingWrites:
    """The last pending operation per post until the next commit: "add" (never committed), "update" or
    "delete" (the post may be committed). Engines apply updates and deletes only to committed documents,
    so operations on one post inside a batch are folded here, before a writer sees them."""

    def __init__(self) -> None:
        self.operations: dict[str, tuple[str, IndexedPost | None]] = {}

    def put(self, post: IndexedPost, *, replace: bool) -> None:
        earlier = self.operations.get(post.post_id)
        if earlier is not None and earlier[0] == "add":
            self.operations[post.post_id] = ("add", post)
        elif replace or earlier is not None:
            self.operations[post.post_id] = ("update", post)
        else:
            self.operations[post.post_id] = ("add", post)

    def delete(self, post_id: str) -> None:
        earlier = self.operations.get(post_id)
        if earlier is not None and earlier[0] == "add":
            del self.operations[post_id]  # never reached the index
        else:
            self.operations[post_id] = ("delete", None)

    def __len__(self) -> int:
        return len(self.operations)

    def clear(self) -> None:
        self.operations.clear()


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

"""What every engine shares on the writing side: writes folded per post until `commit`, and the shared analyser.

Each engine (Whoosh, tantivy, OpenSearch) keeps its own commit and search; the buffer (`PendingWrites`) and the
terms are one piece here, so a change to either reaches every engine at once.
"""

from __future__ import annotations

from .analysis import ANALYZER
from .base import IndexedPost, PendingWrites


class BufferedIndex:
    """put/delete fold into `_pending` (applied by the engine's commit); `terms` is the shared analysis."""

    def __init__(self) -> None:
        self._pending = PendingWrites()

    def put(self, post: IndexedPost, *, replace: bool) -> None:
        self._pending.put(post, replace=replace)

    def delete(self, post_id: str) -> None:
        self._pending.delete(post_id)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def terms(self, text: str) -> list[str]:
        return [t.text for t in ANALYZER(text)]

"""Posts whose deletion or edit has been heard but is not yet applied and searchable.

Events are applied in batches, so between hearing "this post was deleted" (or edited) and the commit that makes
it so, the store and the index still hold the old post. Every answer leaves such posts out meanwhile: once the
service has heard of a deletion, nothing it says afterwards contains the post, however the batch is doing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator


class Withheld:
    def __init__(self) -> None:
        self._pending: Counter[str] = Counter()

    def hear(self, post_ids: Iterable[str]) -> None:
        """A deletion or an edit of these posts was heard (one count each: the same post may change twice)."""
        self._pending.update(post_ids)

    def applied(self, post_ids: Iterable[str]) -> None:
        """Those changes are now in the store and searchable."""
        self._pending.subtract(post_ids)
        for post_id in [p for p, n in self._pending.items() if n <= 0]:
            del self._pending[post_id]

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._pending

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._pending))

    def __len__(self) -> int:
        return len(self._pending)

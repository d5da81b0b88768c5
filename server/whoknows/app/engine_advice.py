"""Which index engine suits this workspace's size: an admin is told when the chosen one is too slow for it.

Whoosh (pure Python) keeps `/whoknows` quick up to about a hundred thousand posts; past that its answers and
imports slow down several times over (the README's engine table, measured by `make bench`). The advice is
logged once the history is read, and shown to system admins in `/whoknows help`.
"""

from __future__ import annotations

from .. import messages
from ..storage.store import Store
from .settings import Settings

WHOOSH_ENOUGH_POSTS = 100_000
"""Past this many posts, Whoosh misses the answer-time targets that tantivy meets (README: "Which engine")."""


def engine_advice(settings: Settings, store: Store) -> str | None:
    """What to tell an admin about the engine for this workspace's size (None: nothing to say)."""
    if settings.index_engine != "whoosh":
        return None
    posts = store.conversation.post_count()
    if posts <= WHOOSH_ENOUGH_POSTS:
        return None
    return messages.engine_too_slow(posts, WHOOSH_ENOUGH_POSTS, plugin=settings.mode == "plugin")

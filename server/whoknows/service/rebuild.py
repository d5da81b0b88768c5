"""`whoknows rebuild`: the local index and posts wiped, every indexed channel's history read again."""

from __future__ import annotations

from pathlib import Path

from ..app.settings import Settings
from .repair import wipe
from .runtime import Runtime


async def rebuild(settings: Settings, data: Path) -> int:
    """Wipes the local index and posts and reads every indexed channel's history again; returns the posts indexed."""
    wipe(data, settings.index_server(), settings.store_url)
    runtime = Runtime(settings, data)
    await runtime.start()
    try:
        await runtime.backfilled.wait()
        await runtime.drained()
        return runtime.store.conversation.post_count()
    finally:
        await runtime.stop()

"""Plugin mode trusts live events for its checkpoints only while the plugin's event numbers follow each other: a gap
(an event that never arrived) or a new activation stops that and asks for a catch-up at once."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from whoknows.adapters.mattermost_events import Decoded, Heard
from whoknows.adapters.plugin_link import Numbered
from whoknows.app.settings import manifest_path
from whoknows.core.events import PostDeleted
from whoknows.service.plugin import PluginLink


class Live:
    def __init__(self) -> None:
        self.ingested: list[Decoded] = []
        self.lost = 0

    async def ingest(self, item: Decoded) -> None:
        self.ingested.append(item)

    def lost_(self) -> None:
        self.lost += 1


def link() -> tuple[PluginLink, Live]:
    live = Live()
    runtime: Any = SimpleNamespace(live=SimpleNamespace(ingest=live.ingest, lost=live.lost_))
    return PluginLink(runtime, json.loads(manifest_path().read_text()), {}), live


async def test_numbers_in_order_are_trusted_a_gap_or_a_new_activation_is_not() -> None:
    plugin, live = link()
    heard = Heard("c", 5)
    for n in (7, 8, 9):  # the first number seen this run is where the stream starts
        await plugin.events([Numbered("b1", n), PostDeleted(f"p{n}", 1), heard])
    assert live.lost == 0 and plugin.gaps == 0 and live.ingested.count(heard) == 3
    await plugin.events([Numbered("b1", 11), heard])  # 10 never arrived
    assert live.lost == 1 and plugin.gaps == 1 and plugin._wake.is_set()
    await plugin.events([Numbered("b2", 1), heard])  # the plugin was activated again
    assert live.lost == 2


async def test_a_plugin_that_numbers_nothing_never_moves_a_checkpoint() -> None:
    plugin, live = link()
    await plugin.events([PostDeleted("p1", 1), Heard("c", 5)])
    assert live.ingested == [PostDeleted("p1", 1)] and live.lost == 0

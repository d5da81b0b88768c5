"""Mattermost answering 429 (rate limited) and 502/503 for a while, through a fault-injecting proxy in front of the
real server: the bot waits as told, backs off with jitter, gives up nothing, and catches up afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from whoknows.adapters.mattermost_ws import FIRST_BACKOFF_S
from whoknows.adapters.retry import BASE_S

from .bootstrap import Api, Workspace
from .botfixture import post, running_bot, until
from .compare import assert_index_matches_server
from .conftest import MakeChannel
from .faultproxy import FaultProxy, assert_retry_after_honoured
from .test_faults import START_MS, bulk_posts, word


@pytest.fixture
async def proxy(workspace: Workspace) -> AsyncIterator[FaultProxy]:
    faults = FaultProxy(workspace.url)
    await faults.start()
    try:
        yield faults
    finally:
        await faults.close()


def archive(workspace: Workspace, channel_id: str) -> None:
    """The other tests' bots no longer read it."""
    with Api(workspace.url, workspace.admin.token) as admin:
        admin.call("DELETE", f"/channels/{channel_id}")


async def test_backfill_through_rate_limits_and_gateway_errors(workspace: Workspace, make_channel: MakeChannel,
                                                               proxy: FaultProxy, tmp_path: Path) -> None:
    room = make_channel(["carol", "whoknows"])
    try:
        await bulk_posts(workspace, room.id, [START_MS + i for i in range(450)])  # three pages of history
        posts = f"/api/v4/channels/{room.id}/posts"
        faults = [
            proxy.fail(r"^/api/v4/users/me/teams$", 503, count=1),  # at start-up
            proxy.rate_limit(rf"^{posts}\?", retry_after=1, count=2),  # the newest page, twice
            proxy.fail(rf"^{posts}\?.*before=", 503, count=2),  # the next page: unavailable twice...
            proxy.fail(rf"^{posts}\?.*before=", 502, count=1),  # ...then a bad gateway
            proxy.rate_limit(r"^/api/v4/users/ids$", retry_after=2, count=1, reset_only=True),  # only X-Ratelimit-Reset
        ]
        async with running_bot(workspace, tmp_path, WHOKNOWS_MATTERMOST_URL=proxy.url) as rt:
            await assert_index_matches_server(workspace, tmp_path, rt)
            assert [f.served for f in faults] == [f.count for f in faults]
            assert rt.rest.retries == sum(f.served for f in faults)  # each failure cost one retry, no more
        assert assert_retry_after_honoured(proxy.seen) == 3
        tries = [s for s in proxy.requests_to(posts) if "before=" in s.query]
        assert [s.status for s in tries[:4]] == [503, 503, 502, 200]
        gaps = [b.at - a.at for a, b in zip(tries, tries[1:4])]
        assert gaps[0] >= BASE_S / 2 and gaps[1] >= BASE_S and gaps[2] >= BASE_S * 2, gaps  # jittered, doubling
    finally:
        archive(workspace, room.id)


async def test_live_traffic_through_a_spell_of_429_and_503(workspace: Workspace, make_channel: MakeChannel,
                                                          proxy: FaultProxy, tmp_path: Path) -> None:
    room = make_channel(["alice", "bob", "whoknows"])
    first = await post(workspace, "alice", room.id, f"before the spell {word()}")
    async with running_bot(workspace, tmp_path, WHOKNOWS_MATTERMOST_URL=proxy.url) as rt:
        before = len(proxy.seen)
        # The bot's next REST calls, whatever they are: rate limited, three times (counted, not timed).
        limited = proxy.rate_limit(r"^/api/v4/(?!websocket)", retry_after=1, count=3)
        # A new channel the bot is added to: it must ask the rate-limited REST API about it, and read its history.
        fresh = make_channel(["bob", "whoknows"])
        during = [await post(workspace, "bob", fresh.id, f"new channel {word()} {i}") for i in range(3)]
        await until(rt, lambda: rt.store.conversation.has_post(during[2]["id"]))
        assert limited.served == 3 and rt.rest.retries >= 3  # each 429 was waited out and tried again
        # Cut off, and every reconnection refused until the posts, the edit and the deletion below are made.
        refusing = proxy.fail(r"^/api/v4/websocket", 503)
        await rt.ws.drop()
        during += [await post(workspace, "alice", room.id, f"during the spell {word()} {i}") for i in range(3)]
        with Api(workspace.url, workspace.user("alice").token) as alice:
            alice.call("PUT", f"/posts/{during[3]['id']}/patch", {"message": f"edited during the spell {word()}"})
            alice.call("DELETE", f"/posts/{first['id']}")
        refusing.count = refusing.served + 1  # one more refusal, then the way is open again
        last = await post(workspace, "bob", fresh.id, f"last {word()}")
        await until(rt, lambda: rt.store.conversation.has_post(last["id"]))
        await assert_index_matches_server(workspace, tmp_path, rt)
    spell = proxy.seen[before:]
    assert assert_retry_after_honoured(spell) >= 1
    # Each websocket attempt's outcome: refused while refusing, then one connection that held.
    tries = [s.status for s in spell if s.path == "/api/v4/websocket"]
    assert tries == [503] * refusing.served + [101] and refusing.served >= 1, tries
    refused = [s for s in spell if s.path == "/api/v4/websocket"]
    gaps = [b.at - a.at for a, b in zip(refused, refused[1:])]
    assert min(gaps) >= FIRST_BACKOFF_S / 2 and len({round(g, 3) for g in gaps}) == len(gaps), gaps  # jittered


async def test_a_catch_up_that_meets_server_errors_is_tried_again_in_the_same_run(
        workspace: Workspace, make_channel: MakeChannel, proxy: FaultProxy, tmp_path: Path) -> None:
    """After a gap the server cannot replay, the catch-up over REST meets a spell of 500s (a server still coming back):
    what was said while the bot was cut off is indexed in this run, not left for the next start."""
    room = make_channel(["alice", "whoknows"])
    try:
        async with running_bot(workspace, tmp_path, WHOKNOWS_MATTERMOST_URL=proxy.url) as rt:
            refusing = proxy.fail(r"^/api/v4/websocket", 503)
            rt.ws.connection_id = uuid.uuid4().hex[:26]  # a connection the server never had: it cannot replay
            await rt.ws.drop()
            missed = await post(workspace, "alice", room.id, f"said while the bot was cut off {word()}")
            failing = proxy.fail(rf"^/api/v4/channels/{room.id}/posts\?", 500, count=2)
            refusing.count = refusing.served + 1
            await until(rt, lambda: rt.store.conversation.has_post(missed["id"]))
            assert rt.ws.gaps == 1 and failing.served == 2  # the catch-up did meet both errors
            await assert_index_matches_server(workspace, tmp_path, rt)
    finally:
        archive(workspace, room.id)

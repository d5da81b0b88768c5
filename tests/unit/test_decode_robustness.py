"""Odd posts and frames decode to events or to nothing, never to an exception; one bad event never stops the bot."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whoknows.adapters.mattermost_events import Heard, decode_channel, decode_event, decode_post
from whoknows.core.events import ChannelUpdated, PostCreated, PostDeleted, PostEdited, ReactionAdded, TeamUpdated, UserUpdated
from whoknows.service.runtime import Runtime
from whoknows.app.settings import load, manifest_path
from whoknows.storage.state import ServiceState
from whoknows.storage.store import open_store
from conftest import new_state

BOT = "bot0000000000000000000000id"
ALICE = "a1ice0000000000000000000id"
CHANNEL = "chan000000000000000000000id"


def rest_post(**fields: Any) -> dict[str, Any]:
    post = {"id": "p1", "channel_id": CHANNEL, "user_id": ALICE, "message": "hello", "create_at": 5, "update_at": 5,
            "edit_at": 0, "delete_at": 0, "type": "", "root_id": "", "props": {}}
    post.update(fields)
    return post


def frame(event: str, post: Any, **data: Any) -> dict[str, Any]:
    return {"event": event, "data": {"post": json.dumps(post) if isinstance(post, dict) else post, "channel_type": "O", **data},
            "broadcast": {"channel_id": CHANNEL}, "seq": 3}


def test_huge_message_and_code_blocks_decode_whole() -> None:
    huge = "word " * 20_000 + "```\nprint('x')\n```"
    assert decode_post(rest_post(message=huge), BOT) == [PostCreated("p1", CHANNEL, ALICE, huge, 5)]
    assert decode_event(frame("posted", rest_post(message=huge)), BOT) == [PostCreated("p1", CHANNEL, ALICE, huge, 5), Heard(CHANNEL, 5)]


def test_attachments_only_post_is_an_empty_post() -> None:
    post = rest_post(message="", props={"attachments": [{"text": "build failed", "color": "#f00"}]})
    assert decode_post(post, BOT) == [PostCreated("p1", CHANNEL, ALICE, "", 5)]


@pytest.mark.parametrize("post", [
    rest_post(type="system_join_channel"),
    rest_post(type="custom_anything_new"),
    rest_post(user_id=BOT),
    rest_post(props={"from_bot": "true"}),
    rest_post(props={"from_webhook": "true"}),
    rest_post(id=None), rest_post(id=""), rest_post(id=7.5), rest_post(channel_id=None), rest_post(user_id=["x"]),
    {"id": "p1"}, {}, {"message": "no id"},
])
def test_system_bot_unknown_and_incomplete_posts_are_not_expertise(post: dict[str, Any]) -> None:
    assert decode_post(post, BOT) == []
    assert [d for d in decode_event(frame("posted", post), BOT) if not isinstance(d, Heard)] == []


def test_wrong_types_count_as_missing() -> None:
    odd = rest_post(create_at="yesterday", edit_at="x", delete_at=None, message=12, props="not json", root_id=None,
                    metadata={"reactions": [None, "x", {"post_id": "p1"}, {"post_id": "p1", "user_id": ALICE, "emoji_name": "+1", "create_at": "n"}]})
    assert decode_post(odd, BOT) == [PostCreated("p1", CHANNEL, ALICE, "12", 0), ReactionAdded("p1", ALICE, "+1", 0)]
    assert decode_post(rest_post(metadata=["not", "an", "object"]), BOT) == [PostCreated("p1", CHANNEL, ALICE, "hello", 5)]
    assert decode_post(rest_post(create_at=1e400, edit_at=float("nan")), BOT) == [PostCreated("p1", CHANNEL, ALICE, "hello", 0)]


def test_edits_and_deletes_need_only_an_id() -> None:
    assert decode_event(frame("post_edited", {"id": "p1", "message": "new", "edit_at": 9}), BOT) == [PostEdited("p1", "new", 9)]
    assert decode_event(frame("post_deleted", {"id": "p1", "delete_at": 9}), BOT) == [PostDeleted("p1", 9)]
    assert decode_event(frame("post_edited", {"message": "no id"}), BOT) == []
    assert decode_event(frame("post_deleted", "{not json"), BOT) == []
    assert decode_post(rest_post(delete_at=9), BOT) == [PostDeleted("p1", 9)]


@pytest.mark.parametrize("raw", [None, [], "hello", 42, {"event": None}, {"event": "posted"}, {"event": "posted", "data": []},
                                 {"event": "posted", "data": "x"}, {"event": "reaction_added", "data": {"reaction": "[]"}},
                                 {"event": "user_added", "data": {"user_id": 5}}, {"event": "user_updated", "data": {"user": {"id": None}}},
                                 {"event": "channel_updated", "data": {"channel": "{\"id\": 1}"}}, {"event": "hello", "data": None},
                                 {"event": "brand_new_event", "data": {"x": 1}}])
def test_malformed_frames_mean_nothing(raw: Any) -> None:
    decoded = decode_event(raw, BOT)
    assert all(not isinstance(d, PostCreated) for d in decoded)


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=20)
_keys = st.sampled_from(["id", "channel_id", "user_id", "message", "create_at", "edit_at", "delete_at", "update_at", "type", "root_id",
                         "props", "metadata", "post_id", "emoji_name", "team_id", "name", "display_name", "username", "is_bot"])
_post_like = st.dictionaries(_keys, _json | st.text(max_size=10), max_size=10)
_inner = _post_like | _post_like.map(json.dumps) | _json
_events = st.sampled_from(["hello", "posted", "post_edited", "post_deleted", "reaction_added", "reaction_removed", "user_added",
                           "user_removed", "channel_created", "channel_updated", "channel_converted", "user_updated",
                           "user_deactivated", "user_activation_status_change", "typing", ""])
_frames = st.fixed_dictionaries({"event": _events | _json, "data": st.dictionaries(
    st.sampled_from(["post", "reaction", "channel", "user", "channel_id", "user_id", "channel_type", "connection_id"]), _inner, max_size=4) | _json,
    "broadcast": st.dictionaries(st.sampled_from(["channel_id", "user_id", "team_id"]), _json, max_size=3) | _json})


@given(_frames | _json)
@settings(max_examples=400, deadline=None)
def test_decode_event_is_total(raw: Any) -> None:
    decoded = decode_event(raw, BOT)
    assert isinstance(decoded, list)
    for item in decoded:
        if isinstance(item, PostCreated):
            assert item.post_id and item.channel_id and item.user_id and item.user_id != BOT


@given(_post_like | _json)
@settings(max_examples=300, deadline=None)
def test_decode_post_and_channel_are_total(raw: Any) -> None:
    assert isinstance(decode_post(raw, BOT), list)
    decode_channel(raw)


# -- the runtime's loops survive a failing event or handler ---------------------------------------


def make_runtime(data: Path) -> Runtime:
    env = {"WHOKNOWS_MATTERMOST_URL": "http://127.0.0.1:9", "WHOKNOWS_BOT_TOKEN": "t0k", "WHOKNOWS_BATCH_MILLISECONDS": "1"}
    return Runtime(load(json.loads(manifest_path().read_text()), env), data)


async def test_one_failing_frame_handler_or_batch_never_stops_the_loop(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    rt = make_runtime(tmp_path)
    rt.presence.bot_id = BOT
    with open_store(tmp_path) as store:
        rt.attach(store, new_state(), {ALICE})
        loop = asyncio.create_task(rt.writer.run())
        try:
            await rt.submit([TeamUpdated("t1", "eng"), UserUpdated(ALICE, "alice")])
            await rt.drained(5)
            # A frame whose handling fails (the channel lookup cannot reach Mattermost) is logged and skipped.
            with caplog.at_level(logging.ERROR, "whoknows.runtime"):
                await rt.live.on_frame(frame("posted", rest_post(id="p-unknown-channel")))
                await rt.live.on_frame({"event": "posted", "data": "garbage"})
            assert any("cannot handle websocket event" in r.getMessage() for r in caplog.records)

            # A whole batch that fails after the events (here: saving the state) is logged; the next batch is applied.
            rt.channels[CHANNEL] = ChannelUpdated(CHANNEL, "t1", "town", "O")
            rt.indexed.add(CHANNEL)
            original = store.pipeline.flush
            calls = {"n": 0}

            def flaky_flush() -> None:
                calls["n"] += 1
                if calls["n"] == 1:
                    raise OSError("disk hiccup")
                original()

            monkeypatch.setattr(store.pipeline, "flush", flaky_flush)
            with caplog.at_level(logging.ERROR, "whoknows.runtime"):
                await rt.live.on_frame(frame("posted", rest_post(id="p2", message="first kafka")))
                await rt.drained(5)
            assert any("cannot apply a batch" in r.getMessage() for r in caplog.records)
            assert not loop.done()
            await rt.live.on_frame(frame("posted", rest_post(id="p3", message="second kafka")))
            await rt.drained(5)
            assert {h.post_id for h in store.index.search(["kafka"], limit=10)} == {"p2", "p3"}
        finally:
            loop.cancel()
            with pytest.raises(asyncio.CancelledError):
                await loop
            for task in rt.tasks:
                task.cancel()
            await asyncio.gather(*rt.tasks, return_exceptions=True)
            rt.state.close()
            await rt.rest.close()

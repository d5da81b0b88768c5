"""An admin whose workspace has outgrown Whoosh is told so in /whoknows help (and at start-up, the same text);
nobody else sees it, and tantivy workspaces never do."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest

from test_fuzz_commands import ALICE, BOB, ENV, FakeRuntime, seed
from whoknows.app import engine_advice
from whoknows.app.commands import command
from whoknows.app.settings import load, manifest_path
from whoknows.service.offline import StorePermissions
from whoknows.storage.store import open_store


class Admins(StorePermissions):
    """The store's view of who reads what; only ALICE is a system admin."""

    async def is_system_admin(self, user_id: str) -> bool:
        return user_id == ALICE


def help_for(tmp_path: Path, user_id: str, engine: str) -> str:
    with open_store(tmp_path / engine, engine=engine) as store:
        seed(store)  # two posts
        settings = dataclasses.replace(load(json.loads(manifest_path().read_text()), ENV), index_engine=engine)
        rt = FakeRuntime(store, settings)
        rt.use_cases = dataclasses.replace(rt.use_cases, services=dataclasses.replace(rt.services, permissions=Admins(store)))
        try:
            return str(asyncio.run(command(rt.use_cases, {"text": "help", "user_id": user_id, "channel_id": "town0000000000000000000000"}))["text"])
        finally:
            rt.state.close()


@pytest.mark.parametrize("enough", [1, 2])
def test_an_admin_past_the_whoosh_size_is_told_to_switch_and_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enough: int) -> None:
    monkeypatch.setattr(engine_advice, "WHOOSH_ENOUGH_POSTS", enough)
    text = help_for(tmp_path, ALICE, "whoosh")
    if enough == 1:  # two posts, past a limit of one
        assert "For admins" in text and "2 posts" in text and "WHOKNOWS_INDEX_ENGINE=tantivy" in text
    else:
        assert "For admins" not in text


def test_nobody_else_is_told_and_tantivy_never_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_advice, "WHOOSH_ENOUGH_POSTS", 1)
    assert "For admins" not in help_for(tmp_path / "bob", BOB, "whoosh")
    assert "For admins" not in help_for(tmp_path / "alice", ALICE, "tantivy")
    assert "/whoknows" in help_for(tmp_path / "again", BOB, "whoosh")

"""The bot with StoreUrl=postgresql://..., against the real Mattermost and the local PostgreSQL: what people post,
edit and delete is in the PostgreSQL store (no SQLite file in the data folder), private evidence stays with members,
and a data folder lost while the bot was stopped is indexed again from the store."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import psycopg

from .bootstrap import Workspace
from .botfixture import call, card_text, running_bot, secret_edited_deleted, slash, until


async def test_bot_on_a_postgresql_store_keeps_its_posts_there_and_survives_a_lost_data_folder(
        workspace: Workspace, store_url: str, tmp_path: Path) -> None:
    env = {"WHOKNOWS_STORE_URL": store_url}
    topic, other, gone = (f"zq{uuid.uuid4().hex[:8]}" for _ in range(3))
    public = workspace.public_channel.id
    async with running_bot(workspace, tmp_path, **env) as rt:
        secret, edited, deleted = await secret_edited_deleted(workspace, rt, topic, other, gone)
        assert "alice" in card_text(await slash(workspace, "bob", public, topic))
        assert "budget" not in card_text(await slash(workspace, "carol", public, topic)), "carol cannot read the private channel"
        assert (await call(workspace, "dave", "PUT", f"/posts/{edited['id']}/patch", {"message": "I run the tracing stack"})).status_code == 200
        assert (await call(workspace, "carol", "DELETE", f"/posts/{deleted['id']}")).status_code == 200
        await until(rt, lambda: not rt.store.conversation.has_post(deleted["id"]))
        await rt.drained()

    assert not list(tmp_path.glob("*.sqlite")), "with StoreUrl no store file is written to the data folder"
    with psycopg.connect(store_url) as db:
        rows: dict[str, str] = dict(db.execute("SELECT post_id, message FROM posts WHERE post_id = ANY(%s)",
                               ([p["id"] for p in (secret, edited, deleted)],)).fetchall())
    assert rows == {secret["id"]: secret["message"], edited["id"]: "I run the tracing stack"}

    shutil.rmtree(tmp_path)  # the data folder is lost (a new machine, a wiped disk); the store is not
    tmp_path.mkdir()
    async with running_bot(workspace, tmp_path, **env):
        assert "alice" in card_text(await slash(workspace, "bob", public, topic)), "the index is made again from the store"
        assert "dave" not in card_text(await slash(workspace, "bob", public, other)), "the edit held"
        assert "carol" not in card_text(await slash(workspace, "bob", public, gone)), "the deletion held"

"""Bot mode and teams (issue 12, 6b), against the real server: a team where the bot may not register its command is
skipped with a warning, never a failed start; a team the bot joins while running gets the command and its channels
are indexed without a restart."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from .bootstrap import Api, Workspace
from .botfixture import call, card_text, post, running_bot, until


def name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


async def test_a_team_without_rights_is_skipped_and_a_team_joined_later_works(
    workspace: Workspace, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="whoknows.registration")
    bot, topic, teams = workspace.bot, f"zq{uuid.uuid4().hex[:8]}", []
    with Api(workspace.url, workspace.admin.token) as admin:
        plain = admin.post("/teams", {"name": name(), "display_name": "no rights here", "type": "I"})
        teams.append(plain["id"])
        admin.post(f"/teams/{plain['id']}/members", {"team_id": plain["id"], "user_id": bot.id})  # a plain member
        try:
            async with running_bot(workspace, tmp_path) as rt:
                assert "skipping team no rights here" in caplog.text or any(
                    "skipping team" in r.getMessage() for r in caplog.records)
                assert rt.state.command_token(plain["id"]) is None and rt.state.command_token(workspace.team_id)

                # The bot makes a team itself (so it administers it) while running: the websocket says it joined.
                with Api(workspace.url, bot.token) as as_bot:
                    later = as_bot.post("/teams", {"name": name(), "display_name": "joined later", "type": "I"})
                teams.append(later["id"])
                await until(rt, lambda: later["id"] in rt.presence.teams and rt.state.command_token(later["id"]) is not None)
                town = admin.get(f"/teams/{later['id']}/channels/name/town-square")["id"]
                await until(rt, lambda: town in rt.indexed)
                for who in ("alice", "dave"):
                    admin.post(f"/teams/{later['id']}/members", {"team_id": later["id"], "user_id": workspace.users[who].id})
                created = await post(workspace, "dave", town, f"the {topic} runbook lives in the wiki")
                await until(rt, lambda: rt.store.conversation.has_post(created["id"]))
                answer = await call(workspace, "alice", "POST", "/commands/execute", {"channel_id": town, "command": f"/whoknows {topic}"})
                assert answer.status_code == 200, answer.text
                assert "dave" in card_text(answer.json())
        finally:
            for team_id in teams:
                admin.request("DELETE", f"/teams/{team_id}/members/{bot.id}")
                admin.request("DELETE", f"/teams/{team_id}")


async def test_a_missing_allow_list_entry_is_reported_at_start(workspace: Workspace, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 12, 6c: without the AllowedUntrustedInternalConnections entry people only see "Command with a trigger of
    'whoknows' failed"; the bot runs its own command once at start and says what to fix."""
    caplog.set_level(logging.INFO, logger="whoknows.registration")
    async with running_bot(workspace, tmp_path / "allowed") as rt:
        assert rt.reachable is True
    with Api(workspace.url, workspace.admin.token) as admin:
        patch = {"ServiceSettings": {"AllowedUntrustedInternalConnections": ""}}
        assert admin.request("PUT", "/config/patch", patch).status_code == 200
        try:
            async with running_bot(workspace, tmp_path / "blocked") as rt:
                assert rt.reachable is False
        finally:
            restore = {"ServiceSettings": {"AllowedUntrustedInternalConnections": "127.0.0.1 localhost"}}
            assert admin.request("PUT", "/config/patch", restore).status_code == 200
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Allow untrusted internal connections" in m and "AllowedUntrustedInternalConnections" in m for m in warned), warned

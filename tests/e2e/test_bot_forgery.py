"""Bot mode's slash-command hole (issue 12, 6a), against the real server: a team admin of a team they created adds the
bot, reads that team's command token, and sends it with another person's user_id. The token only proves which team's
command was called, so such a request must never show what that person can read and the token's owner cannot."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .bootstrap import Api, Workspace
from .botfixture import call, card_text, post, running_bot, slash, until


@pytest.fixture
def daves_team(workspace: Workspace) -> Iterator[dict[str, Any]]:
    """A team dave administers, with the bot in it (allowed to register its command there)."""
    dave, bot = workspace.users["dave"], workspace.bot
    with Api(workspace.url, workspace.admin.token) as admin:
        team: dict[str, Any] = admin.post("/teams", {"name": f"d{uuid.uuid4().hex[:10]}", "display_name": "dave's team", "type": "I"})
        admin.post(f"/teams/{team['id']}/members/batch", [{"team_id": team["id"], "user_id": u} for u in (dave.id, bot.id)])
        for user in (dave.id, bot.id):
            admin.call("PUT", f"/teams/{team['id']}/members/{user}/roles", {"roles": "team_user team_admin"})
        try:
            yield team
        finally:
            admin.request("DELETE", f"/teams/{team['id']}/members/{bot.id}")
            admin.request("DELETE", f"/teams/{team['id']}")


async def test_a_forged_command_with_another_teams_token_shows_nothing_private(
    workspace: Workspace, daves_team: dict[str, Any], tmp_path: Path
) -> None:
    topic = f"zq{uuid.uuid4().hex[:8]}"
    alice, team_id = workspace.users["alice"], daves_team["id"]
    async with running_bot(workspace, tmp_path) as rt:
        hidden = await post(workspace, "bob", workspace.private_channel.id, f"the {topic} budget is frozen until May")
        await until(rt, lambda: rt.store.conversation.has_post(hidden["id"]))
        assert "bob" in card_text(await slash(workspace, "alice", workspace.public_channel.id, f"{topic} budget"))

        # dave, as his team's admin, can read the command's token there: that is all a forger needs.
        listed = await call(workspace, "dave", "GET", f"/commands?team_id={team_id}&custom_only=true")
        assert listed.status_code == 200, listed.text
        token = next(c["token"] for c in listed.json() if c["trigger"] == "whoknows")
        town = (await call(workspace, "dave", "GET", f"/teams/{team_id}/channels/name/town-square")).json()["id"]
        forged = {"token": token, "command": "/whoknows", "text": f"{topic} budget", "user_id": alice.id}
        url = f"http://127.0.0.1:{rt.http_port}/command"
        async with httpx.AsyncClient(timeout=30) as c:
            not_a_member = await c.post(url, data={**forged, "team_id": team_id, "channel_id": town})
            wrong_team = await c.post(url, data={**forged, "team_id": workspace.team_id, "channel_id": workspace.public_channel.id})
            with Api(workspace.url, workspace.admin.token) as admin:  # dave adds alice to his team
                admin.post(f"/teams/{team_id}/members", {"team_id": team_id, "user_id": alice.id})
            rt.readable.forget()
            as_member = await c.post(url, data={**forged, "team_id": team_id, "channel_id": town})
            into_team_a = await c.post(url, data={**forged, "team_id": team_id, "channel_id": workspace.public_channel.id})
        secret = "frozen until May"
        assert not_a_member.status_code == 403 and secret not in not_a_member.text
        assert wrong_team.status_code == 401
        assert as_member.status_code == 200 and secret not in as_member.text and "(bob)" not in card_text(as_member.json())
        assert "Nobody yet" in card_text(as_member.json())
        assert into_team_a.status_code == 403 and secret not in into_team_a.text
        # alice herself, through Mattermost on her own team, still gets her card.
        assert "bob" in card_text(await slash(workspace, "alice", workspace.public_channel.id, f"{topic} budget"))

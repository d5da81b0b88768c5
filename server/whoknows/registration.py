"""The slash command, registered (created or updated) by the bot on every team at start-up; its token is
kept in the service state and checked on every request."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import messages
from .adapters.mattermost_rest import MattermostError
from .errors import StartupError

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger("whoknows.registration")


async def register_commands(rt: Runtime) -> None:
    trigger = rt.settings.command_trigger
    url = rt.settings.callback(rt.http_port) + "/command"
    for team_id, team_name in rt.teams.items():
        wanted: dict[str, Any] = {
            "team_id": team_id,
            "trigger": trigger,
            "method": "P",
            "url": url,
            "display_name": "whoknows",
            "description": "Who knows about X? From the conversation your team already has.",
            "auto_complete": True,
            "auto_complete_desc": "Find the people who know about a topic",
            "auto_complete_hint": "<topic or question> | @someone | me | optout | optin | channel on|off | help",
        }
        try:
            existing = [c for c in await rt.rest.commands(team_id) if c.get("trigger") == trigger and c.get("creator_id") == rt.bot_id]
            if existing:
                command = await rt.rest.update_command({**existing[0], **wanted})
            else:
                command = await rt.rest.create_command(wanted)
        except MattermostError as error:
            raise StartupError(messages.cannot_register_command(team_name, f"HTTP {error.status}")) from None
        rt.state.save_command(team_id, command["id"], command["token"])
        log.info("/%s registered on team %s, calling %s", trigger, team_name, url)

"""The slash command, registered (created or updated) by the bot on every team at start-up and on each team it joins
later; its token is kept in the service state and checked on every request. A team where the bot may not manage
commands is skipped with a warning that says what to do: the other teams still work."""

from __future__ import annotations

import logging
from typing import Any

from .. import messages
from ..adapters.mattermost_rest import MattermostError, MattermostRest
from ..app.commands import autocomplete_hint
from ..app.ports import Presence
from ..app.settings import Settings
from ..storage.state import ServiceState

log = logging.getLogger("whoknows.registration")


async def register_commands(rest: MattermostRest, state: ServiceState, settings: Settings, presence: Presence) -> int:
    """Registers on every team; returns on how many it worked."""
    done = 0
    for team_id, team_name in presence.teams.items():
        done += await register_team(rest, state, settings, presence, team_id, team_name)
    return done


async def register_team(rest: MattermostRest, state: ServiceState, settings: Settings, presence: Presence, team_id: str,
                        team_name: str) -> bool:
    trigger = settings.command_trigger
    url = presence.callback_url + "/command"
    wanted: dict[str, Any] = {
        "team_id": team_id,
        "trigger": trigger,
        "method": "P",
        "url": url,
        "display_name": "whoknows",
        "description": messages.COMMAND_DESCRIPTION,
        "auto_complete": True,
        "auto_complete_desc": messages.COMMAND_AUTOCOMPLETE,
        "auto_complete_hint": autocomplete_hint(),
    }
    try:
        existing = [c for c in await rest.commands(team_id) if c.get("trigger") == trigger and c.get("creator_id") == presence.bot_id]
        if existing:
            command = await rest.update_command({**existing[0], **wanted})
        else:
            command = await rest.create_command(wanted)
    except MattermostError as error:
        log.warning("skipping team %s: %s", team_name, messages.cannot_register_command(team_name, f"HTTP {error.status}"))
        return False
    state.save_command(team_id, command["id"], command["token"])
    log.info("/%s registered on team %s, calling %s", trigger, team_name, url)
    return True


async def check_reachable(rest: MattermostRest, settings: Settings, presence: Presence, channel_id: str) -> bool:
    """Runs the bot's own command once through Mattermost: a missing allow-list entry (or a callback URL the server
    cannot reach) shows up here, at start, instead of as "Command ... failed" for the first person who tries."""
    try:
        await rest.call("POST", "/commands/execute", {"channel_id": channel_id, "command": f"/{settings.command_trigger} help"})
    except MattermostError as error:
        if error.status == 500:  # what Mattermost answers when it cannot call the command's URL
            log.warning("%s", messages.command_unreachable(settings.command_trigger, presence.callback_url + "/command"))
            return False
        log.info("could not check /%s from ~%s (HTTP %s)", settings.command_trigger, channel_id, error.status)
    return True

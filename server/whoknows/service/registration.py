"""The slash command, registered (created or updated) by the bot on every team at start-up and on each team it joins
later; its token is kept in the service state and checked on every request. A team where the bot may not manage
commands is skipped with a warning that says what to do: the other teams still work. When the bot cannot listen on its
port because another program holds it, the commands an earlier run registered to call that port are deleted (people
would reach that program, with the command's token and their text); another whoknows there keeps its command."""

from __future__ import annotations

import logging
from typing import Any

from .. import messages
from ..adapters.http import held_by_whoknows
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


async def withdraw_commands(rest: MattermostRest, settings: Settings, url: str) -> str:
    """The port behind `url` is held by another program: deletes the bot's commands that call it (they are made again at
    the next start). Returns the end of the one-line error, saying what became of the command."""
    trigger = settings.command_trigger
    if await held_by_whoknows(url):
        return messages.command_left_to_other(trigger)
    try:
        bot_id = (await rest.me())["id"]
        withdrawn = 0
        for team in await rest.my_teams():
            for command in await rest.commands(team["id"]):
                if command.get("trigger") == trigger and command.get("creator_id") == bot_id and command.get("url") == url:
                    await rest.delete_command(command["id"])
                    withdrawn += 1
    except MattermostError as error:
        return messages.command_maybe_stale(trigger, f"HTTP {error.status}")
    except Exception as error:  # unreachable (the client's own errors are not OSError): the error line says so
        return messages.command_maybe_stale(trigger, type(error).__name__)
    return messages.command_withdrawn(trigger, withdrawn)

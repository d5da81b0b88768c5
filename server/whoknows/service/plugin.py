"""Plugin mode: what the Go plugin's calls mean (server/plugin/LINK.md), handed to the `/plugin/v1` routes.

Events from the hooks enter the same path as the websocket's frames (`LiveEvents.ingest`); `/whoknows` and buttons
call the same use cases as bot mode; the configuration pushed from the System Console becomes new `Settings`, checked
by the same `settings.load`. Hooks are fire-and-forget and there are none for channel renames, profile edits or new
teams, so a catch-up (teams, channels, people, then every indexed channel's changes since its checkpoint) runs after
every configuration push (the plugin was (re)activated or the server restarted), every `CATCH_UP_S`, and as soon as
the events' numbers show one was missed. Live events move the checkpoints only while their numbers follow each other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ..adapters import mattermost_events as mme
from ..adapters.mattermost_events import Decoded
from ..adapters.mattermost_rest import MattermostError
from ..adapters.plugin_http import PluginEndpoints
from ..adapters.plugin_link import BadPayload, Numbered, PluginCommand, PluginConfig, decode_config, setting_texts
from ..adapters.mattermost_rest import MattermostRest
from ..app import buttons, commands
from ..app.access import ReadableChannels
from ..app.ports import Presence, Services
from ..app.settings import NOT_LIVE, Settings, env_name, load
from ..errors import StartupError
from .live import LiveEvents
from .writer import Writer

log = logging.getLogger("whoknows.plugin")

CATCH_UP_S = 300.0
"""How often plugin mode reads what no hook reports (renames, profile edits, teams) and any event that was dropped."""
USERS_PER_CALL = 100


def console_sources(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Each setting's key -> how an admin finds it: the System Console's label."""
    return {s["key"]: f'the System Console, "{s.get("display_name") or s["key"]}"' for s in manifest["settings_schema"]["settings"]}


class Host(Protocol):
    """The parts of the runtime plugin mode drives (service.runtime.Runtime)."""

    settings: Settings
    presence: Presence
    rest: MattermostRest
    readable: ReadableChannels
    writer: Writer
    live: LiveEvents
    services: Services

    def use_cases(self) -> commands.UseCases: ...

    def apply_settings(self, settings: Settings) -> None: ...


class PluginLink:
    def __init__(self, runtime: Host, manifest: Mapping[str, Any], env: Mapping[str, str]) -> None:
        self.runtime = runtime
        self.manifest = manifest
        self.env = dict(env)
        self.plugin_id = str(manifest.get("id") or "whoknows")
        self.catch_up_s = CATCH_UP_S
        self.configured = 0
        """How many configurations the plugin pushed (tests wait on it)."""
        self.caught_up = 0
        """How many catch-ups finished (tests wait on it)."""
        self.gaps = 0
        """How often the events' numbers showed missed events (for the log and the tests)."""
        self._last: Numbered | None = None
        self._wake = asyncio.Event()

    @property
    def actions_url(self) -> str:
        """Relative: the server calls the plugin in-process with the clicker's session (LINK.md, Buttons)."""
        return f"/plugins/{self.plugin_id}/actions"

    def endpoints(self) -> PluginEndpoints:
        rt = self.runtime
        return PluginEndpoints(secret=rt.settings.plugin_secret, bot_id=lambda: rt.presence.bot_id,
                               table=lambda: commands.autocomplete(rt.settings.command_trigger), config=self.configure,
                               check=self.check, events=self.events, command=self.command,
                               action=lambda body: buttons.action(rt.services, body))

    # -- configuration --------------------------------------------------------------------------------

    def settings_from(self, settings: Mapping[str, Any], site_url: str = "") -> Settings:
        """The settings the plugin sent, over the service's environment; StartupError names the console setting."""
        current = self.runtime.settings
        texts = {env_name(k): v for k, v in setting_texts(settings).items() if k not in NOT_LIVE}
        new = load(self.manifest, {**self.env, **texts}, console_sources(self.manifest))
        return dataclasses.replace(new, http_host=current.http_host, http_port=current.http_port, callback_url=current.callback_url,
                                   join_public_channels=False, site_url=site_url or current.site_url)

    def check(self, settings: Mapping[str, Any]) -> str | None:
        try:
            self.settings_from(settings)
        except StartupError as error:
            return str(error)
        return None

    async def fetch_config(self) -> None:
        """At start: the System Console's settings as the plugin holds them (a service that restarts on its own, or
        one started by hand for ServiceURL, gets no push until the configuration changes)."""
        try:
            cfg = decode_config(await self.runtime.rest.plugin_config())
        except (MattermostError, OSError, ValueError) as error:
            log.warning("cannot read the plugin's configuration (%s); using the environment's settings", type(error).__name__)
            return
        if isinstance(cfg, BadPayload):
            log.warning("the plugin's configuration is unusable (%s); using the environment's settings", cfg.reason)
            return
        await self.configure(cfg, catch_up=False)

    async def configure(self, cfg: PluginConfig, *, catch_up: bool = True) -> None:
        try:
            new = self.settings_from(cfg.settings, cfg.site_url)
        except StartupError as error:
            log.error("the plugin's configuration is refused, keeping the current one: %s", error)
            return
        rt = self.runtime
        if new.index_engine != rt.settings.index_engine:
            log.warning("the search engine changes to %s at the next start of the service", new.index_engine)
            new = dataclasses.replace(new, index_engine=rt.settings.index_engine)
        if new.index_server() != rt.settings.index_server():  # the index was opened in the server of the start
            log.warning("the OpenSearch settings change at the next start of the service")
            old = rt.settings
            new = dataclasses.replace(new, open_search_url=old.open_search_url, open_search_user=old.open_search_user,
                                      open_search_password=old.open_search_password,
                                      open_search_index_prefix=old.open_search_index_prefix,
                                      open_search_verify_tls=old.open_search_verify_tls)
        if new.store_url != rt.settings.store_url:  # the store was opened at the start
            log.warning("the store (StoreUrl) changes at the next start of the service")
            new = dataclasses.replace(new, store_url=rt.settings.store_url)
        changed = sorted(f.name for f in dataclasses.fields(new) if getattr(new, f.name) != getattr(rt.settings, f.name))
        rt.apply_settings(new)
        log.info("the plugin's configuration (plugin %s) is applied; changed: %s", cfg.plugin_version, ", ".join(changed) or "nothing")
        for channel in list(rt.presence.channels.values()):  # the allow/deny lists may have changed
            await rt.live.learn_channel(channel)
        self.configured += 1
        if catch_up:  # (re)activated, or the server restarted: events may have been dropped meanwhile
            rt.live.lost()
            self._wake.set()

    # -- events and commands --------------------------------------------------------------------------

    async def events(self, decoded: Sequence[Decoded | Numbered]) -> None:
        numbered = False
        for item in decoded:
            if isinstance(item, Numbered):
                self._follow(item)
                numbered = True
            elif isinstance(item, mme.Heard) and not numbered:
                continue  # a plugin that does not number its events: a missed one could not be told, so never trusted
            else:
                await self.runtime.live.ingest(item)

    def _follow(self, item: Numbered) -> None:
        """A number that does not follow the last one (or a new activation): some events were missed."""
        last, self._last = self._last, item
        if last is None or (item.boot == last.boot and item.seq == last.seq + 1):
            return  # the first one this run (what came before it is in the history the start reads after listening)
        self.gaps += 1
        log.info("events %s-%d missed before %d; catching up", last.boot, last.seq, item.seq)
        self.runtime.live.lost()
        self._wake.set()

    async def command(self, cmd: PluginCommand) -> dict[str, Any]:
        log.debug("a command from the plugin, by %s", cmd.user_id)
        words = cmd.text.strip().split(None, 1)
        text = words[1] if len(words) > 1 else ""
        return await commands.command(self.runtime.use_cases(), {"text": text, "user_id": cmd.user_id, "channel_id": cmd.channel_id})

    # -- catch-up -------------------------------------------------------------------------------------

    async def run(self) -> None:
        """After the first backfill: a catch-up at each configuration push and every catch_up_s."""
        await self.runtime.presence.backfilled.wait()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.catch_up_s)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.catch_up()
            except Exception:
                log.exception("error %s: the catch-up stopped; it runs again later", uuid.uuid4().hex[:8])

    async def catch_up(self) -> None:
        rt, p = self.runtime, self.runtime.presence
        teams = await rt.rest.my_teams()
        p.teams.clear()
        p.teams.update({t["id"]: t["name"] for t in teams})
        await rt.writer.submit([mme.decode_team(t) for t in teams])
        before = set(p.indexed)
        heard = await rt.live.discover_channels()
        for cid in [c for c in p.channels if c not in heard]:  # left, deleted, or private now without the bot
            p.indexed.discard(cid)
            rt.live.follows.pop(cid, None)
        rt.readable.forget()
        await self._refresh_people()
        for cid in sorted(p.indexed):
            await rt.live.backfill_one(cid)
        await rt.writer.drained()
        self.caught_up += 1
        log.info("caught up: %d team(s), %d channel(s) indexed (%d new)", len(p.teams), len(p.indexed), len(p.indexed - before))

    async def _refresh_people(self) -> None:
        rt = self.runtime
        known = sorted(rt.writer.known_users)
        for start in range(0, len(known), USERS_PER_CALL):
            try:
                users = await rt.rest.users(known[start:start + USERS_PER_CALL])
            except MattermostError:
                log.exception("cannot refresh %d people's profiles", len(known[start:start + USERS_PER_CALL]))
                continue
            await rt.writer.submit([mme.decode_user(u) for u in users])


__all__ = ["CATCH_UP_S", "Host", "PluginLink", "console_sources"]

"""The bot's configuration: plugin.json's settings schema (defaults and help) overridden by WHOKNOWS_* variables.

Pure: `load` takes the manifest and the environment as values, so every rule is unit-tested without a process.
Secrets (the bot token) come only from the environment, never from a file in the repository.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, cast

from .. import messages
from ..core.index import ENGINES, IndexServer
from ..core.schedule import parse_schedule
from ..errors import StartupError
from ..storage.postgres import SCHEMES as STORE_SCHEMES

IndexPolicy = Literal["all", "allowlist", "denylist"]
SuggestionMode = Literal["thread", "ephemeral"]
Mode = Literal["bot", "plugin"]
ENV_PREFIX = "WHOKNOWS_"
NOT_LIVE = frozenset({"HttpHost", "HttpPort", "CallbackUrl", "JoinPublicChannels", "ServiceCommand", "ServiceURL", "ServiceSecret"})
"""Settings the plugin's configuration does not change in a running service (its own link, the listener)."""
_AT_LEAST_ONE = {"CardPeople": 1, "BatchEvents": 1}
"""Numbers where 0 would make the bot useless (a card of nobody, batches of nothing)."""


def manifest_path() -> Path:
    return Path(__file__).resolve().parents[3] / "plugin.json"


@dataclass(frozen=True, slots=True)
class Settings:
    mattermost_url: str
    bot_token: str = dataclasses.field(repr=False)
    http_host: str
    http_port: int
    callback_url: str
    command_trigger: str
    index_channels: IndexPolicy
    channel_list: tuple[str, ...]
    join_public_channels: bool
    opted_out_by_default: bool
    card_people: int
    readable_cache_seconds: float
    action_ttl_hours: float
    batch_events: int
    batch_milliseconds: int
    suggestions: bool
    suggestion_mode: SuggestionMode
    suggestion_min_confidence: float
    suggestion_channel_minutes: float
    suggestion_person_minutes: float
    high_traffic_posts_per_day: int
    learning_emoji: str
    digest_schedule: str
    on_demand_digest_minutes: float
    """`/whoknows digest` posts at most one digest per channel in this many minutes (channel admins: any time)."""
    index_engine: str
    """One of core.index.ENGINES (the registry), checked at load."""
    mode: Mode = "bot"
    """bot: a bot account over REST and the websocket; plugin: behind the Go plugin (server/plugin/LINK.md)."""
    plugin_url: str = ""
    """plugin mode: the plugin's routes, e.g. http://127.0.0.1:8065/plugins/whoknows."""
    plugin_secret: str = dataclasses.field(default="", repr=False)
    """plugin mode: the secret shared with the plugin (both directions)."""
    site_url: str = ""
    """Where people open Mattermost (permalinks in cards); bot mode: the Mattermost URL."""
    open_search_url: str = ""
    """The OpenSearch engine's server (OpenSearchUrl; WHOKNOWS_OPEN_SEARCH_URL), and below its credentials and prefix."""
    open_search_user: str = ""
    open_search_password: str = dataclasses.field(default="", repr=False)
    open_search_index_prefix: str = "whoknows"
    open_search_verify_tls: bool = True
    store_url: str = dataclasses.field(default="", repr=False)
    """The PostgreSQL store (StoreUrl; WHOKNOWS_STORE_URL), its password in it; empty: SQLite files in the data folder."""

    def index_server(self) -> IndexServer | None:
        """Where the OpenSearch engine keeps its index; None when no server is set."""
        if not self.open_search_url:
            return None
        return IndexServer(self.open_search_url, self.open_search_user, self.open_search_password,
                           self.open_search_index_prefix, self.open_search_verify_tls)

    def callback(self, bound_port: int) -> str:
        """Where Mattermost reaches us; the default follows the port actually bound (0 picks one)."""
        return self.callback_url or f"http://127.0.0.1:{bound_port}"

    def indexes(self, channel_id: str, channel_name: str) -> bool:
        """Whether the channel's posts are indexed under the allow/deny policy."""
        listed = channel_id in self.channel_list or channel_name in self.channel_list
        if self.index_channels == "allowlist":
            return listed
        if self.index_channels == "denylist":
            return not listed
        return True


def env_name(key: str) -> str:
    """HttpPort -> WHOKNOWS_HTTP_PORT."""
    return ENV_PREFIX + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).upper()



def _field_name(key: str) -> str:
    return env_name(key)[len(ENV_PREFIX):].lower()


def _parse(spec: Mapping[str, Any], raw: object, source: str) -> object:
    key, kind = spec["key"], spec.get("type", "text")
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise StartupError(messages.bad_setting(key, source, "true or false"))
    if kind == "number":
        whole = any(f.name == _field_name(key) and f.type in ("int", int) for f in fields(Settings))
        least = _AT_LEAST_ONE.get(key, 0)
        wanted = f"a {'whole ' if whole else ''}number of at least {least}"
        try:
            value = float(str(raw).strip())
        except ValueError:
            raise StartupError(messages.bad_setting(key, source, wanted)) from None
        if not math.isfinite(value) or value < least or (whole and not value.is_integer()):
            raise StartupError(messages.bad_setting(key, source, wanted))
        return int(value) if whole else value
    text = str(raw).strip()
    options = [o["value"] for o in spec.get("options", [])]
    if options and text not in options:
        raise StartupError(messages.bad_setting(key, source, " or ".join(options)))
    return text


def load(manifest: Mapping[str, Any], env: Mapping[str, str], sources: Mapping[str, str] | None = None) -> Settings:
    """Validated settings; a missing or bad value raises StartupError naming it. `sources` names where a key's value
    came from (key -> text, e.g. the System Console's label) instead of its environment variable."""
    values: dict[str, object] = {}
    named = dict(sources or {})

    def source(key: str) -> str:
        return named.get(key) or env_name(key)

    for spec in manifest["settings_schema"]["settings"]:
        name = env_name(spec["key"])
        if name in env:
            values[_field_name(spec["key"])] = _parse(spec, env[name], source(spec["key"]))
        else:
            values[_field_name(spec["key"])] = _parse(spec, spec.get("default", ""), f"plugin.json {spec['key']}")
    mode = env.get("WHOKNOWS_MODE", "bot").strip().lower() or "bot"
    if mode not in ("bot", "plugin"):
        raise StartupError(messages.bad_setting("WHOKNOWS_MODE", "the environment", "bot or plugin"))
    values["mode"] = mode
    values["plugin_url"] = env.get("WHOKNOWS_PLUGIN_URL", "").strip().rstrip("/")
    values["plugin_secret"] = env.get("WHOKNOWS_PLUGIN_SECRET", "").strip()
    if mode == "plugin":
        for name in ("WHOKNOWS_PLUGIN_URL", "WHOKNOWS_PLUGIN_SECRET"):
            if not env.get(name, "").strip():
                raise StartupError(messages.missing_setting(name))
        if not re.match(r"^https?://[^/\s]+", str(values["plugin_url"])):
            raise StartupError(messages.bad_setting("WHOKNOWS_PLUGIN_URL", "the environment", "an http(s) URL"))
        values["join_public_channels"] = False  # the bot joins no channel: the plugin hears every public channel
        # The plugin serves the REST subset the service uses under {plugin}/service, behind the secret.
        env = {"WHOKNOWS_MATTERMOST_URL": f"{values['plugin_url']}/service", "WHOKNOWS_BOT_TOKEN": str(values["plugin_secret"]), **env}
    for name in ("WHOKNOWS_MATTERMOST_URL", "WHOKNOWS_BOT_TOKEN"):
        if not env.get(name, "").strip():
            raise StartupError(messages.missing_setting(name))
    url = env["WHOKNOWS_MATTERMOST_URL"].strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise StartupError(messages.bad_setting("WHOKNOWS_MATTERMOST_URL", "the environment", "an http(s) URL"))
    values["mattermost_url"] = url
    values["bot_token"] = env["WHOKNOWS_BOT_TOKEN"].strip()
    values["site_url"] = env.get("WHOKNOWS_SITE_URL", "").strip().rstrip("/") or (url if mode == "bot" else "")
    values["channel_list"] = tuple(x.strip().lstrip("~") for x in str(values.get("channel_list", "")).split(",") if x.strip())
    values["callback_url"] = str(values.get("callback_url", "")).rstrip("/")
    port = values.get("http_port")
    if not isinstance(port, int) or port > 65535:
        raise StartupError(messages.bad_setting("HttpPort", source("HttpPort"), "a port number (0-65535)"))
    confidence = values.get("suggestion_min_confidence")
    if not isinstance(confidence, (int, float)) or confidence > 1:
        raise StartupError(messages.bad_setting("SuggestionMinConfidence", source("SuggestionMinConfidence"), "a number from 0 to 1"))
    host = str(values.get("http_host", ""))
    if not host or any(c.isspace() for c in host):
        raise StartupError(messages.bad_setting("HttpHost", source("HttpHost"), "an address to listen on, such as 127.0.0.1"))
    if values["callback_url"] and not re.match(r"^https?://[^/\s]+\S*$", str(values["callback_url"])):
        raise StartupError(messages.bad_setting("CallbackUrl", source("CallbackUrl"), "empty or an http(s) URL"))
    emoji = values["learning_emoji"] = str(values.get("learning_emoji", "")).strip(": ").lower()
    if not re.match(r"^[a-z0-9_+-]{1,64}$", emoji):
        raise StartupError(messages.bad_setting("LearningEmoji", source("LearningEmoji"), "an emoji name such as bulb"))
    try:
        parse_schedule(str(values.get("digest_schedule", "")))
    except ValueError:
        raise StartupError(messages.bad_setting("DigestSchedule", source("DigestSchedule"), "weekly:MON:09:00, daily:09:00 or off")) from None
    if not str(values.get("command_trigger", "")).isidentifier():
        raise StartupError(messages.bad_setting("CommandTrigger", source("CommandTrigger"), "one word"))
    if values.get("index_engine") not in ENGINES:
        raise StartupError(messages.bad_setting("IndexEngine", source("IndexEngine"), " or ".join(ENGINES)))
    values["open_search_url"] = search_url = str(values.get("open_search_url", "")).strip().rstrip("/")
    if search_url and not re.match(r"^https?://[^/\s]+\S*$", search_url):
        raise StartupError(messages.bad_setting("OpenSearchUrl", source("OpenSearchUrl"), "an http(s) URL"))
    if values["index_engine"] == "opensearch" and not search_url:
        raise StartupError(messages.bad_setting("OpenSearchUrl", source("OpenSearchUrl"), "an OpenSearch server's URL with IndexEngine opensearch"))
    search_user = values["open_search_user"] = str(values.get("open_search_user", "")).strip()
    if ":" in search_user or any(not c.isprintable() for c in search_user):
        raise StartupError(messages.bad_setting("OpenSearchUser", source("OpenSearchUser"), "a user name without : or control characters"))
    prefix = values["open_search_index_prefix"] = str(values.get("open_search_index_prefix", "")).strip()
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,63}$", prefix):
        raise StartupError(messages.bad_setting("OpenSearchIndexPrefix", source("OpenSearchIndexPrefix"),
                                                "1-64 lowercase letters, digits, - or _ (not first)"))
    store_url = values["store_url"] = str(values.get("store_url", "")).strip()
    if store_url and not store_url.startswith(STORE_SCHEMES):
        raise StartupError(messages.bad_setting("StoreUrl", source("StoreUrl"), "empty (SQLite in the data folder) or a postgresql:// URL"))
    known = {f.name for f in fields(Settings)}
    missing = known - set(values)
    if missing:
        raise StartupError(messages.missing_setting(", ".join(sorted(missing))))
    return Settings(**cast(dict[str, Any], {k: v for k, v in values.items() if k in known}))


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise StartupError(messages.bad_manifest(path, error)) from None
    return manifest


def load_from(path: Path, env: Mapping[str, str]) -> Settings:
    return load(read_manifest(path), env)

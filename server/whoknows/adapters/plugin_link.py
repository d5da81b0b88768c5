"""The Go plugin's side of the link decoded: hook payloads into core events, the shared secret checked. Pure.

The plugin POSTs one JSON object per hook to `/plugin/v1/events` (server/plugin/LINK.md): a `kind`, the Mattermost
model object as the server serialises it, and the channel's type. Each payload is turned into the websocket frame that
carries the same object and decoded by `mattermost_events`, so plugin mode and bot mode make the same events by the same
rules (one event path). Direct and group messages are dropped here too, although the plugin already never sends them.
Malformed input gives a `BadPayload`, never an exception.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .mattermost_events import Decoded, decode_channel, decode_event, decode_user

SECRET_HEADER = "X-Whoknows-Secret"
USER_HEADER = "X-Whoknows-User-Id"
KINDS = ("posted", "edited", "deleted", "reaction_added", "reaction_removed", "member_added", "member_removed", "channel", "user")
_NOT_INDEXED = frozenset({"D", "G"})
# kind -> (the websocket event carrying the same object, the payload field holding it)
_FRAMES = {
    "posted": ("posted", "post"),
    "edited": ("post_edited", "post"),
    "deleted": ("post_deleted", "post"),
    "reaction_added": ("reaction_added", "reaction"),
    "reaction_removed": ("reaction_removed", "reaction"),
}


@dataclass(frozen=True, slots=True)
class Numbered:
    """Which event of the plugin's stream this is (LINK.md, Events): `seq` counts from 1 within one `boot`, so a number
    that does not follow the last one seen means events were missed."""

    boot: str
    seq: int


@dataclass(frozen=True, slots=True)
class BadPayload:
    """A request body the plugin would never send; the reason is for the log (answer 400)."""

    reason: str


@dataclass(frozen=True, slots=True)
class PluginCommand:
    """`/whoknows ...` as the plugin forwards it: the caller's id is the server's (CommandArgs), never from the text."""

    user_id: str
    channel_id: str
    team_id: str
    root_id: str
    text: str
    trigger_id: str = ""


@dataclass(frozen=True, slots=True)
class PluginConfig:
    """The configuration the plugin hands over at activation and on every change (POST /plugin/v1/config)."""

    settings: Mapping[str, Any]
    plugin_url: str
    site_url: str
    bot_user_id: str
    bot_username: str
    plugin_version: str


def verify_secret(expected: str, given: str | None) -> bool:
    """Whether a request carries the shared secret; compared in constant time, and an empty secret admits no one."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


def _object(body: bytes | str | Mapping[str, Any]) -> dict[str, Any] | BadPayload:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return BadPayload("the body is not JSON")
    if not isinstance(value, dict):
        return BadPayload("the body is not a JSON object")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def decode_payload(body: bytes | str | Mapping[str, Any], bot_id: str) -> list[Decoded | Numbered] | BadPayload:
    """One hook payload -> what it means for whoknows: its number first (when the plugin sent one), then the events (and
    notes) the websocket decoder makes of the same object; none for what is not indexed (a direct or group message, a
    system message, a bot's post)."""
    payload = _object(body)
    if isinstance(payload, BadPayload):
        return payload
    decoded = _decode(payload, bot_id)
    if isinstance(decoded, BadPayload):
        return decoded
    seq, boot = payload.get("seq"), _text(payload.get("boot"))
    if isinstance(seq, int) and not isinstance(seq, bool) and seq > 0 and boot:
        return [Numbered(boot, seq), *decoded]
    return list(decoded)


def _decode(payload: dict[str, Any], bot_id: str) -> list[Decoded] | BadPayload:
    kind = payload.get("kind")
    if kind not in KINDS:
        return BadPayload(f"unknown kind {kind!r}")
    if _text(payload.get("channel_type")) in _NOT_INDEXED:
        return []
    if kind in _FRAMES:
        event, field = _FRAMES[kind]
        obj = payload.get(field)
        if not isinstance(obj, dict):
            return BadPayload(f"{kind} without a {field} object")
        return decode_event({"event": event, "data": {field: obj, "channel_type": _text(payload.get("channel_type"))}}, bot_id)
    if kind in ("member_added", "member_removed"):
        member = payload.get("member")
        if not isinstance(member, dict):
            return BadPayload(f"{kind} without a member object")
        event = "user_added" if kind == "member_added" else "user_removed"
        frame = {"event": event, "data": {"user_id": member.get("user_id")}, "broadcast": {"channel_id": member.get("channel_id")}}
        return decode_event(frame, bot_id)
    if kind == "channel":
        # A new channel: the same note as the websocket's channel_created (look it up, then learn it), so the
        # service decides whether to index it by the same rules.
        channel = payload.get("channel")
        if not isinstance(channel, dict):
            return BadPayload("channel without a channel object")
        if decode_channel(channel) is None or _text(channel.get("type")) in _NOT_INDEXED:
            return []
        return decode_event({"event": "channel_created", "data": {"channel_id": channel.get("id")}}, bot_id)
    user = payload.get("user")
    if not isinstance(user, dict) or not _text(user.get("id")):
        return BadPayload("user without a user object")
    return [decode_user(user)]


def decode_command(body: bytes | str | Mapping[str, Any], caller: str | None) -> PluginCommand | BadPayload:
    """POST /plugin/v1/command: the server's CommandArgs. The caller header and the body's user_id are both the
    plugin's (from the server); they must agree, so a body that names someone else is refused."""
    args = _object(body)
    if isinstance(args, BadPayload):
        return args
    user_id, text = _text(args.get("user_id")), _text(args.get("command"))
    if not user_id or not text:
        return BadPayload("the command has no user_id or no command text")
    if caller is not None and caller != user_id:
        return BadPayload("the caller header and the command's user_id differ")
    return PluginCommand(user_id, _text(args.get("channel_id")), _text(args.get("team_id")), _text(args.get("root_id")),
                         text, _text(args.get("trigger_id")))


def decode_config(body: bytes | str | Mapping[str, Any]) -> PluginConfig | BadPayload:
    """POST /plugin/v1/config (and GET {plugin}/service/v1/config): the settings under their plugin.json keys."""
    cfg = _object(body)
    if isinstance(cfg, BadPayload):
        return cfg
    settings = cfg.get("settings")
    if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
        return BadPayload("the configuration has no settings object")
    if not _text(cfg.get("bot_user_id")) or not _text(cfg.get("plugin_url")):
        return BadPayload("the configuration has no bot_user_id or plugin_url")
    return PluginConfig(dict(settings), _text(cfg.get("plugin_url")).rstrip("/"), _text(cfg.get("site_url")),
                        _text(cfg.get("bot_user_id")), _text(cfg.get("bot_username")), _text(cfg.get("plugin_version")))


def setting_texts(settings: Mapping[str, Any]) -> dict[str, str]:
    """The settings as the text values `settings.load` parses (the plugin sends JSON numbers and booleans)."""
    out: dict[str, str] = {}
    for key, value in settings.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            out[key] = str(int(value))
        elif isinstance(value, (int, float, str)):
            out[key] = str(value)
    return out


__all__ = [
    "KINDS", "SECRET_HEADER", "USER_HEADER", "BadPayload", "Numbered", "PluginCommand", "PluginConfig", "decode_command",
    "decode_config", "decode_payload", "setting_texts", "verify_secret",
]

"""Settings, command parsing, signing and the suggestion policy: the bot's pure parts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from whoknows.app.commands import AboutMe, AboutPerson, Ask, ChannelSuggestions, Help, OptIn, OptOut, parse
from whoknows.errors import StartupError
from whoknows.app.settings import Settings, env_name, load, manifest_path
from whoknows.app.signing import BadSignature, sign, verify
from whoknows.app.suggestions import channel_allows, quiet

MANIFEST: dict[str, Any] = json.loads(manifest_path().read_text())
ENV = {"WHOKNOWS_MATTERMOST_URL": "http://mm.example:8065/", "WHOKNOWS_BOT_TOKEN": "t0k"}


def test_manifest_lists_every_setting_with_default_and_help() -> None:
    assert MANIFEST["id"] == "whoknows" and MANIFEST["version"] == "0.1.0"
    specs = MANIFEST["settings_schema"]["settings"]
    assert all({"key", "display_name", "type", "help_text", "default"} <= set(s) for s in specs)
    keys = {env_name(s["key"])[len("WHOKNOWS_"):].lower() for s in specs}
    from_environment_only = {"mattermost_url", "bot_token", "mode", "plugin_url", "plugin_secret", "site_url"}
    assert keys | from_environment_only == set(Settings.__dataclass_fields__)


def test_defaults_and_env_overrides() -> None:
    s = load(MANIFEST, ENV)
    assert s.mattermost_url == "http://mm.example:8065" and s.bot_token == "t0k"
    assert (s.http_host, s.http_port, s.index_channels, s.suggestion_mode) == ("127.0.0.1", 8077, "all", "thread")
    assert s.callback(8077) == "http://127.0.0.1:8077"
    s = load(MANIFEST, {**ENV, "WHOKNOWS_HTTP_PORT": "9000", "WHOKNOWS_INDEX_CHANNELS": "denylist",
                        "WHOKNOWS_CHANNEL_LIST": "random, ~off-topic", "WHOKNOWS_OPTED_OUT_BY_DEFAULT": "yes",
                        "WHOKNOWS_SUGGESTION_MIN_CONFIDENCE": "0.5", "WHOKNOWS_CALLBACK_URL": "http://bot:9000/"})
    assert s.http_port == 9000 and s.opted_out_by_default and s.suggestion_min_confidence == 0.5
    assert s.callback(1) == "http://bot:9000"
    assert not s.indexes("id1", "off-topic") and s.indexes("id2", "engineering")
    allow = load(MANIFEST, {**ENV, "WHOKNOWS_INDEX_CHANNELS": "allowlist", "WHOKNOWS_CHANNEL_LIST": "engineering"})
    assert allow.indexes("x", "engineering") and not allow.indexes("y", "random")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WHOKNOWS_BOT_TOKEN": "t"}, "WHOKNOWS_MATTERMOST_URL"),
        ({"WHOKNOWS_MATTERMOST_URL": "http://x"}, "WHOKNOWS_BOT_TOKEN"),
        ({**ENV, "WHOKNOWS_MATTERMOST_URL": "mm.example"}, "WHOKNOWS_MATTERMOST_URL"),
        ({**ENV, "WHOKNOWS_HTTP_PORT": "eighty"}, "WHOKNOWS_HTTP_PORT"),
        ({**ENV, "WHOKNOWS_HTTP_PORT": "70000"}, "HttpPort"),
        ({**ENV, "WHOKNOWS_INDEX_CHANNELS": "some"}, "WHOKNOWS_INDEX_CHANNELS"),
        ({**ENV, "WHOKNOWS_SUGGESTIONS": "maybe"}, "WHOKNOWS_SUGGESTIONS"),
        ({**ENV, "WHOKNOWS_SUGGESTION_MIN_CONFIDENCE": "2"}, "SuggestionMinConfidence"),
        ({**ENV, "WHOKNOWS_CARD_PEOPLE": "-1"}, "WHOKNOWS_CARD_PEOPLE"),
    ],
)
def test_bad_or_missing_settings_stop_start_up_naming_them(env: dict[str, str], named: str) -> None:
    with pytest.raises(StartupError, match=named):
        load(MANIFEST, env)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help(empty=True)),
        ("   ", Help(empty=True)),
        ("help", Help()),
        ("me", AboutMe()),
        ("optout", OptOut()),
        ("opt in", OptIn()),
        ("@Alice", AboutPerson("alice")),
        ("channel on", ChannelSuggestions(True)),
        ("channel off", ChannelSuggestions(False)),
        ("channel maybe", ChannelSuggestions(None)),
        ("kubernetes ingress", Ask("kubernetes ingress")),
        ("how do I reach @alice about kafka?", Ask("how do I reach @alice about kafka?")),
        ("me and kafka", Ask("me and kafka")),
        ("\u202eevil\u202c  topic", Ask("evil topic")),
    ],
)
def test_parse(text: str, command: object) -> None:
    assert parse(text) == command


def test_signing_round_trip_and_refusals() -> None:
    secret = b"s" * 32
    token = sign(secret, {"a": "ask", "p": ["u1"]}, expires_at=1000)
    assert verify(secret, token, now=999) == {"a": "ask", "p": ["u1"]}
    body, mac = token.split(".")
    for bad in (token + "x", body + "." + mac[::-1], body[:-1] + "." + mac, "", None, 42, "a.b.c"):
        with pytest.raises(BadSignature):
            verify(secret, bad, now=0)
    with pytest.raises(BadSignature, match="expired"):
        verify(secret, token, now=1001)
    with pytest.raises(BadSignature, match="signature"):
        verify(b"t" * 32, token, now=0)


def test_suggestion_policy() -> None:
    assert channel_allows(True, None, 10, 300)
    assert not channel_allows(True, None, 301, 300)  # busy channel: off unless the admins turn it on
    assert channel_allows(True, True, 10_000, 300)
    assert not channel_allows(True, False, 0, 300)
    assert not channel_allows(False, True, 0, 300)
    assert quiet(1000, 1500, 600) and not quiet(1000, 1600, 600) and not quiet(None, 0, 600)


def _expert(user_id: str, *, bot: bool = False, opted_out: bool = False) -> Any:
    from whoknows.core.conversation import Person
    from whoknows.core.ranking import Expert

    return Expert(Person(user_id, user_id, "", bot, False, opted_out), 1.0, (), 1, 1, 0, 0, 0)


def test_suggestion_picks_at_most_three_never_the_asker_bots_opted_out_or_recently_named() -> None:
    from whoknows.app.suggestions import pick

    experts = [_expert("asker"), _expert("bot", bot=True), _expert("out", opted_out=True), _expert("recent"),
               _expert("a"), _expert("b"), _expert("c"), _expert("d")]
    chosen = pick(experts, "asker", {"recent": 900}, now=1000, quiet_ms=500)
    assert [e.person.user_id for e in chosen] == ["a", "b", "c"]


def test_run_without_settings_exits_with_the_setting_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from whoknows.cli import main

    monkeypatch.delenv("WHOKNOWS_MATTERMOST_URL", raising=False)
    monkeypatch.delenv("WHOKNOWS_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["--data", str(tmp_path), "run"])
    assert result.exit_code == 2
    assert "WHOKNOWS_MATTERMOST_URL" in result.output and "Traceback" not in result.output

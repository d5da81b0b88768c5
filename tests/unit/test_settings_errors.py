"""Every setting, given a value of the wrong type or out of range through WHOKNOWS_*, stops start-up with an
error that names the variable and says what it must be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from whoknows.errors import StartupError
from whoknows.app.settings import env_name, load, manifest_path

MANIFEST: dict[str, Any] = json.loads(manifest_path().read_text())
SPECS: list[dict[str, Any]] = MANIFEST["settings_schema"]["settings"]
ENV = {"WHOKNOWS_MATTERMOST_URL": "http://mm.example:8065", "WHOKNOWS_BOT_TOKEN": "t0k"}

_BAD_BY_TYPE = {
    "bool": ["maybe", "", "2", "tru"],
    "number": ["", "abc", "-1", "nan", "inf", "-inf", "1e999", "0x10", "1,5"],
    "radio": ["", "ALL", "none", "thread,ephemeral"],
}
_BAD_BY_KEY = {
    "HttpHost": ["", "   ", "127.0.0.1 8077"],
    "HttpPort": ["65536", "80.5", "-80"],
    "CallbackUrl": ["bot:9000", "ftp://bot", "http://", "http://bot /x"],
    "CommandTrigger": ["", "who knows", "/whoknows", "9lives", "who-knows"],
    "CardPeople": ["0", "2.5"],
    "BatchEvents": ["0", "1.5"],
    "BatchMilliseconds": ["0.5"],
    "HighTrafficPostsPerDay": ["12.5"],
    "SuggestionMinConfidence": ["1.01", "-0.1"],
    "LearningEmoji": ["", ":", "light bulb", "x" * 65],
    "DigestSchedule": ["", "hourly", "weekly:XYZ:09:00", "daily:25:00"],
    "OpenSearchUrl": ["opensearch:9200", "ftp://search", "http://", "http://search /x"],
    "OpenSearchUser": ["admin:secret", "ad\tmin"],
    "StoreUrl": ["mysql://whoknows:pw@db/whoknows", "sqlite:///var/x.db", "db.internal:5432/whoknows", "https://db", "postgresql:x"],
    "OpenSearchIndexPrefix": ["", "Whoknows", "-whoknows", "who knows", "who*", "x" * 65],
}
CASES = [(s["key"], bad) for s in SPECS for bad in _BAD_BY_TYPE.get(s["type"], []) + _BAD_BY_KEY.get(s["key"], [])]


def test_every_setting_has_bad_values_to_try() -> None:
    # A new text setting fails here until this file tries a bad value on it (any text is a valid channel list,
    # and a valid password).
    tried = {key for key, _ in CASES}
    assert {s["key"] for s in SPECS if s["type"] == "text"} - tried <= {"ChannelList", "OpenSearchPassword"}


@pytest.mark.parametrize(("key", "bad"), CASES, ids=[f"{k}={b!r}" for k, b in CASES])
def test_bad_value_is_refused_naming_the_variable(key: str, bad: str) -> None:
    with pytest.raises(StartupError) as raised:
        load(MANIFEST, {**ENV, env_name(key): bad})
    text = str(raised.value)
    assert env_name(key) in text and "must be" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(("key", "good", "value"), [
    ("HttpPort", "0", 0), ("HttpPort", " 9000 ", 9000), ("HttpPort", "9000.0", 9000), ("CardPeople", "1", 1),
    ("ReadableCacheSeconds", "0.5", 0.5), ("SuggestionMinConfidence", "1", 1), ("Suggestions", "OFF", False),
    ("CallbackUrl", "https://bot.example:9000/hooks/", "https://bot.example:9000/hooks"), ("HttpHost", "0.0.0.0", "0.0.0.0"),
])
def test_good_values_are_accepted(key: str, good: str, value: object) -> None:
    settings = load(MANIFEST, {**ENV, env_name(key): good})
    assert getattr(settings, env_name(key)[len("WHOKNOWS_"):].lower()) == value


@pytest.mark.parametrize("url", ["", "   ", "mm.example", "ftp://mm", "http://", "javascript:alert(1)"])
def test_bad_mattermost_url_is_named(url: str) -> None:
    with pytest.raises(StartupError, match="WHOKNOWS_MATTERMOST_URL"):
        load(MANIFEST, {**ENV, "WHOKNOWS_MATTERMOST_URL": url})


def test_blank_token_is_named_and_never_echoed() -> None:
    with pytest.raises(StartupError, match="WHOKNOWS_BOT_TOKEN"):
        load(MANIFEST, {**ENV, "WHOKNOWS_BOT_TOKEN": "  "})
    with pytest.raises(StartupError) as raised:
        load(MANIFEST, {**ENV, "WHOKNOWS_BOT_TOKEN": "s3cr3t-token", "WHOKNOWS_HTTP_PORT": "x"})
    assert "s3cr3t-token" not in str(raised.value)


def test_the_opensearch_engine_without_a_server_is_refused_naming_its_variable() -> None:
    with pytest.raises(StartupError, match="WHOKNOWS_OPEN_SEARCH_URL"):
        load(MANIFEST, {**ENV, "WHOKNOWS_INDEX_ENGINE": "opensearch"})


def test_the_opensearch_server_comes_from_its_settings_and_its_password_is_never_shown() -> None:
    settings = load(MANIFEST, {**ENV, "WHOKNOWS_INDEX_ENGINE": "opensearch", "WHOKNOWS_OPEN_SEARCH_URL": "https://search:9200/",
                               "WHOKNOWS_OPEN_SEARCH_USER": "bot", "WHOKNOWS_OPEN_SEARCH_PASSWORD": "pa55-word",
                               "WHOKNOWS_OPEN_SEARCH_VERIFY_TLS": "false"})
    server = settings.index_server()
    assert server is not None
    assert (server.url, server.user, server.password, server.prefix, server.verify_tls) == ("https://search:9200", "bot", "pa55-word", "whoknows", False)
    assert "pa55-word" not in repr(settings) + repr(server)
    assert load(MANIFEST, ENV).index_server() is None


def test_the_http_server_listens_on_loopback_by_default() -> None:
    assert load(MANIFEST, ENV).http_host == "127.0.0.1"


def test_a_mattermost_that_does_not_answer_stops_the_start_with_one_line(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as closed:  # a port nobody listens on: connection refused, as with a wrong URL
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {"PATH": "/usr/bin:/bin", "WHOKNOWS_MATTERMOST_URL": f"http://127.0.0.1:{port}", "WHOKNOWS_BOT_TOKEN": "t0k",
           "WHOKNOWS_HTTP_PORT": "0"}
    done = subprocess.run([str(Path(sys.executable).parent / "whoknows"), "--data", str(tmp_path / "data"), "run"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "httpx" not in done.stderr, done.stderr
    assert f"cannot use Mattermost at http://127.0.0.1:{port}" in done.stderr and "no answer" in done.stderr

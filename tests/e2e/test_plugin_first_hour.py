"""The first hour in plugin mode: the scenarios of first_hour.py (bot mode runs them in test_bot_first_hour.py) with the
real bundle and the real service behind it, and a malformed body sent to the plugin's button route."""

from __future__ import annotations

from pathlib import Path

import httpx

from .conftest import MakeChannel
from .plugin_bundle import PLUGIN_ID, installed_plugin, plugin_bundle
from .plugin_mode import Link, plugin_runtime, service_link, until
from . import first_hour as scenario

__all__ = ["installed_plugin", "plugin_bundle", "service_link"]  # fixtures, imported for pytest


async def test_plugin_a_username_alone_shows_the_person(service_link: Link, tmp_path: Path) -> None:
    async with plugin_runtime(service_link, tmp_path) as rt:
        await scenario.a_username_alone_shows_the_person(service_link.installed.workspace, rt, until)


async def test_plugin_me_says_when_you_are_opted_out(service_link: Link, tmp_path: Path) -> None:
    async with plugin_runtime(service_link, tmp_path) as rt:
        await scenario.me_says_when_you_are_opted_out(service_link.installed.workspace, rt, until)


async def test_plugin_words_in_other_languages_are_found_inside_posts(service_link: Link, tmp_path: Path) -> None:
    async with plugin_runtime(service_link, tmp_path) as rt:
        await scenario.words_in_other_languages_are_found_inside_posts(service_link.installed.workspace, rt, until)


async def test_plugin_a_long_text_is_said_to_be_shortened(service_link: Link, tmp_path: Path) -> None:
    async with plugin_runtime(service_link, tmp_path) as rt:
        await scenario.a_long_text_is_said_to_be_shortened(service_link.installed.workspace, rt, until)


async def test_plugin_digests_on_demand_have_a_limit(service_link: Link, make_channel: MakeChannel, tmp_path: Path) -> None:
    async with plugin_runtime(service_link, tmp_path) as rt:
        await scenario.digests_on_demand_have_a_limit(service_link.installed.workspace, rt, make_channel, until, ())


async def test_plugin_a_reaction_without_a_learning_thread_creates_none(service_link: Link, make_channel: MakeChannel,
                                                                        tmp_path: Path) -> None:
    async with plugin_runtime(service_link, tmp_path) as rt:
        await scenario.a_reaction_without_a_learning_thread_creates_none(service_link.installed.workspace, rt, make_channel, until, (),
                                                                         notes_allowed=True)


async def test_plugin_button_route_answers_a_malformed_body_with_400_and_its_reason(service_link: Link, tmp_path: Path) -> None:
    ws = service_link.installed.workspace
    url = f"{ws.url}/plugins/{PLUGIN_ID}/actions/ask"
    headers = {"Authorization": f"Bearer {ws.users['carol'].token}", "Content-Type": "application/json"}
    async with plugin_runtime(service_link, tmp_path), httpx.AsyncClient(timeout=30.0) as client:
        as_list = await client.post(url, content=b'[{"context": {"s": "x"}}]', headers=headers)
        broken = await client.post(url, content=b'{"context": ', headers=headers)
    assert as_list.status_code == 400 and as_list.json()["error"] == "the body is not a JSON object", as_list.text
    assert broken.status_code == 400 and broken.json()["error"] == "the body is not JSON", broken.text

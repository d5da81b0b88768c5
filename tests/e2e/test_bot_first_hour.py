"""The first hour in bot mode, against the real server (the scenarios are in first_hour.py; plugin mode runs the same
ones in test_plugin_first_hour.py), and a malformed body sent to the bot's button endpoint."""

from __future__ import annotations

from pathlib import Path

import httpx

from .bootstrap import Workspace
from .botfixture import running_bot, until
from .conftest import MakeChannel
from . import first_hour as scenario

IN_CHANNELS = ("whoknows",)
"""Bot mode reads the channels the bot is in."""


async def test_bot_a_username_alone_shows_the_person(workspace: Workspace, tmp_path: Path) -> None:
    async with running_bot(workspace, tmp_path) as rt:
        await scenario.a_username_alone_shows_the_person(workspace, rt, until)


async def test_bot_me_says_when_you_are_opted_out(workspace: Workspace, tmp_path: Path) -> None:
    async with running_bot(workspace, tmp_path) as rt:
        await scenario.me_says_when_you_are_opted_out(workspace, rt, until)


async def test_bot_words_in_other_languages_are_found_inside_posts(workspace: Workspace, tmp_path: Path) -> None:
    async with running_bot(workspace, tmp_path) as rt:
        await scenario.words_in_other_languages_are_found_inside_posts(workspace, rt, until)


async def test_bot_a_long_text_is_said_to_be_shortened(workspace: Workspace, tmp_path: Path) -> None:
    async with running_bot(workspace, tmp_path) as rt:
        await scenario.a_long_text_is_said_to_be_shortened(workspace, rt, until)


async def test_bot_digests_on_demand_have_a_limit(workspace: Workspace, make_channel: MakeChannel, tmp_path: Path) -> None:
    async with running_bot(workspace, tmp_path) as rt:
        await scenario.digests_on_demand_have_a_limit(workspace, rt, make_channel, until, IN_CHANNELS)


async def test_bot_a_reaction_without_a_learning_thread_creates_none(workspace: Workspace, make_channel: MakeChannel,
                                                                     tmp_path: Path) -> None:
    async with running_bot(workspace, tmp_path) as rt:
        await scenario.a_reaction_without_a_learning_thread_creates_none(workspace, rt, make_channel, until, IN_CHANNELS,
                                                                         notes_allowed=False)


async def test_bot_button_endpoint_answers_a_malformed_body_with_400_and_its_reason(workspace: Workspace, tmp_path: Path) -> None:
    async with running_bot(workspace, tmp_path) as rt, httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{rt.http_port}/action"
        as_list = await client.post(url, content=b'[{"context": {"s": "x"}}]', headers={"Content-Type": "application/json"})
        broken = await client.post(url, content=b'{"context": ', headers={"Content-Type": "application/json"})
    assert as_list.status_code == 400 and as_list.json()["error"] == "the body is not a JSON object", as_list.text
    assert broken.status_code == 400 and broken.json()["error"] == "the body is not JSON", broken.text
    assert "error id" not in as_list.text + broken.text

"""The data path in bot mode (websocket + REST) against the real server: see data_path.py; the same scenarios run in
plugin mode in test_plugin_data_path.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from whoknows.storage.state import STATE_FILE as SERVICE_FILE
from whoknows.storage.store import STATE_FILE

from . import data_path as scenario
from .bootstrap import Workspace
from .botfixture import running_bot, settings_env
from .conftest import MakeChannel


@pytest.fixture
def bot(workspace: Workspace) -> scenario.Mode:
    return scenario.Mode("bot", workspace, lambda data, **env: running_bot(workspace, data, **env),
                         lambda url: {"WHOKNOWS_MATTERMOST_URL": url}, ["run"], settings_env(workspace))


async def test_a_long_absence_loses_no_post_edit_or_deletion(bot: scenario.Mode, make_channel: MakeChannel, tmp_path: Path) -> None:
    await scenario.long_absence_loses_nothing(bot, make_channel, tmp_path)


async def test_a_restart_reads_nothing_again_that_was_heard_live(bot: scenario.Mode, make_channel: MakeChannel, tmp_path: Path) -> None:
    await scenario.restart_reads_nothing_heard_live(bot, make_channel, tmp_path)


async def test_someone_who_joined_while_the_bot_was_away_is_named(bot: scenario.Mode, tmp_path: Path) -> None:
    await scenario.someone_who_joined_while_away_is_named(bot, tmp_path)


@pytest.mark.parametrize("landed", [False, True], ids=["write-lost", "answer-lost"])
async def test_a_suggestion_survives_a_500_and_is_posted_once(bot: scenario.Mode, make_channel: MakeChannel, tmp_path: Path,
                                                              landed: bool) -> None:
    await scenario.suggestion_survives_a_failed_write(bot, make_channel, tmp_path, landed=landed)


@pytest.mark.parametrize("before_questions", [False, True], ids=["v0", "v0-before-questions"])
async def test_a_folder_of_the_previous_release_opens_with_nothing_lost(bot: scenario.Mode, make_channel: MakeChannel, tmp_path: Path,
                                                                        before_questions: bool) -> None:
    await scenario.previous_release_folder_opens_with_nothing_lost(bot, make_channel, tmp_path, before_questions=before_questions)


@pytest.mark.parametrize("newer", [STATE_FILE, SERVICE_FILE])
async def test_a_folder_of_a_newer_release_is_refused_untouched(bot: scenario.Mode, tmp_path: Path, newer: str) -> None:
    await scenario.newer_release_folder_is_refused_untouched(bot, tmp_path, newer)


async def test_a_heard_deletion_or_edit_is_never_shown_whatever_the_batch(bot: scenario.Mode, make_channel: MakeChannel,
                                                                         tmp_path: Path) -> None:
    await scenario.heard_deletion_is_never_shown(bot, make_channel, tmp_path)

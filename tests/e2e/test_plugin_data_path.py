"""The data path in plugin mode (hooks through the real plugin, the server reached through its /service routes): the
scenarios of data_path.py, as test_data_path.py runs them in bot mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from whoknows.storage.state import STATE_FILE as SERVICE_FILE
from whoknows.storage.store import STATE_FILE

from . import data_path as scenario
from .conftest import MakeChannel
from .plugin_bundle import PLUGIN_ID, installed_plugin, plugin_bundle
from .plugin_mode import Link, plugin_runtime, service_link

__all__ = ["installed_plugin", "plugin_bundle", "service_link"]  # fixtures, imported for pytest


@pytest.fixture
def plugin(service_link: Link) -> scenario.Mode:
    return scenario.Mode("plugin", service_link.installed.workspace, lambda data, **env: plugin_runtime(service_link, data, **env),
                         lambda url: {"WHOKNOWS_PLUGIN_URL": f"{url}/plugins/{PLUGIN_ID}"}, ["serve-plugin"], service_link.env())


async def test_a_long_absence_loses_no_post_edit_or_deletion(plugin: scenario.Mode, make_channel: MakeChannel, tmp_path: Path) -> None:
    # First: the plugin's first handshake with a service (a configuration push, then a catch-up) happens here.
    await scenario.long_absence_loses_nothing(plugin, make_channel, tmp_path)


async def test_a_restart_reads_nothing_again_that_was_heard_live(plugin: scenario.Mode, make_channel: MakeChannel, tmp_path: Path) -> None:
    await scenario.restart_reads_nothing_heard_live(plugin, make_channel, tmp_path)


async def test_someone_who_joined_while_the_service_was_away_is_named(plugin: scenario.Mode, tmp_path: Path) -> None:
    await scenario.someone_who_joined_while_away_is_named(plugin, tmp_path)


@pytest.mark.parametrize("landed", [False, True], ids=["write-lost", "answer-lost"])
async def test_a_suggestion_survives_a_500_and_is_posted_once(plugin: scenario.Mode, make_channel: MakeChannel, tmp_path: Path,
                                                              landed: bool) -> None:
    await scenario.suggestion_survives_a_failed_write(plugin, make_channel, tmp_path, landed=landed)


async def test_a_folder_of_the_previous_release_opens_with_nothing_lost(plugin: scenario.Mode, make_channel: MakeChannel,
                                                                        tmp_path: Path) -> None:
    await scenario.previous_release_folder_opens_with_nothing_lost(plugin, make_channel, tmp_path, before_questions=True)


@pytest.mark.parametrize("newer", [STATE_FILE, SERVICE_FILE])
async def test_a_folder_of_a_newer_release_is_refused_untouched(plugin: scenario.Mode, tmp_path: Path, newer: str) -> None:
    await scenario.newer_release_folder_is_refused_untouched(plugin, tmp_path, newer)


async def test_a_heard_deletion_or_edit_is_never_shown_whatever_the_batch(plugin: scenario.Mode, make_channel: MakeChannel,
                                                                         tmp_path: Path) -> None:
    await scenario.heard_deletion_is_never_shown(plugin, make_channel, tmp_path)

"""Fixtures of the end-to-end tests: one real Mattermost server per session.

- `mattermost`: the running server (url, start/stop/restart, log) on a fresh
  copy of the test database;
- `workspace`: the team, people, bot and channels made by bootstrap.py;
- `make_channel`: a fresh channel with exactly the given members, per test;
- `opensearch`: a real single-node OpenSearch for the session (tests/opensearch_node.py), started by the first
  test that asks for it;
- `store_url`: a fresh PostgreSQL store (a new schema in a throwaway database, tests/postgres_node.py).

Every test in this folder is marked `e2e`. Without a built server they fail,
asking for `make e2e-deps`; WHOKNOWS_SKIP_E2E=1 skips them instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pytest

import postgres_node
from opensearch_node import session_server
from whoknows.core.index import IndexServer

from .bootstrap import Api, Channel, Workspace, bootstrap, create_channel
from .mattermost import Build, HarnessError, MattermostServer, Postgres

E2E_DIR = Path(__file__).resolve().parent
SKIP_VARIABLE = "WHOKNOWS_SKIP_E2E"
TEARDOWN_STOP_TIMEOUT_S = 5.0
_summary: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = os.environ.get(SKIP_VARIABLE, "") not in ("", "0")
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            if skip:
                item.add_marker(pytest.mark.skip(reason=f"{SKIP_VARIABLE} is set"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _summary:
        terminalreporter.section("mattermost e2e harness")
        for line in _summary:
            terminalreporter.write_line(line)


def _note(server: MattermostServer | None, line: str) -> None:
    _summary.append(line)
    if server is not None:
        with server.log_path.open("a", encoding="utf-8") as log:
            log.write(f"=== harness: {line}\n")


@pytest.fixture(scope="session")
def mattermost(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MattermostServer]:
    try:
        build = Build.locate()
        pg = Postgres.from_env()
        pg.reset()
    except HarnessError as error:
        pytest.fail(str(error), pytrace=False)
    server = MattermostServer(build, tmp_path_factory.mktemp("mattermost"), pg)
    try:
        took = server.start()
        _note(server, f"server {build.v8_version} ready in {took:.1f} s at {server.url}, "
                      f"log {server.log_path}")
    except HarnessError as error:
        server.stop()
        pytest.fail(str(error), pytrace=False)
    began = time.monotonic()
    try:
        yield server
    finally:
        peak = server.peak_memory_kib()
        # Nothing needs a clean shutdown now: do not wait out the job watcher.
        server.stop(timeout=TEARDOWN_STOP_TIMEOUT_S)
        peak_text = f"{peak / 1024:.0f} MiB" if peak is not None else "unknown"
        _note(server, f"session used the server {time.monotonic() - began:.1f} s; "
                      f"peak memory (VmHWM) {peak_text}")


@pytest.fixture(scope="session")
def workspace(mattermost: MattermostServer) -> Workspace:
    try:
        return bootstrap(mattermost.url)
    except Exception as error:
        pytest.fail(f"bootstrap failed: {error}\n{mattermost.log_tail()}", pytrace=False)


class MakeChannel(Protocol):
    def __call__(self, members: Sequence[str], *, private: bool = False) -> Channel: ...


@pytest.fixture
def make_channel(workspace: Workspace) -> Iterator[MakeChannel]:
    """Makes fresh channels in the workspace's team with exactly `members`."""
    with Api(workspace.url, workspace.admin.token) as admin:

        def make(members: Sequence[str], *, private: bool = False) -> Channel:
            return create_channel(admin, workspace.everyone, workspace.team_id, members,
                                  private=private)

        yield make


@pytest.fixture(scope="session")
def opensearch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    yield from session_server(tmp_path_factory, "whoknows-e2e")


@pytest.fixture
def store_url() -> Iterator[str]:
    for database in postgres_node.throwaway_database():
        yield postgres_node.fresh_store(database)

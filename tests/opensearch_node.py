"""A real single-node OpenSearch for the unit and end-to-end tests: tests/opensearch/run-opensearch.sh (built
and cached by build-opensearch.sh) on a free port, in a folder of the session, stopped when the session ends (or
when this process dies: the node exits when its standard input closes). `session_server` is the fixtures' body."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from whoknows.core.index import IndexServer

RUN = Path(__file__).resolve().parent / "opensearch" / "run-opensearch.sh"
START_SECONDS = 300.0
"""The first start may build the launcher (Maven downloads OpenSearch)."""


class NodeUnavailable(Exception):
    """The node cannot run here (no Java or Maven) or did not start; the text says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def missing_tools() -> list[str]:
    return [tool for tool in ("java", "mvn") if shutil.which(tool) is None]


class Node:
    def __init__(self, home: Path) -> None:
        missing = missing_tools()
        if missing:
            raise NodeUnavailable(f"{' and '.join(missing)} not found: the OpenSearch node needs Java 17 and Maven")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.home = home
        self._log = (home / "launcher.log").open("wb")
        self.process = subprocess.Popen(["bash", str(RUN), str(home), str(self.port), "--exit-on-eof"],
                                        stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_green()
        except BaseException:
            self.stop()
            raise

    def _wait_green(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NodeUnavailable(f"the OpenSearch node exited ({self.process.returncode}): {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_cluster/health?wait_for_status=green&timeout=5s", timeout=10) as r:
                    if json.load(r).get("status") == "green":
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.5)
        raise NodeUnavailable(f"the OpenSearch node was not green within {START_SECONDS:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        self._log.flush()
        text = (self.home / "launcher.log").read_text(encoding="utf-8", errors="replace")
        return text[-2000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # --exit-on-eof: the node closes itself
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def session_server(tmp_path_factory: pytest.TempPathFactory, prefix: str) -> Iterator[IndexServer]:
    """A node for the session, as an IndexServer with `prefix`. Without Java or Maven the test is skipped, saying
    why; under CI (`CI` set) it fails instead: there the node must be there."""
    try:
        node = Node(tmp_path_factory.mktemp("opensearch"))
    except NodeUnavailable as error:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(str(error))
        pytest.skip(str(error))
    try:
        yield IndexServer(node.url, prefix=prefix)
    finally:
        node.stop()


def count(server: IndexServer, index: str, field: str, value: str) -> int:
    """How many documents of `index` hold `value` in `field`, as the server counts them now (the tests' look into it)."""
    body = json.dumps({"query": {"term": {field: value}}}).encode()
    request = urllib.request.Request(f"{server.url}/{index}/_count", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return int(json.load(answer)["count"])

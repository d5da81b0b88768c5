"""A stand-in for the whoknows service on the plugin's side of the link, for the plugin's end-to-end tests.

It speaks the service's half of server/plugin/LINK.md just enough for the Go side to be tested on its own: it
records every request the plugin sends (path, headers, JSON body), answers the command table, commands, button
actions and configuration, and refuses one configuration value the way the real service would. The tests wait on
its records with a condition variable, never a sleep.

Run as a script (`python plugin_service.py <record.jsonl>`) it is the child the plugin starts with ServiceCommand:
it listens on WHOKNOWS_HTTP_HOST:WHOKNOWS_HTTP_PORT, writes its environment and every request to the record file,
and prints one line to stdout and one to stderr so the tests can find them in the server log.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TABLE: dict[str, Any] = {
    "trigger": "whoknows",
    "description": "Find who knows about a topic",
    "hint": "[topic | @person | me | help]",
    "subcommands": [
        {"name": "me", "hint": "", "help": "What you are known for"},
        {"name": "optout", "hint": "", "help": "Stop being suggested"},
        {"name": "person", "hint": "@someone", "help": "What someone is known for"},
        {"name": "help", "hint": "", "help": "What /whoknows can do"},
    ],
}
REFUSED_CARD_PEOPLE = 0
REFUSAL = "the setting CardPeople must be a whole number of at least 1"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # decoded JSON, or the raw text when it is not JSON

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", "")) if isinstance(self.body, dict) else ""


@dataclass
class Recorder:
    """Every request the plugin made, in arrival order, with a way to wait for one."""

    requests: list[Request] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    sink: Callable[[Request], None] | None = None

    def add(self, request: Request) -> None:
        with self.changed:
            self.requests.append(request)
            self.changed.notify_all()
        if self.sink is not None:
            self.sink(request)

    def wait_for(self, match: Callable[[Request], bool], timeout: float = 20.0) -> Request:
        """The first recorded request that matches, waiting for it to arrive."""
        with self.changed:
            found: list[Request] = []

            def seen() -> bool:
                found[:] = [r for r in self.requests if match(r)]
                return bool(found)

            if not self.changed.wait_for(seen, timeout):
                recent = [f"{r.method} {r.path} {r.kind}" for r in self.requests[-10:]]
                raise AssertionError(f"the plugin sent no matching request in {timeout} s; last ones: {recent}")
            return found[0]

    def matching(self, match: Callable[[Request], bool]) -> list[Request]:
        with self.changed:
            return [r for r in self.requests if match(r)]

    def events(self) -> list[Request]:
        return self.matching(lambda r: r.path == "/plugin/v1/events")


def _answer(request: Request) -> tuple[int, Any]:
    """What the service would answer (the parts the plugin acts on)."""
    body = request.body if isinstance(request.body, dict) else {}
    if request.path == "/plugin/v1/autocomplete":
        return 200, TABLE
    if request.path == "/plugin/v1/command":
        return 200, {"response_type": "ephemeral", "text": f"service saw {body.get('user_id')} "
                                                          f"as {request.headers.get('x-whoknows-user-id')}"}
    if request.path.startswith("/plugin/v1/actions/"):
        return 200, {"ephemeral_text": f"clicked by {request.headers.get('x-whoknows-user-id')}"}
    if request.path == "/plugin/v1/config/check":
        settings = body.get("settings") or {}
        if settings.get("CardPeople") == REFUSED_CARD_PEOPLE:
            return 422, {"error": REFUSAL}
        return 200, {}
    if request.path in ("/plugin/v1/config", "/plugin/v1/events"):
        return 200, {}
    return 404, {"error": "no such route"}


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            recorder.add(request)
            status, answer = _answer(request)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    return Handler


class FakeService:
    """The stand-in, listening on 127.0.0.1 in a thread of the test process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.recorder = Recorder()
        self._server = ThreadingHTTPServer((host, port), _handler(self.recorder))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _child(record: Path) -> None:
    """The ServiceCommand child: records its environment and requests, one JSON object a line."""
    lock = threading.Lock()

    def write(entry: dict[str, Any]) -> None:
        with lock, record.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")

    env = {k: v for k, v in os.environ.items() if k.startswith("WHOKNOWS_")}
    write({"type": "env", "pid": os.getpid(), "env": env})
    service = FakeService(env["WHOKNOWS_HTTP_HOST"], int(env["WHOKNOWS_HTTP_PORT"]))
    service.recorder.sink = lambda r: write({"type": "request", "pid": os.getpid(), "method": r.method, "path": r.path,
                                             "headers": r.headers, "body": r.body})
    print(f"plugin-child {os.getpid()} listening on {service.url}", flush=True)
    print(f"WARNING plugin-child {os.getpid()} says this on stderr", file=sys.stderr, flush=True)
    service.start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    _child(Path(sys.argv[1]))

"""The bot's HTTP endpoints that Mattermost calls: the slash command (form-encoded) and card buttons (JSON).

Verification happens here, before any work: the command token (constant-time compare against the token
kept for the team) and the buttons' signed context. A body that is not what Mattermost sends (not a form,
not a JSON object) is a 400 with its reason. Anything unexpected is logged with an error id and answered
with a short message carrying that id. The endpoints listen from the first moment of start-up; until it has
finished, a command or a click is answered "whoknows is starting" (before the token check: the token may not be
readable yet, and that answer does nothing and tells nothing). Every answer says it is whoknows's (`SERVICE_HEADER`),
so a later start that finds the port taken can tell another whoknows from another program.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from aiohttp.http_exceptions import HttpProcessingError

from .. import messages

log = logging.getLogger("whoknows.http")
JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Endpoints:
    """What the endpoints call: handed by the service, so this adapter knows no use case."""

    command_token: Callable[[str], str | None]
    """The slash command's token kept for a team, or None."""
    command: Callable[[dict[str, str]], Awaitable[JSON | None]]
    """None: the caller named in the request cannot be who sent it (not in the token's team or the channel)."""
    action: Callable[[JSON], Awaitable[tuple[JSON, int]]]
    trigger: str
    starting: Callable[[], bool] = lambda: False
    """True until start-up has finished: commands and clicks are answered "whoknows is starting"."""


ENDPOINTS: web.AppKey[Endpoints] = web.AppKey("endpoints", Endpoints)
SERVICE_HEADER = "X-Whoknows-Service"
PROBE_TIMEOUT_S = 3.0


def token_ok(expected: str | None, given: str) -> bool:
    return expected is not None and hmac.compare_digest(expected.encode(), given.encode())


def _bad(reason: str, **answer: str) -> web.Response:
    """A body Mattermost would never send: 400, with the reason."""
    return web.json_response({"error": reason, **answer}, status=400)


async def _command(request: web.Request) -> web.Response:
    ep = request.app[ENDPOINTS]
    if ep.starting():
        return web.json_response({"response_type": "ephemeral", "text": messages.starting()})
    try:
        fields = await request.post()
    except (ValueError, AssertionError, HttpProcessingError):  # a broken multipart or form body
        return _bad("the body is not a form (Mattermost sends application/x-www-form-urlencoded)")
    form = {k: v for k, v in fields.items() if isinstance(v, str)}
    if not token_ok(ep.command_token(form.get("team_id", "")), form.get("token", "")):
        log.warning("refused a slash command with a wrong token (team %s, user %s)", form.get("team_id"), form.get("user_id"))
        return web.json_response({"text": "unauthorized"}, status=401)
    try:
        answer = await ep.command(form)
        if answer is None:
            log.warning("refused a slash command whose caller is not in its team or channel (team %s, user %s)",
                        form.get("team_id"), form.get("user_id"))
            return web.json_response({"response_type": "ephemeral", "text": messages.command_refused()}, status=403)
        return web.json_response(answer)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s in /%s %r", error_id, ep.trigger, form.get("text", "")[:200])
        return web.json_response({"response_type": "ephemeral", "text": messages.internal_error(error_id)})


async def json_object(request: web.Request) -> JSON | str:
    """The request's body as a JSON object, or why it is not one."""
    try:
        body = json.loads(await request.read())
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep to read
        return "the body is not JSON"
    return body if isinstance(body, dict) else "the body is not a JSON object"


async def _action(request: web.Request) -> web.Response:
    ep = request.app[ENDPOINTS]
    if ep.starting():
        return web.json_response({"ephemeral_text": messages.starting()})
    body = await json_object(request)
    if isinstance(body, str):
        return _bad(body, ephemeral_text=messages.action_refused())
    return await answer_action(ep.action, body)


async def answer_action(action: Callable[[JSON], Awaitable[tuple[JSON, int]]], body: JSON) -> web.Response:
    """Runs a button's use case; anything unexpected is logged with an id and answered without a trace."""
    try:
        answer, status = await action(body)
        return web.json_response(answer, status=status)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s in a card button", error_id)
        return web.json_response({"ephemeral_text": messages.internal_error(error_id)})


@dataclass(frozen=True, slots=True)
class Server:
    port: int
    """The port actually bound (0 in the settings picks one)."""
    runner: web.AppRunner

    async def close(self) -> None:
        await self.runner.cleanup()


async def _say_who(_: web.Request, response: web.StreamResponse) -> None:
    response.headers[SERVICE_HEADER] = "whoknows"


async def listen(app: web.Application, host: str, port: int) -> Server:
    """Serves `app` on host:port; OSError when the address cannot be had (EADDRINUSE: another program holds the port)."""
    app.on_response_prepare.append(_say_who)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return Server(int(runner.addresses[0][1]), runner)


async def held_by_whoknows(url: str) -> bool:
    """Whether what answers at `url` is a whoknows (its answers carry SERVICE_HEADER); False when nothing sensible answers."""
    try:
        async with ClientSession(timeout=ClientTimeout(total=PROBE_TIMEOUT_S)) as session, session.post(url, data=b"") as answer:
            return answer.headers.get(SERVICE_HEADER) == "whoknows"
    except (ClientError, OSError, TimeoutError, ValueError):
        return False


async def serve(host: str, port: int, endpoints: Endpoints) -> Server:
    """Starts the endpoints."""
    app = web.Application(client_max_size=256 * 1024)
    app[ENDPOINTS] = endpoints
    app.router.add_post("/command", _command)
    app.router.add_post("/action", _action)
    return await listen(app, host, port)

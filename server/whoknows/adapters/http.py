"""The bot's HTTP endpoints that Mattermost calls: the slash command (form-encoded) and card buttons (JSON).

Verification happens here, before any work: the command token (constant-time compare against the token
kept for the team) and the buttons' signed context. Anything unexpected is logged with an error id and
answered with a short message carrying that id.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from .. import messages

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger("whoknows.http")
_RUNNERS: dict[int, web.AppRunner] = {}
RUNTIME: web.AppKey[object] = web.AppKey("runtime", object)


def token_ok(expected: str | None, given: str) -> bool:
    return expected is not None and hmac.compare_digest(expected.encode(), given.encode())


async def _command(request: web.Request) -> web.Response:
    from ..responder import command

    rt = cast("Runtime", request.app[RUNTIME])
    form = {k: str(v) for k, v in (await request.post()).items()}
    if not token_ok(rt.state.command_token(form.get("team_id", "")), form.get("token", "")):
        log.warning("refused a slash command with a wrong token (team %s, user %s)", form.get("team_id"), form.get("user_id"))
        return web.json_response({"text": "unauthorized"}, status=401)
    try:
        return web.json_response(await command(rt, form))
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s in /%s %r", error_id, rt.settings.command_trigger, form.get("text", "")[:200])
        return web.json_response({"response_type": "ephemeral", "text": messages.internal_error(error_id)})


async def _action(request: web.Request) -> web.Response:
    from ..responder import action

    rt = cast("Runtime", request.app[RUNTIME])
    try:
        body: dict[str, Any] = await request.json()
    except ValueError:
        return web.json_response({"ephemeral_text": messages.action_refused()}, status=400)
    try:
        answer, status = await action(rt, body)
        return web.json_response(answer, status=status)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s in a card button", error_id)
        return web.json_response({"ephemeral_text": messages.internal_error(error_id)})


async def serve(rt: Runtime) -> int:
    """Starts the endpoints; returns the port actually bound."""
    app = web.Application(client_max_size=256 * 1024)
    app[RUNTIME] = rt
    app.router.add_post("/command", _command)
    app.router.add_post("/action", _action)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, rt.settings.http_host, rt.settings.http_port)
    await site.start()
    port = int(runner.addresses[0][1])
    _RUNNERS[id(rt)] = runner
    return port


async def shutdown(rt: Runtime) -> None:
    runner = _RUNNERS.pop(id(rt), None)
    if runner is not None:
        await runner.cleanup()

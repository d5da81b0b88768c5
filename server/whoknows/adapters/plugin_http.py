"""The service's half of the plugin link over HTTP: the six `/plugin/v1` routes the Go plugin calls (server/plugin/LINK.md).

Verification happens here, before any work: every request must carry the shared secret (constant-time compare), and a
command or a button click names its caller only in `X-Whoknows-User-Id` (set by the plugin from the server's session;
a body's user_id is never believed). Bodies are decoded by `plugin_link`; what they mean is the service's callables.
Bad input gets a 4xx with a reason; anything unexpected is logged with an error id and answered with that id. Until
start-up has finished, a command, a click or an event is answered 503 "whoknows is starting" (the plugin tells the person
so; an event refused then is read from the history by the start's backfill, which begins after it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .. import messages
from .http import Server, answer_action, json_object, listen
from .mattermost_events import Decoded
from .plugin_link import SECRET_HEADER, USER_HEADER, BadPayload, Numbered, PluginCommand, PluginConfig, decode_command, \
    decode_config, decode_payload, verify_secret

log = logging.getLogger("whoknows.plugin")
JSON = dict[str, Any]
MAX_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class PluginEndpoints:
    """What the routes call: handed by the service, so this adapter knows no use case."""

    secret: str
    bot_id: Callable[[], str]
    table: Callable[[], JSON]
    config: Callable[[PluginConfig], Awaitable[None]]
    check: Callable[[Mapping[str, Any]], str | None]
    """The settings an admin is saving -> None, or why they are refused (naming the System Console setting)."""
    events: Callable[[list[Decoded | Numbered]], Awaitable[None]]
    command: Callable[[PluginCommand], Awaitable[JSON]]
    action: Callable[[JSON], Awaitable[tuple[JSON, int]]]
    starting: Callable[[], bool] = lambda: False
    """True until start-up has finished."""
    standing_by: Callable[[], bool] = lambda: False
    """True while another service process on the same store leads and this one only waits: every route answers 503,
    so the plugin asks the next."""
    following: Callable[[], bool] = lambda: False
    """True while another process leads and this one answers: only events are refused (503), so the plugin sends them
    to the leader."""


ENDPOINTS: web.AppKey[PluginEndpoints] = web.AppKey("plugin_endpoints", PluginEndpoints)


def _bad(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


@web.middleware
async def _secret_only(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    if not verify_secret(request.app[ENDPOINTS].secret, request.headers.get(SECRET_HEADER)):
        log.warning("refused a plugin-link request without the secret: %s %s", request.method, request.path)
        return _bad("unauthorized", 401)
    return await handler(request)


EVENTS_ROUTE = "/plugin/v1/events"
STARTING_ROUTES = ("/plugin/v1/command", EVENTS_ROUTE, "/plugin/v1/actions/")


@web.middleware
async def _started_only(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    ep = request.app[ENDPOINTS]
    if ((ep.starting() and request.path.startswith(STARTING_ROUTES)) or ep.standing_by()
            or (ep.following() and request.path == EVENTS_ROUTE)):
        text = messages.starting()
        return web.json_response({"error": "starting", "response_type": "ephemeral", "text": text, "ephemeral_text": text}, status=503)
    return await handler(request)


async def _body(request: web.Request) -> bytes:
    return await request.read()


async def _autocomplete(request: web.Request) -> web.Response:
    return web.json_response(request.app[ENDPOINTS].table())


async def _config(request: web.Request) -> web.Response:
    cfg = decode_config(await _body(request))
    if isinstance(cfg, BadPayload):
        return _bad(cfg.reason)
    await request.app[ENDPOINTS].config(cfg)
    return web.json_response({})


async def _check(request: web.Request) -> web.Response:
    body = await json_object(request)  # the check's body has only "settings"
    if isinstance(body, str):
        return _bad(body)
    settings = body.get("settings")
    if not isinstance(settings, dict):
        return _bad("the body has no settings object")
    refused = request.app[ENDPOINTS].check(settings)
    return _bad(refused, 422) if refused else web.json_response({})


async def _events(request: web.Request) -> web.Response:
    ep = request.app[ENDPOINTS]
    decoded = decode_payload(await _body(request), ep.bot_id())
    if isinstance(decoded, BadPayload):
        log.warning("refused a plugin event: %s", decoded.reason)
        return _bad(decoded.reason)
    try:
        await ep.events(decoded)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s: cannot handle a plugin event", error_id)
        return _bad(f"error {error_id}", 500)
    return web.json_response({})


async def _command(request: web.Request) -> web.Response:
    ep = request.app[ENDPOINTS]
    caller = request.headers.get(USER_HEADER)
    if not caller:
        return _bad(f"no {USER_HEADER}", 401)
    cmd = decode_command(await _body(request), caller)
    if isinstance(cmd, BadPayload):
        log.warning("refused a plugin command: %s", cmd.reason)
        return _bad(cmd.reason)
    try:
        return web.json_response(await ep.command(cmd))
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s in a plugin command", error_id)
        return web.json_response({"response_type": "ephemeral", "text": messages.internal_error(error_id)})


async def _action(request: web.Request) -> web.Response:
    ep = request.app[ENDPOINTS]
    caller = request.headers.get(USER_HEADER)
    if not caller:
        return web.json_response({"ephemeral_text": messages.action_refused()}, status=401)
    body = await json_object(request)
    if isinstance(body, str):
        return web.json_response({"error": body, "ephemeral_text": messages.action_refused()}, status=400)
    body["user_id"] = caller  # the caller is the server's, never the body's
    return await answer_action(ep.action, body)


def app(endpoints: PluginEndpoints) -> web.Application:
    """The plugin-link routes (tests serve them in-process)."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_secret_only, _started_only])
    app[ENDPOINTS] = endpoints
    app.router.add_get("/plugin/v1/autocomplete", _autocomplete)
    app.router.add_post("/plugin/v1/config", _config)
    app.router.add_post("/plugin/v1/config/check", _check)
    app.router.add_post("/plugin/v1/events", _events)
    app.router.add_post("/plugin/v1/command", _command)
    app.router.add_post("/plugin/v1/actions/{rest:.*}", _action)
    return app


async def serve(host: str, port: int, endpoints: PluginEndpoints) -> Server:
    """Starts the plugin-link routes."""
    return await listen(app(endpoints), host, port)


__all__ = ["PluginEndpoints", "app", "serve"]

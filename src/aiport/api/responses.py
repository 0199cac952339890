"""Building responses: the headers every answer carries, JSON bodies, error bodies."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from aiport.api.context import context, services
from aiport.backends.base import JSONBody
from aiport.errors import APIError

STARTED_KEY = "aiport.started"


def add_headers(request: web.Request, headers: dict[str, str]) -> None:
    """Headers to put on whatever response this request ends with (e.g. x-ratelimit-*)."""
    ctx = context(request)
    if ctx.headers is None:
        ctx.headers = dict(headers)
    else:
        ctx.headers.update(headers)


def response_headers(request: web.Request, extra: dict[str, str] | None = None) -> dict[str, str]:
    ctx = context(request)
    headers = {"x-request-id": ctx.request_id}
    if ctx.headers:
        headers.update(ctx.headers)
    if extra:
        headers.update(extra)
    return headers


async def start_streaming(request: web.Request, response: web.StreamResponse) -> None:
    """Send the status and headers; from here on a failure cannot become an error answer."""
    await response.prepare(request)
    request[STARTED_KEY] = response


def started_response(request: web.Request) -> web.StreamResponse | None:
    response: web.StreamResponse | None = request.get(STARTED_KEY)
    return response


def json_response(request: web.Request, body: JSONBody | dict[str, Any]) -> web.Response:
    if isinstance(body, JSONBody):
        _observe(request, body)
        raw = body.raw if body.raw is not None else orjson.dumps(body.data)
    else:
        raw = orjson.dumps(body)
    return web.Response(
        body=raw, content_type="application/json", headers=response_headers(request)
    )


def error_response(request: web.Request | None, exc: APIError) -> web.Response:
    """OpenAI's error body, or the shape the route's handler names (`aiport_error_body`:
    Anthropic's, on the Messages API), with the request id under the name it names too
    (`aiport_id_header`: Anthropic's `request-id`)."""
    headers = dict(exc.headers)
    body = exc.body()
    if request is not None:
        handler = request.match_info.handler
        render = getattr(handler, "aiport_error_body", None)
        if render is not None:  # first: it may add headers (a shape chosen per request)
            body = render(request, exc)
        headers = response_headers(request, headers)
        id_header = getattr(handler, "aiport_id_header", None)
        if id_header is not None:
            headers[id_header] = context(request).request_id
    return web.Response(
        status=exc.status, body=body, content_type="application/json", headers=headers
    )


def _observe(request: web.Request, body: JSONBody) -> None:
    """Show a model's answer to the request's trace and, if its key asks, the body log."""
    ctx = context(request)
    if ctx.trace is not None:
        ctx.trace.saw(body.data)
    bodies = services(request).body_log
    if bodies is not None and ctx.caller is not None and bodies.wants(ctx.caller.key_id):
        bodies.write("response", ctx.request_id, ctx.caller.key_id, body.data)

"""Anthropic's Messages API: POST /messages and /messages/count_tokens.

The same route, admission and metering as chat; errors in Anthropic's shape
(`anthropic_errors`), the key in `x-api-key` or as a Bearer token. The
`anthropic-version` and `anthropic-beta` headers go on to an Anthropic upstream.
Another method on these paths (405), or another path under them (404), is answered in
Anthropic's shape too (`add_other_routes`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import ValidationError

from aiport.api.anthropic_errors import anthropic_errors, error_event, invalid_request
from aiport.api.bodies import read_json
from aiport.api.context import context, services
from aiport.api.dispatch import route, serve
from aiport.api.responses import json_response
from aiport.api.sse import Opened, first_chunk, write_named_stream
from aiport.backends.anthropic import anthropic_usage
from aiport.backends.base import Backend, Call, JSONBody, StreamChunk, Usage
from aiport.context import RequestContext
from aiport.errors import InvalidRequest, MethodNotAllowed, NotFound
from aiport.metering import Estimate, estimate_prompt_tokens, observe_stream
from aiport.protocol.messages import (
    AIPORT_DECIDES,
    PASSED_HEADERS,
    CountTokensRequest,
    MessagesRequest,
    SDKFields,
)
from aiport.routing.deployment import Group

R = TypeVar("R", bound=CountTokensRequest)
PATHS = ("/messages", "/messages/count_tokens")
NOT_SERVED = (
    "Not Found: aiport serves Anthropic's POST /v1/messages and /v1/messages/count_tokens "
    "(not the Message Batches API)."
)


@anthropic_errors
async def create_message(request: web.Request) -> web.StreamResponse:
    svc, ctx = services(request), context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    req = _validate(MessagesRequest, body)
    estimate = Estimate(
        prompt_tokens=estimate_prompt_tokens(body),
        output_tokens=req.max_tokens,
        speed=str(body.get("speed") or ""),
        inference_geo=str(body.get("inference_geo") or ""),
    )
    group = await route(request, req.model, estimate, kind="messages")
    passed = _passed_on(request, _check_fields(group, MessagesRequest, body))
    if req.stream:
        return await _stream(request, ctx, group, req, body, passed)
    served = await serve(request, group, req, body, _messages, adjust=passed)
    result = served.result
    ctx.usage, ctx.usage_reported = result.usage, True
    return json_response(request, result)


@anthropic_errors
async def count_tokens(request: web.Request) -> web.Response:
    svc, ctx = services(request), context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    req = _validate(CountTokensRequest, body)
    group = await route(request, req.model, Estimate(), kind="messages")
    passed = _passed_on(request, _check_fields(group, CountTokensRequest, body))
    served = await serve(request, group, req, body, _count, adjust=passed)
    ctx.usage, ctx.usage_reported = Usage(), True  # counting generates nothing
    return json_response(request, served.result)


def _validate(model: type[R], body: dict[str, Any]) -> R:
    """`body` as `model`, its known fields checked strictly; what is wrong is refused in
    Anthropic's words (unknown fields: `_check_fields`, once the model's group is known)."""
    try:
        req = model.model_validate(body, strict=True)
    except ValidationError as exc:
        raise invalid_request(exc) from None
    return req


def _check_fields(group: Group, model: type[R], body: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields of `body` that `model` does not define, to pass on as sent.

    Those aiport decides (`AIPORT_DECIDES`) are refused for every model. Where aiport
    answers in Anthropic's place (any deployment of the group translates or is an embedded
    engine), any other unknown field, and a field inside a message or block that the
    installed SDK does not define, is refused as Anthropic refuses it: the translation
    would drop it unseen. Anthropic deployments judge such fields themselves (a fallback
    that translates drops them, as it drops thinking blocks)."""
    unknown = model.unknown_fields(body)
    for name in unknown:
        if name in AIPORT_DECIDES:
            raise InvalidRequest(f"{name}: {AIPORT_DECIDES[name]}", param=name)
    if all(deployment.backend.native_messages for deployment in group.deployments):
        return unknown
    if unknown:
        name = next(iter(unknown))
        raise InvalidRequest(f"{name}: Extra inputs are not permitted", param=name)
    try:
        SDKFields.model_validate(body, strict=True)
    except ValidationError as exc:
        raise invalid_request(exc) from None
    return unknown


def _messages(backend: Backend, call: Call) -> Awaitable[JSONBody]:
    return backend.messages(call)


def _count(backend: Backend, call: Call) -> Awaitable[JSONBody]:
    return backend.count_tokens(call)


def _passed_on(request: web.Request, unknown: dict[str, Any]) -> Callable[[Call], None]:
    """Anthropic's protocol headers, and the top-level fields aiport does not know, for an
    Anthropic upstream (a translation reads only the validated request: they never reach
    another provider). None of them is `model`: it stays the deployment's."""
    headers = {h: request.headers[h] for h in PASSED_HEADERS if h in request.headers}

    def adjust(call: Call) -> None:
        call.headers = dict(headers)
        if unknown:
            call.body.update(unknown)

    return adjust


def _generated_text(chunk: StreamChunk) -> int:
    if chunk.data.get("type") != "content_block_delta":
        return 0
    delta = chunk.data.get("delta") or {}
    return len(delta.get("text") or delta.get("partial_json") or "")


async def _whole_usage(
    ctx: RequestContext, chunks: AsyncGenerator[StreamChunk, None]
) -> AsyncGenerator[StreamChunk, None]:
    """Anthropic counts in `message_start` and again, cumulatively, in `message_delta`,
    which may leave out what it does not repeat: the request's usage is the start's counts
    overwritten by the delta's (as Anthropic's SDKs read them)."""
    counts: dict[str, Any] = {}
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            data = chunk.data
            if data.get("type") == "message_start":
                counts = dict((data.get("message") or {}).get("usage") or {})
            elif data.get("type") == "message_delta":
                delta = data.get("usage") or {}
                counts |= {name: value for name, value in delta.items() if value is not None}
                ctx.usage, ctx.usage_reported = anthropic_usage(counts), True
            yield chunk


async def _stream(
    request: web.Request,
    ctx: RequestContext,
    group: Group,
    req: MessagesRequest,
    body: dict[str, Any],
    passed: Callable[[Call], None],
) -> web.StreamResponse:
    async def open_messages(backend: Backend, call: Call) -> Opened:
        observed = observe_stream(ctx, backend.messages_stream(call), _generated_text)
        return await first_chunk(_whole_usage(ctx, observed))

    opened = await serve(
        request,
        group,
        req,
        body,
        open_messages,
        adjust=passed,
        stream=True,
    )
    return await write_named_stream(request, opened, error_event)


def add_other_routes(app: web.Application) -> None:
    """Anthropic-shaped answers for every other method on the Messages API's paths and
    every other path under them (after their own routes, which aiohttp tries first)."""
    for prefix in ("", "/v1"):
        for path in PATHS:
            app.router.add_route("*", prefix + path, _wrong_method)
        app.router.add_route("*", prefix + "/messages/{rest:.*}", _not_found)


@anthropic_errors
async def _wrong_method(request: web.Request) -> web.StreamResponse:
    raise MethodNotAllowed(
        f"Method Not Allowed: {request.path} takes POST.", headers={"allow": "POST"}
    )


@anthropic_errors
async def _not_found(request: web.Request) -> web.StreamResponse:
    raise NotFound(NOT_SERVED)

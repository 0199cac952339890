"""Anthropic's Messages API: POST /messages and /messages/count_tokens.

The same route, admission and metering as chat; errors in Anthropic's shape
(`anthropic_errors`), the key in `x-api-key` or as a Bearer token. The
`anthropic-version` and `anthropic-beta` headers go on to an Anthropic upstream.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import web

from aiport.api.anthropic_errors import anthropic_errors, error_event
from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import build_call, route
from aiport.api.responses import json_response
from aiport.api.sse import named_frames, open_stream, write_frames
from aiport.backends.anthropic import anthropic_usage
from aiport.backends.base import Call, StreamChunk, Usage
from aiport.context import RequestContext
from aiport.metering import Estimate, estimate_prompt_tokens, observe_stream
from aiport.protocol.messages import PASSED_HEADERS, CountTokensRequest, MessagesRequest
from aiport.routing import Target


@anthropic_errors
async def create_message(request: web.Request) -> web.StreamResponse:
    svc, ctx = services(request), context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    req = validate(MessagesRequest, body)
    estimate = Estimate(prompt_tokens=estimate_prompt_tokens(body), output_tokens=req.max_tokens)
    target = await route(request, req.model, estimate, kind="messages")
    call = _call(request, target, req, body)
    if req.stream:
        return await _stream(request, ctx, target, call)
    result = await target.backend.messages(call)
    ctx.usage, ctx.usage_reported = result.usage, True
    return json_response(request, result)


@anthropic_errors
async def count_tokens(request: web.Request) -> web.Response:
    svc, ctx = services(request), context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    req = validate(CountTokensRequest, body)
    target = await route(request, req.model, Estimate(), kind="messages")
    call = _call(request, target, req, body)
    result = await target.backend.count_tokens(call)
    ctx.usage, ctx.usage_reported = Usage(), True  # counting generates nothing
    return json_response(request, result)


def _call(
    request: web.Request, target: Target, req: CountTokensRequest, body: dict[str, Any]
) -> Call:
    call = build_call(request, target, req, body, req.model)
    call.headers = {h: request.headers[h] for h in PASSED_HEADERS if h in request.headers}
    return call


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
    request: web.Request, ctx: RequestContext, target: Target, call: Call
) -> web.StreamResponse:
    observed = observe_stream(ctx, target.backend.messages_stream(call), _generated_text)
    async with contextlib.aclosing(_whole_usage(ctx, observed)) as chunks:
        try:
            first = await anext(chunks)  # errors before it are ordinary HTTP errors
        except StopAsyncIteration:
            first = None
        response = await open_stream(request)
        async with contextlib.aclosing(named_frames(first, chunks)) as frames:
            ctx.status = await write_frames(
                response, frames, ctx.request_id, done=b"", error_frame=error_event
            )
    return response

"""POST /chat/completions: one answer, or a stream of chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from aiport.accounts import DEFAULT_OUTPUT_ESTIMATE
from aiport.api.bodies import read_json, validate
from aiport.api.context import RequestContext, context, services
from aiport.api.dispatch import build_call, route
from aiport.api.responses import json_response
from aiport.api.sse import chunk_frame, open_stream, write_frames
from aiport.backends.base import Call, StreamChunk
from aiport.metering import estimate_tokens, observe_chat_stream
from aiport.protocol.chat import DEFAULT_TEMPERATURE, ChatCompletionRequest
from aiport.routing import Target


async def create_chat_completion(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    ctx = context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    chat = validate(ChatCompletionRequest, body)
    # A first estimate for limits, replaced by the backend's count when it answers.
    ctx.usage.prompt_tokens = estimate_tokens(request.content_length or 0)
    target = await route(request, chat.model, chat.completion_limit or DEFAULT_OUTPUT_ESTIMATE)
    call = build_call(request, target, ChatCompletionRequest, body, chat.model)
    call.body.setdefault("temperature", DEFAULT_TEMPERATURE)
    if chat.stream:
        # Usage is always asked of the backend (for metering) and dropped again below
        # when the client did not ask for it.
        call.body["stream_options"] = {**_stream_options(body), "include_usage": True}
        return await _stream(request, ctx, target, call, chat.wants_usage_chunk)
    result = await target.backend.chat(call)
    ctx.usage, ctx.usage_reported = result.usage, True
    return json_response(request, result)


def _stream_options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("stream_options")
    return dict(options) if isinstance(options, dict) else {}


async def _stream(
    request: web.Request, ctx: RequestContext, target: Target, call: Call, keep_usage: bool
) -> web.StreamResponse:
    chunks = observe_chat_stream(ctx, target.backend.chat_stream(call))
    try:
        # Errors before the first chunk (bad key upstream, unknown model there...) are
        # still ordinary HTTP errors: the stream is only opened once there is content.
        first = await anext(chunks)
    except StopAsyncIteration:
        first = None
    response = await open_stream(request)
    ctx.status = await write_frames(response, _frames(first, chunks, keep_usage), ctx.request_id)
    return response


async def _frames(
    first: StreamChunk | None, rest: AsyncIterator[StreamChunk], keep_usage: bool
) -> AsyncIterator[bytes]:
    """SSE frames: the first at once (time to first token), then chunks that arrived
    together leave together (one write, not one each)."""
    if first is not None:
        frame = chunk_frame(first, keep_usage)
        if frame:
            yield frame
    pending: list[bytes] = []
    async for chunk in rest:
        frame = chunk_frame(chunk, keep_usage)
        if frame:
            pending.append(frame)
        if pending and not chunk.batched:
            yield b"".join(pending)
            pending.clear()
    if pending:
        yield b"".join(pending)

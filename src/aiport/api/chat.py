"""POST /chat/completions: one answer, or a stream of chunks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import build_call, route
from aiport.api.responses import json_response
from aiport.api.sse import chunk_frame, open_stream, write_frames
from aiport.backends.base import Call, StreamChunk
from aiport.context import RequestContext
from aiport.metering import Estimate, completion_estimate, estimate_prompt_tokens, observe_stream
from aiport.protocol.chat import DEFAULT_TEMPERATURE, ChatCompletionRequest
from aiport.routing import Target

DEFAULTS = {"temperature": DEFAULT_TEMPERATURE}  # the seed's; an upstream may keep its own


async def create_chat_completion(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    ctx = context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    chat = validate(ChatCompletionRequest, body)
    estimate = Estimate(
        prompt_tokens=estimate_prompt_tokens(body),
        output_tokens=completion_estimate(chat.completion_limit, chat.n),
    )
    target = await route(request, chat.model, estimate, kind="chat")
    # A stream's usage is always asked of the backend (for metering) and dropped again
    # below when the client did not ask for it.
    call = build_call(
        request, target, chat, body, chat.model, defaults=DEFAULTS, want_usage=bool(chat.stream)
    )
    if chat.stream:
        return await _stream(request, ctx, target, call, chat.wants_usage_chunk)
    result = await target.backend.chat(call)
    ctx.usage, ctx.usage_reported = result.usage, True
    return json_response(request, result)


async def _stream(
    request: web.Request, ctx: RequestContext, target: Target, call: Call, keep_usage: bool
) -> web.StreamResponse:
    # Closed here, whatever happens (a client gone, a broken upstream), so that the usage
    # the chain counted is final before the middleware writes the request's row.
    async with contextlib.aclosing(observe_stream(ctx, target.backend.chat_stream(call))) as chunks:
        try:
            # Errors before the first chunk (bad key upstream, unknown model there...) are
            # still ordinary HTTP errors: the stream is only opened once there is content.
            first = await anext(chunks)
        except StopAsyncIteration:
            first = None
        response = await open_stream(request)
        async with contextlib.aclosing(_frames(first, chunks, keep_usage)) as frames:
            ctx.status = await write_frames(response, frames, ctx.request_id)
    return response


async def _frames(
    first: StreamChunk | None, rest: AsyncIterator[StreamChunk], keep_usage: bool
) -> AsyncGenerator[bytes, None]:
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

"""POST /completions: legacy text completions, one answer or a stream of chunks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import route, serve
from aiport.api.responses import json_response
from aiport.api.sse import Opened, chunk_frame, first_chunk, open_stream, write_frames
from aiport.backends.base import Backend, Call, JSONBody, StreamChunk
from aiport.metering import Estimate, completion_estimate, estimate_prompt_tokens, observe_stream
from aiport.protocol.completions import DEFAULT_MAX_TOKENS, CompletionRequest

# What a request without max_tokens reserves is what it is sent: OpenAI's default, which
# other servers do not share (llama.cpp's server generates until the context ends).
DEFAULTS = {"max_tokens": DEFAULT_MAX_TOKENS}


async def create_completion(request: web.Request) -> web.StreamResponse:
    svc, ctx = services(request), context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    req = validate(CompletionRequest, body)
    limit = DEFAULT_MAX_TOKENS if req.max_tokens is None else max(req.max_tokens, 1)
    estimate = Estimate(
        prompt_tokens=estimate_prompt_tokens({"prompt": req.prompt, "suffix": req.suffix}),
        output_tokens=completion_estimate(limit, req.candidates),
    )
    group = await route(request, req.model, estimate, kind="chat")
    if not req.stream:
        served = await serve(request, group, req, body, _complete, defaults=DEFAULTS)
        result = served.result
        ctx.usage, ctx.usage_reported = result.usage, True
        return json_response(request, result)

    async def open_completion(backend: Backend, call: Call) -> Opened:
        return await first_chunk(
            observe_stream(ctx, backend.completions_stream(call), _generated_text)
        )

    # A stream's usage is always asked for (metering), and dropped again below.
    opened = await serve(
        request, group, req, body, open_completion, defaults=DEFAULTS, want_usage=True, stream=True
    )
    first, chunks = opened.result
    ok: bool | None = None
    try:
        async with contextlib.aclosing(chunks):
            response = await open_stream(request)
            frames = _frames(first, chunks, req.wants_usage_chunk)
            async with contextlib.aclosing(frames):
                await write_frames(response, frames, ctx)
        ok = ctx.deployment_ok
        return response
    finally:
        opened.lease.finish(ok)


def _complete(backend: Backend, call: Call) -> Awaitable[JSONBody]:
    return backend.completions(call)


def _generated_text(chunk: StreamChunk) -> int:
    return sum(len(c.get("text") or "") for c in chunk.data.get("choices") or [])


async def _frames(
    first: StreamChunk | None, rest: AsyncIterator[StreamChunk], keep_usage: bool
) -> AsyncGenerator[bytes, None]:
    for chunk in [first] if first is not None else []:
        frame = chunk_frame(chunk, keep_usage)
        if frame:
            yield frame
    async for chunk in rest:
        frame = chunk_frame(chunk, keep_usage)
        if frame:
            yield frame

"""POST /chat/completions: one answer, or a stream of chunks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import Any

import orjson
from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import answer, cached, cached_response, route, serve
from aiport.api.sse import Opened, chunk_frame, first_chunk, open_stream, write_frames
from aiport.backends.base import Backend, Call, JSONBody, StreamChunk
from aiport.context import RequestContext
from aiport.metering import (
    Estimate,
    completion_estimate,
    estimate_prompt_tokens,
    observe_stream,
    without_limit,
)
from aiport.protocol.chat import DEFAULT_TEMPERATURE, ChatCompletionRequest
from aiport.routing.cache import Lookup
from aiport.routing.cache_store import CachedAnswer
from aiport.routing.deployment import Group

DEFAULTS = {"temperature": DEFAULT_TEMPERATURE}  # the seed's; an upstream may keep its own


async def create_chat_completion(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    ctx = context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    chat = validate(ChatCompletionRequest, body)
    estimate = Estimate(
        prompt_tokens=estimate_prompt_tokens(body),
        output_tokens=completion_estimate(chat.completion_limit, chat.n),
        outputs_without_limit=without_limit(chat.completion_limit, chat.n),
    )
    group = await route(request, chat.model, estimate, kind="chat")
    lookup = await cached(request, group, "chat", body)
    if lookup is not None and lookup.answer is not None:
        if chat.stream:
            return await _replay(request, ctx, lookup.answer, chat.wants_usage_chunk)
        return cached_response(request, lookup)
    if chat.stream:
        return await _stream(request, ctx, group, body, chat, lookup)
    served = await serve(request, group, chat, body, _chat, defaults=DEFAULTS)
    return answer(request, lookup, group, served)


def _chat(backend: Backend, call: Call) -> Awaitable[JSONBody]:
    return backend.chat(call)


async def _stream(
    request: web.Request,
    ctx: RequestContext,
    group: Group,
    body: dict[str, Any],
    chat: ChatCompletionRequest,
    lookup: Lookup | None,
) -> web.StreamResponse:
    async def open_chat(backend: Backend, call: Call) -> Opened:
        # (Errors before the first chunk — a bad key upstream, an unknown model there — are
        # ordinary HTTP errors, and may be retried.)
        return await first_chunk(observe_stream(ctx, backend.chat_stream(call)))

    # Usage is always asked of the backend (for metering) and dropped again below when the
    # client did not ask for it.
    opened = await serve(
        request, group, chat, body, open_chat, defaults=DEFAULTS, want_usage=True, stream=True
    )
    first, rest = opened.result
    ok: bool | None = None
    try:
        # Closed here, whatever happens (a client gone, a broken upstream), so that the usage
        # the chain counted is final before the middleware writes the row.
        async with contextlib.aclosing(rest):
            # A stream the cache should keep is recorded as it goes, and kept only if it
            # ended well (never a fallback's, nor one cut off).
            recording = lookup is not None and lookup.store and opened.lease.group is group
            kept: list[bytes] | None = [] if recording else None
            response = await open_stream(request)
            frames = _frames(first, rest, chat.wants_usage_chunk, kept)
            async with contextlib.aclosing(frames):
                await write_frames(response, frames, ctx)
        ok = ctx.deployment_ok
        cache = services(request).cache
        if cache is not None and lookup is not None and kept and ctx.status == 200:
            cache.keep(lookup, CachedAnswer(chunks=tuple(kept)))
        return response
    finally:
        opened.lease.finish(ok)
        opened.lease.settle(ctx.usage.prompt_tokens + ctx.usage.completion_tokens)


async def _frames(
    first: StreamChunk | None,
    rest: AsyncIterator[StreamChunk],
    keep_usage: bool,
    kept: list[bytes] | None = None,
) -> AsyncGenerator[bytes, None]:
    """SSE frames: the first at once (time to first token), then chunks that arrived
    together leave together (one write, not one each). Each chunk's payload also goes into
    `kept`, when given, for the response cache (its bytes only: keeping the parsed chunks
    until the stream ends made every chunk's handling slower, measured)."""
    if first is not None:
        if kept is not None:
            kept.append(_raw(first))
        frame = chunk_frame(first, keep_usage)
        if frame:
            yield frame
    pending: list[bytes] = []
    async for chunk in rest:
        if kept is not None:
            kept.append(chunk.raw if chunk.raw is not None else orjson.dumps(chunk.data))
        frame = chunk_frame(chunk, keep_usage)
        if frame:
            pending.append(frame)
        if pending and not chunk.batched:
            yield b"".join(pending)
            pending.clear()
    if pending:
        yield b"".join(pending)


async def _replay(
    request: web.Request, ctx: RequestContext, answer: CachedAnswer, keep_usage: bool
) -> web.StreamResponse:
    """A cached stream, its chunks as they were first sent: the first at once, the rest
    together (they are all at hand)."""
    frames = [f for f in (_replayed_frame(raw, keep_usage) for raw in answer.chunks) if f]

    async def replayed() -> AsyncIterator[bytes]:
        if frames:
            yield frames[0]
        if len(frames) > 1:
            yield b"".join(frames[1:])

    response = await open_stream(request)
    await write_frames(response, replayed(), ctx)
    return response


def _replayed_frame(raw: bytes, keep_usage: bool) -> bytes | None:
    """A cached chunk's frame; parsed only when it may carry usage the client did not ask
    for (a quote-delimited `"usage"` cannot appear inside a JSON string's text)."""
    if keep_usage or b'"usage"' not in raw:
        return b"".join((b"data: ", raw, b"\n\n"))
    return chunk_frame(StreamChunk(orjson.loads(raw), raw=raw), keep_usage)


def _raw(chunk: StreamChunk) -> bytes:
    return chunk.raw if chunk.raw is not None else orjson.dumps(chunk.data)

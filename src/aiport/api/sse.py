"""The only writer of server-sent events.

Framing is OpenAI's: `data: <json>\\n\\n` per chunk, `data: [DONE]\\n\\n` at the end. A failure
after the stream began is one `data: {"error": {...}}` frame, then the connection closes
without `[DONE]`, so clients see an error rather than a silently short answer.

Protocols that name their events (the Responses API, Anthropic's Messages API) are framed
`event: <name>\\ndata: <json>\\n\\n`, end without `[DONE]`, and bring their own error frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import orjson
from aiohttp import web

from aiport.api.context import context, services
from aiport.api.responses import response_headers, start_streaming
from aiport.backends.base import StreamChunk
from aiport.context import RequestContext
from aiport.errors import APIError, InternalError, Unavailable
from aiport.lifecycle import absorb_cut, is_shutdown_cut
from aiport.routing.attempts import Served
from aiport.routing.retry import DEFECTS

log = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"
CONTENT_TYPE = "text/event-stream; charset=utf-8"


def frame(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


def event_frame(chunk: StreamChunk) -> bytes:
    """`event: <name>` and the chunk's data (as received, when it passes through)."""
    payload = chunk.raw if chunk.raw is not None else orjson.dumps(chunk.data)
    return b"event: " + (chunk.event or "message").encode() + b"\ndata: " + payload + b"\n\n"


# A stream as `serve` opens it: its first chunk (None for an empty stream) and the rest.
Opened = tuple[StreamChunk | None, AsyncGenerator[StreamChunk, None]]


async def first_chunk(chunks: AsyncGenerator[StreamChunk, None]) -> Opened:
    """Wait for the stream's first chunk. Errors before it are ordinary HTTP errors, and may
    be retried (nothing reached the client yet: the stream is only opened to the client
    once there is content); the stream is closed then."""
    try:
        return await anext(chunks, None), chunks
    except BaseException:
        await chunks.aclose()
        raise


async def write_named_stream(
    request: web.Request,
    opened: Served[Opened],
    error_frame: Callable[[APIError], bytes],
) -> web.StreamResponse:
    """Send an opened stream of named events (Responses, Messages) to the client, and
    finish the lease on the deployment that serves it. The chunks are closed here, whatever
    happens, so the usage counted is final before the request's row is written."""
    ctx = context(request)
    first, chunks = opened.result
    ok: bool | None = None
    try:
        async with contextlib.aclosing(chunks):
            response = await open_stream(request)
            async with contextlib.aclosing(named_frames(first, chunks)) as frames:
                await write_frames(response, frames, ctx, done=b"", error_frame=error_frame)
        ok = ctx.deployment_ok
        return response
    finally:
        opened.lease.finish(ok)


async def named_frames(
    first: StreamChunk | None, rest: AsyncIterator[StreamChunk]
) -> AsyncGenerator[bytes, None]:
    """Named-event frames: the first at once, then those that arrived together in one."""
    if first is not None:
        yield event_frame(first)
    pending: list[bytes] = []
    async for chunk in rest:
        pending.append(event_frame(chunk))
        if not chunk.batched:
            yield b"".join(pending)
            pending.clear()
    if pending:
        yield b"".join(pending)


def openai_error_frame(exc: APIError) -> bytes:
    return frame(exc.body())


_USAGE_NULL_TAIL = b',"usage":null}'


def chunk_frame(chunk: StreamChunk, keep_usage: bool) -> bytes | None:
    """The frame for one chat chunk; None for the usage chunk a client did not ask for.

    aiport always asks backends for usage (to meter it). When the client did not, the
    extra usage chunk is dropped and the `"usage": null` OpenAI then adds to every chunk
    is cut off the end of the bytes, so the rest passes through unchanged.
    """
    # (Runs for every chunk: the frames are joined here, in one copy, not by `frame`.)
    raw = chunk.raw
    if not keep_usage and "usage" in chunk.data:
        if chunk.data["usage"] is not None and not chunk.data.get("choices"):
            return None
        if raw is not None and raw.endswith(_USAGE_NULL_TAIL):
            return b"".join((b"data: ", memoryview(raw)[: -len(_USAGE_NULL_TAIL)], b"}\n\n"))
        raw = orjson.dumps({k: v for k, v in chunk.data.items() if k != "usage"})
    elif raw is None:
        raw = orjson.dumps(chunk.data)
    return b"".join((b"data: ", raw, b"\n\n"))


async def open_stream(
    request: web.Request, extra: dict[str, str] | None = None
) -> web.StreamResponse:
    opened(request)
    response = web.StreamResponse(headers=response_headers(request, extra))
    response.content_type = "text/event-stream"
    response.charset = "utf-8"
    response.headers["cache-control"] = "no-cache"
    response.headers["x-accel-buffering"] = "no"
    await start_streaming(request, response)
    return response


def opened(request: web.Request) -> None:
    """Count the stream as open until its request ends (the middleware closes it)."""
    ctx = context(request)
    metrics = services(request).metrics
    if not ctx.streaming and metrics is not None:
        metrics.open_streams += 1
    ctx.streaming = True


async def write_frames(
    response: web.StreamResponse,
    frames: AsyncIterator[bytes],
    ctx: RequestContext,
    *,
    done: bytes = DONE,
    error_frame: Callable[[APIError], bytes] = openai_error_frame,
) -> None:
    """Write every frame, then `done`; on a failure mid-way, `error_frame(exc)` instead.

    `ctx.status` is the status the request ended with, for metering: 200, or the
    failure's (and `ctx.defect` says whether a defect of our own code was that failure).
    A client that went away raises out of here (its task is being cancelled anyway):
    errors from writing are the client's, errors from producing frames are ours.
    """
    ctx.status = await _write_frames(response, aiter(frames), ctx, done, error_frame)


async def _write_frames(
    response: web.StreamResponse,
    frames: AsyncIterator[bytes],
    ctx: RequestContext,
    done: bytes,
    error_frame: Callable[[APIError], bytes],
) -> int:
    request_id = ctx.request_id
    while True:
        failure: APIError
        try:
            data = await anext(frames)
        except StopAsyncIteration:
            break
        except APIError as exc:
            log.warning("stream %s failed after it began: %s", request_id, exc.message)
            failure = exc
        except asyncio.CancelledError as exc:
            if not is_shutdown_cut(exc):
                raise
            absorb_cut()
            log.info("stream %s cut: the server is shutting down", request_id)
            failure = Unavailable("The server is shutting down.")
        except Exception as exc:
            log.exception("stream %s failed", request_id)
            ctx.defect = isinstance(exc, DEFECTS)
            failure = InternalError("The stream failed on the server.")
        else:
            await response.write(data)
            continue
        ctx.error_type = failure.type  # for the usage row, as a failure before it began
        await _write_error(response, error_frame(failure))
        return failure.status
    if done:
        await response.write(done)
    return 200


async def _write_error(response: web.StreamResponse, data: bytes) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        await response.write(data)

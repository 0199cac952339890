"""POST /audio/speech (audio out, streamed) and /audio/transcriptions, /audio/translations."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import Any

import orjson
from aiohttp import web

from aiport.api import sse
from aiport.api.bodies import read_form, read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import admit_before_body, route, serve
from aiport.api.responses import json_response, response_headers, start_streaming
from aiport.backends.base import (
    JSON,
    Backend,
    BinaryBody,
    Call,
    JSONBody,
    TextBody,
    Transcribed,
    TranscriptStream,
    Upload,
)
from aiport.backends.local.audio_decode import audio_length
from aiport.context import RequestContext
from aiport.errors import APIError, InternalError, InvalidRequest
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.audio import (
    SpeechRequest,
    TranscriptionRequest,
    TranslationRequest,
)
from aiport.routing.attempts import Lease
from aiport.routing.retry import DEFECTS

log = logging.getLogger(__name__)
LENGTH_ONLY = frozenset({"text", "srt", "vtt"})  # transcript formats without a usage

# File signatures of common formats that are certainly not audio: refused before any
# model or upstream sees them. Anything else is left to the decoder to judge.
NOT_AUDIO_SIGNATURES = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF",
    b"PK\x03\x04",
    b"{",
    b"[",
    b"<",
)


async def create_speech(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    body = await read_json(request, services(request).settings.max_json_bytes)
    speech = validate(SpeechRequest, body)
    estimate = Estimate(characters=len(speech.input), meter="characters")
    group = await route(request, speech.model, estimate, kind="speech")

    async def speak(backend: Backend, call: Call) -> tuple[BinaryBody, bytes, AsyncIterator[bytes]]:
        audio = await backend.speech(call)
        chunks = aiter(audio.chunks)
        # Pull the first bytes before answering, so that a failure is still a proper error
        # (may be retried, and costs nothing: the usage counts once there is audio).
        return audio, await anext(chunks, b""), chunks

    served = await serve(request, group, speech, body, speak, stream=True)
    audio, first, chunks = served.result
    ctx.usage, ctx.usage_reported = audio.usage, True
    ctx.mark_token()
    ok: bool | None = None
    content_type = audio.content_type.split(";")[0]
    # An engine that makes only audio, asked for events: they are made here.
    as_events = speech.stream_format == "sse" and content_type != "text/event-stream"
    events = as_events or content_type == "text/event-stream"
    try:
        response = web.StreamResponse(headers=response_headers(request))
        response.content_type = "text/event-stream" if as_events else content_type
        await start_streaming(request, response)
        frames = _speech_events(first, chunks, audio) if as_events else _raw(first, chunks)
        last = b""
        try:
            async for last in frames:
                await response.write(last)
        except (ConnectionError, OSError):
            raise  # the client went away
        except Exception as exc:
            failure = exc if isinstance(exc, APIError) else InternalError("The speech failed.")
            ctx.status, ctx.error_type = failure.status, failure.type
            ctx.defect = isinstance(exc, DEFECTS)
            ok = ctx.deployment_ok
            if events:
                await _error_event(response, ctx.request_id, exc, failure, last)
            else:
                _cut_off(request, ctx.request_id, exc)
            return response
        await response.write_eof()
        ok = True
        return response
    finally:
        served.lease.finish(ok)


async def _raw(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _speech_events(
    first: bytes, rest: AsyncIterator[bytes], audio: BinaryBody
) -> AsyncIterator[bytes]:
    """Audio (from an engine that makes only audio) as OpenAI's `stream_format: "sse"`
    events: `speech.audio.delta` per chunk (base64), then `speech.audio.done`. Its usage
    counts the tokens the request is billed: none for a voice billed per character of
    input (the local one, with or without events)."""
    async for chunk in _raw(first, rest):
        if chunk:
            delta = {"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()}
            yield sse.frame(orjson.dumps(delta))
    tokens = audio.usage.prompt_tokens, audio.usage.completion_tokens
    usage = {"input_tokens": tokens[0], "output_tokens": tokens[1], "total_tokens": sum(tokens)}
    yield sse.frame(orjson.dumps({"type": "speech.audio.done", "usage": usage}))


def _cut_off(request: web.Request, request_id: str, exc: Exception) -> None:
    """End a response whose status has been sent: audio has no in-band error, so the
    connection is closed before the body's end, and the client sees a broken download
    rather than a short file that looks complete (or a connection left hanging)."""
    _log_failure(request_id, exc)
    if request.transport is not None:
        request.transport.close()


async def _error_event(
    response: web.StreamResponse, request_id: str, exc: Exception, failure: APIError, last: bytes
) -> None:
    """End events (`stream_format: "sse"`) with an `error` event instead of
    `speech.audio.done`, as OpenAI's streams end: `{"type": "error", "error": {...}}` (the
    SDKs' stream readers raise on its `error`). An event the upstream broke off is ended
    first, so that the error is an event of its own."""
    _log_failure(request_id, exc)
    error = orjson.loads(failure.body())["error"]
    lead = b"" if last.endswith(b"\n\n") else b"\n\n"
    with contextlib.suppress(ConnectionError, OSError):
        await response.write(lead + sse.frame(orjson.dumps({"type": "error", "error": error})))
        await response.write_eof()


def _log_failure(request_id: str, exc: Exception) -> None:
    if isinstance(exc, APIError):
        log.warning("speech %s failed after it began: %s", request_id, exc.message)
    else:
        log.error("speech %s failed after it began", request_id, exc_info=exc)


async def create_transcription(request: web.Request) -> web.StreamResponse:
    return await _audio_to_text(request, TranscriptionRequest, translate=False)


async def create_translation(request: web.Request) -> web.StreamResponse:
    return await _audio_to_text(request, TranslationRequest, translate=True)


async def _audio_to_text(
    request: web.Request, wire: type[TranslationRequest], *, translate: bool
) -> web.StreamResponse:
    svc = services(request)
    ctx = context(request)
    await admit_before_body(request)
    fields, upload = await read_form(request, svc.settings.max_body_bytes, svc.uploads.directory)
    try:
        if upload is None:
            raise InvalidRequest("Missing required parameter: 'file'.", param="file")
        _refuse_non_audio(upload)
        parsed = validate(wire, fields, strict=False)  # form fields are text
        # Its length, as the container tells, prices it (for a key: usage is recorded); an
        # answer as plain text reports nothing else, so only a price per minute can bill it.
        seconds = await asyncio.to_thread(audio_length, upload.path) if ctx.caller else None
        estimate = Estimate(
            prompt_tokens=estimate_prompt_tokens(fields),
            audio_seconds=seconds or 0.0,
            meter="audio length" if parsed.response_format in LENGTH_ONLY else "audio",
        )
        group = await route(request, parsed.model, estimate, kind="transcription", admitted=True)

        def listen(backend: Backend, call: Call) -> Awaitable[Transcribed]:
            return backend.translate(call) if translate else backend.transcribe(call)

        # A stream holds its deployment until it ends (the others hand it back at once).
        streams = isinstance(parsed, TranscriptionRequest) and parsed.streams_events
        served = await serve(request, group, parsed, fields, listen, upload=upload, stream=streams)
        result = served.result
    finally:
        if upload is not None:
            upload.path.unlink(missing_ok=True)
    ctx.usage, ctx.usage_reported = result.usage, True
    if isinstance(result, TranscriptStream):
        return await _write_transcript_stream(request, served.lease, result)
    served.lease.finish(True)
    if streams and not _is_events(result):
        return _transcript_events(request, result)
    if isinstance(result, JSONBody):
        return json_response(request, result)
    return web.Response(
        text=result.text,
        content_type=result.content_type.split(";")[0],
        charset="utf-8",
        headers=response_headers(request),
    )


def _is_events(result: JSONBody | TextBody) -> bool:
    return isinstance(result, TextBody) and result.content_type.startswith("text/event-stream")


async def _write_transcript_stream(
    request: web.Request, lease: Lease, transcript: TranscriptStream
) -> web.StreamResponse:
    """Send each transcript event as the engine makes it; the usage is what was sent."""
    ctx = context(request)
    ok: bool | None = None
    try:
        # The events are closed here, even if never taken (the client left first).
        async with (
            contextlib.aclosing(transcript.events),
            contextlib.aclosing(_event_frames(ctx, transcript.events)) as frames,
        ):
            response = await sse.open_stream(request)
            await sse.write_frames(response, frames, ctx, done=b"")
        ok = ctx.deployment_ok
        return response
    finally:
        lease.finish(ok)


async def _event_frames(
    ctx: RequestContext, events: AsyncGenerator[JSON, None]
) -> AsyncGenerator[bytes, None]:
    async for event in events:
        if event["type"] == "transcript.text.delta":
            ctx.mark_token()
        yield sse.frame(orjson.dumps(event))


def _transcript_events(request: web.Request, result: JSONBody | TextBody) -> web.Response:
    """A whole transcript (an engine or upstream that does not stream) as the events the
    SDK reads for `stream: true`: the text as one delta, then `transcript.text.done`."""
    data = result.data if isinstance(result, JSONBody) else {"text": result.text.strip()}
    text = str(data.get("text") or "")
    done: dict[str, Any] = {"type": "transcript.text.done", "text": text}
    usage = data.get("usage")
    if isinstance(usage, dict) and usage.get("type") == "tokens":  # the event's only kind
        done["usage"] = usage
    events = [{"type": "transcript.text.delta", "delta": text}] if text else []
    body = b"".join(sse.frame(orjson.dumps(event)) for event in [*events, done])
    return web.Response(
        body=body, headers={**response_headers(request), "Content-Type": sse.CONTENT_TYPE}
    )


def _refuse_non_audio(upload: Upload) -> None:
    if upload.size == 0:
        raise InvalidRequest("The uploaded file is empty.", param="file")
    with upload.path.open("rb") as file:
        head = file.read(16).lstrip()
    if head.startswith(NOT_AUDIO_SIGNATURES):
        raise InvalidRequest(
            f"The file `{upload.filename}` is not audio. Supported formats: flac, m4a, mp3, "
            "mp4, mpeg, mpga, oga, ogg, wav, webm.",
            param="file",
            code="invalid_file_format",
        )

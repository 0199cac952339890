"""Any OpenAI-compatible server as a backend: OpenAI itself, vLLM, llama.cpp, Ollama, aiport.

The key sent upstream is the provider's, never the caller's. Bodies pass through as bytes
where they can: a successful JSON answer is parsed once (for its usage) and sent on as
received; stream events are forwarded as they arrive. Error answers keep their status, body
and `retry-after`. Closing a stream iterator closes the upstream connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager

import orjson

from aiport import tracing
from aiport.backends.base import (
    JSON,
    Backend,
    BinaryBody,
    Call,
    CallTimeouts,
    JSONBody,
    StreamChunk,
    TextBody,
    Transcribed,
    TranscriptStream,
    Usage,
    upstream_request_id,
)
from aiport.backends.http_client import (
    Body,
    Pool,
    Response,
    UpstreamBadAnswer,
    UpstreamConnectionError,
    UpstreamTimeout,
)
from aiport.backends.multipart import MultipartForm
from aiport.backends.sse_reader import SSEEventTooLarge, sse_data
from aiport.errors import APIError, BadGateway, GatewayTimeout, UpstreamError
from aiport.protocol.audio import CONTENT_TYPES, TranscriptionRequest
from aiport.settings import ProviderConfig

log = logging.getLogger(__name__)

MODEL_LIST_TIMEOUT = 10.0  # /models must not wait minutes on an upstream that hangs

# Upstream response headers a client may act on; everything else stays behind the proxy.
PASSED_ERROR_HEADERS = (
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
)


class UpstreamBackend(Backend):
    keeps_timeouts = True  # connect, first byte, idle and total, on the connection's timer

    def __init__(self, name: str, config: ProviderConfig) -> None:
        self.name = name
        self.config = config
        self.kind = config.type or ("openai" if name == "openai" else "openai-compatible")
        self.base_url = config.base_url.rstrip("/")
        self._pool: Pool | None = None
        self._headers: list[tuple[str, str]] = [("user-agent", "aiport")]
        if config.api_key is not None and config.api_key.get_secret_value():
            self._headers.append(("authorization", f"Bearer {config.api_key.get_secret_value()}"))
        self._json_headers = [*self._headers, ("content-type", "application/json")]
        self._timeouts = CallTimeouts(
            connect=config.connect_timeout,
            first_byte=config.first_byte_timeout,
            idle=config.idle_timeout or config.first_byte_timeout,
            total=config.timeout,
            stream_total=config.stream_timeout,
        )

    async def start(self) -> None:
        self._pool = Pool(
            self.base_url,
            connect_timeout=self.config.connect_timeout,
            read_timeout=self.config.first_byte_timeout,
            max_connections=self.config.max_connections,
            max_body_bytes=self.config.max_answer_bytes,
        )

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def status(self) -> JSON:
        return {"kind": "upstream"}

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            raise RuntimeError("UpstreamBackend used before start()")
        return self._pool

    # -- the HTTP exchange -------------------------------------------------------------

    @asynccontextmanager
    async def _request(
        self,
        method: str,
        path: str,
        body: Body = b"",
        headers: list[tuple[str, str]] | None = None,
        length: int | None = None,
        timeouts: CallTimeouts | None = None,
        deadline: float | None = None,
    ) -> AsyncIterator[Response]:
        """Open a request; raise our errors for transport failures and error statuses.
        Leaving the block gives the connection back, or drops it if the body was not read."""
        response = await self._open(method, path, body, headers, length, timeouts, deadline)
        try:
            yield response
        finally:
            response.close()

    async def _open(
        self,
        method: str,
        path: str,
        body: Body = b"",
        headers: list[tuple[str, str]] | None = None,
        length: int | None = None,
        timeouts: CallTimeouts | None = None,
        deadline: float | None = None,
    ) -> Response:
        """Send a request and return the answer's head; an error status is raised here.
        `deadline` (loop time) bounds the whole answer."""
        try:
            response = await self.pool.request(
                method,
                path,
                tracing.outgoing(headers or self._headers, self.name, self.config.base_url),
                body,
                length=length,
                read_timeout=timeouts.first_byte if timeouts else None,
                connect_timeout=timeouts.connect if timeouts else None,
                deadline=deadline,
            )
        except UpstreamTimeout as exc:
            raise GatewayTimeout(f"The upstream `{self.name}` did not answer in time.") from exc
        except UpstreamBadAnswer as exc:
            raise _bad_answer(self.name, exc) from exc
        except UpstreamConnectionError as exc:
            log.warning("upstream %s unreachable: %s", self.name, exc)
            raise BadGateway(f"The upstream `{self.name}` could not be reached.") from exc
        upstream_request_id.set(_their_id(response))
        if response.status >= 400:
            try:
                raise await _upstream_error(response, self.error_body)
            finally:
                response.close()
        return response

    def error_body(self, raw: bytes, status: int) -> bytes:
        """An upstream's error body as clients get it: OpenAI's shape."""
        return _openai_error_body(raw, status)

    @asynccontextmanager
    async def _deadline(self, seconds: float) -> AsyncIterator[None]:
        """Bound a whole non-stream exchange (streams are bounded between reads only)."""
        try:
            async with asyncio.timeout(seconds):
                yield
        except TimeoutError as exc:
            raise GatewayTimeout(
                f"The upstream `{self.name}` did not finish answering in {seconds:g} s."
            ) from exc

    async def _post_json(self, path: str, call: Call) -> JSONBody:
        """POST a JSON body and read the whole answer, within `timeouts.total`: a deadline
        the connection's own read timer keeps (no timer of its own: this is the hot path)."""
        timeouts = call.timeouts or self._timeouts
        deadline = asyncio.get_running_loop().time() + timeouts.total
        body = orjson.dumps(call.body)
        resp = await self._open("POST", path, body, self._json_headers, None, timeouts, deadline)
        try:
            resp.read_timeout = timeouts.idle
            raw = await _read(resp, self.name)
        finally:
            resp.close()
        data = _parse(raw, self.name)
        return JSONBody(data, raw, Usage.from_openai(data.get("usage")))  # data, raw, usage

    # -- capabilities ------------------------------------------------------------------

    async def chat(self, call: Call) -> JSONBody:
        return await self._post_json("/chat/completions", call)

    def chat_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        return self._events(
            "/chat/completions", call.body, timeouts=call.timeouts, complete=_finished
        )

    async def responses(self, call: Call) -> JSONBody:
        if self.kind != "openai":
            return await super().responses(call)
        return await self._post_json("/responses", call)

    def responses_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        if self.kind != "openai":
            return super().responses_stream(call)
        return self._events(
            "/responses", call.body, named=True, timeouts=call.timeouts, complete=_response_ended
        )

    async def _events(
        self,
        path: str,
        body: JSON | bytes,
        named: bool = False,
        headers: list[tuple[str, str]] | None = None,
        timeouts: CallTimeouts | None = None,
        complete: Callable[[JSON | None], bool] | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """The upstream's SSE stream as chunks; `named`: each event is named by its `type`.
        The first may take `timeouts.first_byte` (prefill), later ones at most
        `timeouts.idle` apart, the whole stream `timeouts.stream_total`. A stream that ends
        without `[DONE]` and that `complete` does not find whole is an error, never a
        silently short answer."""
        timeouts = timeouts or self._timeouts
        loop = asyncio.get_running_loop()
        started = loop.time()
        total = timeouts.stream_total
        deadline = started + total if total is not None else None
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        async with self._request(
            "POST", path, raw, headers or self._json_headers, None, timeouts, deadline
        ) as resp:
            resp.read_timeout = max(0.001, timeouts.first_byte - (loop.time() - started))
            last: JSON | None = None
            try:
                events = sse_data(resp.chunks(), self.config.max_event_bytes)
                async for payload, more in events:
                    if payload == b"[DONE]":
                        return
                    if last is None:
                        resp.read_timeout = timeouts.idle
                    last = _parse(payload, self.name)
                    event = last.get("type") if named else None
                    yield StreamChunk(last, payload, more, event)  # data, raw, batched, event
            except STREAM_FAILURES as exc:
                raise _broken_stream(self.name, exc) from exc
            if complete is not None and not complete(last):
                raise BadGateway(f"The upstream `{self.name}` ended the stream unfinished.")

    async def embeddings(self, call: Call) -> JSONBody:
        return await self._post_json("/embeddings", call)

    async def images(self, call: Call) -> JSONBody:
        result = await self._post_json("/images/generations", call)
        result.usage.images = len(result.data.get("data") or [])  # tokens too, for GPT Image
        return result

    def images_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        """GPT Image's events (`image_generation.partial_image`, `...completed`)."""
        return self._events(
            "/images/generations", call.body, named=True, timeouts=call.timeouts, complete=_drawn
        )

    def image_edit_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        """A streamed edit's events (`image_edit.partial_image`, `...completed`), for the
        client's multipart body passed on unchanged."""
        assert call.form is not None
        headers = [*self._headers, ("content-type", call.form.content_type)]
        return self._events(
            "/images/edits",
            call.form.body,
            named=True,
            headers=headers,
            timeouts=call.timeouts,
            complete=_drawn,
        )

    async def moderate(self, call: Call) -> JSONBody:
        return await self._post_json("/moderations", call)

    async def speech(self, call: Call) -> BinaryBody:
        fmt = str(call.body.get("response_format") or "mp3")
        usage = Usage(characters=len(str(call.body.get("input", ""))))
        content_type = CONTENT_TYPES.get(fmt, "audio/mpeg")
        if call.body.get("stream_format") == "sse":  # the upstream's events pass through
            content_type = "text/event-stream"
        return BinaryBody(content_type, self._speech_bytes(call), usage)

    async def _speech_bytes(self, call: Call) -> AsyncIterator[bytes]:
        body = orjson.dumps(call.body)
        timeouts = call.timeouts or self._timeouts
        headers = self._json_headers
        async with self._request("POST", "/audio/speech", body, headers, None, timeouts) as resp:
            resp.read_timeout = timeouts.idle
            try:
                async for chunk in resp.chunks():
                    yield chunk
            except UpstreamBadAnswer as exc:
                raise _bad_answer(self.name, exc) from exc
            except (UpstreamTimeout, UpstreamConnectionError) as exc:
                raise BadGateway(f"The upstream `{self.name}` broke off the audio.") from exc

    async def transcribe(self, call: Call) -> Transcribed:
        return await self._audio_upload("/audio/transcriptions", call)

    async def translate(self, call: Call) -> Transcribed:
        return await self._audio_upload("/audio/translations", call)

    async def completions(self, call: Call) -> JSONBody:
        return await self._post_json("/completions", call)

    def completions_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        return self._events("/completions", call.body, timeouts=call.timeouts, complete=_finished)

    async def image_edit(self, call: Call, operation: str) -> JSONBody:
        """The client's multipart body, passed on unchanged (images, mask and all)."""
        assert call.form is not None
        path = "/images/edits" if operation == "edit" else "/images/variations"
        headers = [*self._headers, ("content-type", call.form.content_type)]
        timeouts = call.timeouts or self._timeouts  # the model's, within the request's deadline
        async with (
            self._deadline(timeouts.total),
            self._request("POST", path, call.form.body, headers, None, timeouts) as resp,
        ):
            raw = await _read(resp, self.name)
        data = _parse(raw, self.name)
        usage = Usage.from_openai(data.get("usage"))  # GPT Image models bill by tokens
        usage.images = len(data.get("data") or [])
        return JSONBody(data, raw=raw, usage=usage)

    async def _audio_upload(self, path: str, call: Call) -> Transcribed:
        assert call.upload is not None
        form = MultipartForm(call.body, call.upload)
        headers = [*self._headers, ("content-type", form.content_type)]
        timeouts = call.timeouts or self._timeouts
        if isinstance(call.request, TranscriptionRequest) and call.request.streams_events:
            return await self._transcript_stream(path, form, headers, timeouts)
        async with (
            self._deadline(timeouts.total),
            self._request("POST", path, form.pieces, headers, form.length, timeouts) as resp,
        ):
            raw = await _read(resp, self.name)
            content_type = resp.headers.get("content-type", "")
        return _transcribed(raw, content_type, self.name)

    async def _transcript_stream(
        self, path: str, form: MultipartForm, headers: list[tuple[str, str]], timeouts: CallTimeouts
    ) -> Transcribed:
        """`stream: true` (gpt-4o-transcribe): the upstream's events, passed on as they
        arrive (at most `timeouts.idle` apart, the whole within `stream_total`); an answer
        that is not a stream (an upstream that ignores `stream`) is read whole."""
        total = timeouts.stream_total
        deadline = asyncio.get_running_loop().time() + total if total is not None else None
        resp = await self._open("POST", path, form.pieces, headers, form.length, timeouts, deadline)
        content_type = resp.headers.get("content-type", "")
        if content_type.startswith("text/event-stream"):
            usage = Usage()
            events = self._transcript_events(resp, timeouts, usage)
            await anext(events)  # started: from here on, closing it closes the answer
            return TranscriptStream(events, usage)
        try:
            raw = await _read(resp, self.name)
        finally:
            resp.close()
        return _transcribed(raw, content_type, self.name)

    async def _transcript_events(
        self, resp: Response, timeouts: CallTimeouts, usage: Usage
    ) -> AsyncGenerator[JSON, None]:
        """A streamed transcript's events; `usage` becomes its last one's,
        `transcript.text.done` (by tokens, as gpt-4o-transcribe is billed). A stream that
        ends before that event is an error, never a silently short transcript. The first
        item is nothing (`{}`), taken by the caller to start it."""
        last: JSON = {}
        try:
            yield last
            async for payload, _ in sse_data(resp.chunks(), self.config.max_event_bytes):
                if payload == b"[DONE]":
                    break
                resp.read_timeout = timeouts.idle  # the first came within `first_byte`
                last = _parse(payload, self.name)
                if last.get("type") == "transcript.text.done":
                    done = Usage.from_openai(last.get("usage"))
                    for name in Usage.__slots__:
                        setattr(usage, name, getattr(done, name))
                yield last
        except STREAM_FAILURES as exc:
            raise _broken_stream(self.name, exc) from exc
        finally:
            resp.close()
        if last.get("type") != "transcript.text.done":
            raise BadGateway(f"The upstream `{self.name}` ended the stream unfinished.")

    async def list_models(self) -> list[JSON]:
        async with (
            self._deadline(min(self.config.timeout, MODEL_LIST_TIMEOUT)),
            self._request("GET", "/models") as resp,
        ):
            raw = await _read(resp, self.name)
        data = _parse(raw, self.name).get("data")
        return [m for m in data if isinstance(m, dict) and "id" in m] if data else []


def _their_id(response: Response) -> str | None:
    """The upstream's own id for its answer: Anthropic's `request-id`, OpenAI's
    `x-request-id` (a look through the head already parsed, no dict built)."""
    for name, value in response.raw_headers:
        if name == b"request-id" or name == b"x-request-id":
            return value[:200].decode("latin-1")
    return None


async def _read(resp: Response, name: str) -> bytes:
    try:
        return await resp.read()
    except UpstreamTimeout as exc:
        raise GatewayTimeout(f"The upstream `{name}` stalled while answering.") from exc
    except UpstreamBadAnswer as exc:
        raise _bad_answer(name, exc) from exc
    except UpstreamConnectionError as exc:
        raise BadGateway(f"The upstream `{name}` broke off its answer.") from exc


STREAM_FAILURES = (UpstreamTimeout, UpstreamBadAnswer, SSEEventTooLarge, UpstreamConnectionError)


def _broken_stream(name: str, exc: Exception) -> APIError:
    """The error for an upstream stream that failed after it began."""
    if isinstance(exc, UpstreamTimeout):
        return GatewayTimeout(f"The upstream `{name}` stalled mid-stream.")
    if isinstance(exc, UpstreamConnectionError):
        return BadGateway(f"The upstream `{name}` broke off the stream.")
    return _bad_answer(name, exc)


def _transcribed(raw: bytes, content_type: str, name: str) -> JSONBody | TextBody:
    """A whole transcription answer: JSON (its usage by tokens or by duration), or text."""
    if content_type.startswith("application/json"):
        data = _parse(raw, name)
        usage = Usage.from_openai(data.get("usage"))  # by duration, or by tokens
        if not (usage.audio_seconds or usage.prompt_tokens):
            usage.audio_seconds = Usage.from_openai(
                {"type": "duration", "seconds": data.get("duration")}
            ).audio_seconds
        return JSONBody(data, raw=raw, usage=usage)
    usage = Usage()
    if content_type.startswith("text/event-stream"):  # events asked for without `stream`
        usage = _transcript_usage(raw)
    return TextBody(raw.decode("utf-8", "replace"), content_type or "text/plain", usage)


def _bad_answer(name: str, exc: Exception) -> BadGateway:
    log.warning("upstream %s sent an answer we refuse: %s", name, exc)
    return BadGateway(f"The upstream `{name}` sent an answer aiport refuses: {exc}.")


def _finished(chunk: JSON | None) -> bool:
    """Whether a stream's last chunk shows it complete: the usage chunk, or a chunk whose
    choices all carry a `finish_reason`."""
    if chunk is None:
        return False
    choices = chunk.get("choices")
    if not choices:
        return chunk.get("usage") is not None
    return all(isinstance(c, dict) and c.get("finish_reason") for c in choices)


# The events a Responses stream ends with (no `[DONE]` follows them).
RESPONSE_END_EVENTS = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "error"}
)


def _response_ended(event: JSON | None) -> bool:
    return event is not None and event.get("type") in RESPONSE_END_EVENTS


PICTURE_END_EVENTS = frozenset({"image_generation.completed", "image_edit.completed", "error"})


def _drawn(event: JSON | None) -> bool:
    return event is not None and event.get("type") in PICTURE_END_EVENTS


def _parse(raw: bytes, name: str) -> JSON:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadGateway(f"The upstream `{name}` sent a body that is not JSON.") from exc
    if not isinstance(data, dict):
        raise BadGateway(f"The upstream `{name}` sent JSON that is not an object.")
    return data


async def _upstream_error(
    resp: Response, shape: Callable[[bytes, int], bytes] | None = None
) -> UpstreamError:
    """The upstream's error (in OpenAI's shape unless `shape` says otherwise), with the
    headers a client may act on."""
    try:
        raw = await resp.read()
    except (UpstreamTimeout, UpstreamConnectionError):
        raw = b""
    received = resp.headers
    headers = {h: received[h] for h in PASSED_ERROR_HEADERS if h in received}
    return UpstreamError(resp.status, (shape or _openai_error_body)(raw, resp.status), headers)


def _openai_error_body(raw: bytes, status: int) -> bytes:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        if all(key in error for key in ("message", "type", "param", "code")):
            return raw
        fields = {"type": "upstream_error", "param": None, "code": None} | error
        return orjson.dumps({"error": fields})
    message = data.get("message") if isinstance(data, dict) else None
    if isinstance(error, str):  # {"error": "..."}, as llama.cpp and Ollama answer
        message = error
    if not isinstance(message, str):
        message = raw[:500].decode("utf-8", "replace").strip() or f"upstream status {status}"
    return orjson.dumps(
        {"error": {"message": message, "type": "upstream_error", "param": None, "code": None}}
    )


def _transcript_usage(events: bytes) -> Usage:
    """The usage of a streamed transcription: its last event, `transcript.text.done`,
    reports it (by tokens, as gpt-4o-transcribe is billed)."""
    for line in reversed(events.splitlines()):
        if line.startswith(b"data:") and b"transcript.text.done" in line:
            try:
                event = orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                return Usage()
            return Usage.from_openai(event.get("usage") if isinstance(event, dict) else None)
    return Usage()

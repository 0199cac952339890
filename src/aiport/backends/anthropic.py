"""Anthropic as an upstream: the Messages API natively, chat completions by translation.

The provider's key goes up as `x-api-key` (never the caller's), with the client's
`anthropic-version` (default 2023-06-01) and `anthropic-beta` headers. Messages answers
and error bodies pass through as Anthropic sent them. Chat completions (and so the
Responses API, which the base class translates to chat) become Messages requests and
their answers chat completions (`translate.chat_anthropic`), errors in OpenAI's shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import orjson

from aiport.backends.base import JSON, Backend, Call, JSONBody, StreamChunk, Usage
from aiport.backends.upstream import UpstreamBackend, _openai_error_body, _parse, _read
from aiport.errors import BadGateway, UpstreamError
from aiport.protocol.messages import DEFAULT_VERSION
from aiport.settings import ProviderConfig
from aiport.translate import chat_anthropic
from aiport.translate.chat_anthropic_stream import ChatChunks


class AnthropicBackend(UpstreamBackend):
    native_messages = True

    def __init__(self, name: str, config: ProviderConfig) -> None:
        super().__init__(name, config)
        self.kind = "anthropic"
        self.default_max_tokens = config.default_max_tokens  # Anthropic requires one
        self._headers = [("user-agent", "aiport")]
        if config.api_key is not None and config.api_key.get_secret_value():
            self._headers.append(("x-api-key", config.api_key.get_secret_value()))
        self._json_headers = [*self._headers, ("content-type", "application/json")]

    def _headers_for(self, call: Call) -> list[tuple[str, str]]:
        passed = dict(call.headers)
        passed.setdefault("anthropic-version", DEFAULT_VERSION)
        return [*self._json_headers, *passed.items()]

    def error_body(self, raw: bytes, status: int) -> bytes:
        return raw  # Anthropic's own error shape, for Anthropic's clients

    async def _post(self, path: str, call: Call, body: JSON | None = None) -> bytes:
        raw_body = orjson.dumps(call.body if body is None else body)
        timeouts = call.timeouts or self._timeouts  # the model's, within the request's deadline
        headers = self._headers_for(call)
        async with (
            self._deadline(timeouts.total),
            self._request("POST", path, raw_body, headers, None, timeouts) as resp,
        ):
            resp.read_timeout = timeouts.idle
            return await _read(resp, self.name)

    # -- the Messages API, natively --------------------------------------------------

    async def messages(self, call: Call) -> JSONBody:
        raw = await self._post("/messages", call)
        data = _parse(raw, self.name)
        return JSONBody(data, raw=raw, usage=anthropic_usage(data.get("usage")))

    def messages_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        headers = self._headers_for(call)
        return self._events(
            "/messages",
            call.body,
            named=True,
            headers=headers,
            timeouts=call.timeouts,
            complete=_message_ended,
        )

    async def count_tokens(self, call: Call) -> JSONBody:
        raw = await self._post("/messages/count_tokens", call)
        return JSONBody(_parse(raw, self.name), raw=raw)

    # -- chat completions, translated ------------------------------------------------

    def _messages_request(self, call: Call) -> JSON:
        request = chat_anthropic.messages_request(
            call.body,
            call.model,
            default_max_tokens=self.config.default_max_tokens,
            defaulted=call.defaulted,
        )
        for name in self.config.extra_fields:  # e.g. `top_k` or `thinking`, if allowed
            if name in call.body:
                request[name] = call.body[name]
        return request

    async def chat(self, call: Call) -> JSONBody:
        request = self._messages_request(call)
        with _openai_errors():
            data = _parse(await self._post("/messages", call, request), self.name)
        completion = chat_anthropic.chat_completion(data, call.public_model)
        return JSONBody(completion, usage=anthropic_usage(data.get("usage")))

    async def chat_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        request = self._messages_request(call)
        options = call.body.get("stream_options") or {}
        chunks = ChatChunks(call.public_model, include_usage=bool(options.get("include_usage")))
        headers = self._headers_for(call)
        events = self._events(
            "/messages", request, named=True, headers=headers, timeouts=call.timeouts
        )
        with _openai_errors():
            async for event in events:
                out = chunks.feed(event.data)
                for index, chunk in enumerate(out, 1):
                    yield StreamChunk(chunk, batched=event.batched or index < len(out))
        if not chunks.finished:
            raise BadGateway(f"The upstream `{self.name}` ended the stream unfinished.")

    async def completions(self, call: Call) -> JSONBody:
        raise self._unsupported(call, "text completions")

    def completions_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        raise self._unsupported(call, "text completions")

    # Anthropic has none of OpenAI's other endpoints: the 400 a backend without them gives,
    # not a request to a path Anthropic lacks (its 404, in its own shape, to OpenAI clients).
    embeddings = Backend.embeddings
    moderate = Backend.moderate
    image_edit = Backend.image_edit
    speech = Backend.speech
    transcribe = Backend.transcribe
    translate = Backend.translate

    async def images(self, call: Call) -> JSONBody:
        raise self._unsupported(call, "image generation")


def _message_ended(event: JSON | None) -> bool:
    """A Messages stream ends with `message_stop` (or an `error` event); no `[DONE]`."""
    return event is not None and event.get("type") in ("message_stop", "error")


@contextmanager
def _openai_errors() -> Iterator[None]:
    """Anthropic's error answers, as OpenAI clients expect them."""
    try:
        yield
    except UpstreamError as exc:
        body = _openai_error_body(exc.raw, exc.status)  # unchanged if already OpenAI's
        raise UpstreamError(exc.status, body, exc.headers) from None


def anthropic_usage(usage: object) -> Usage:
    """Anthropic's usage for metering: cache reads and writes are prompt tokens billed at
    their own rates; how it was served (speed, inference geo, tier) as it reports it."""
    found = Usage.from_openai(chat_anthropic.chat_usage(usage))
    if isinstance(usage, dict):
        for name in ("speed", "inference_geo", "service_tier"):
            value = usage.get(name)
            setattr(found, name, value if isinstance(value, str) else "")
    return found

"""The contract every backend keeps, local engine or upstream provider.

A backend receives a `Call` (a validated request, the model name it should use, and the
request's id) and answers with typed results, never with HTTP bytes of its own making:

- `JSONBody` for a complete JSON answer; `raw` carries the exact bytes when they pass
  through unchanged (the upstream backend), so nothing is serialised twice.
- an async iterator of `StreamChunk` for a chat stream, each one OpenAI's
  `chat.completion.chunk` object (or, for the other protocols, one event with its SSE
  event name). The API layer alone writes SSE frames.
- `BinaryBody` for audio, an async iterator of bytes that starts before synthesis ends.
- `TextBody` for the plain-text transcription formats.
- `ImageSet` for pictures a backend drew itself (the API layer stores them for `url`).

A backend that speaks only chat completions still serves the Responses API and Anthropic's
Messages API: the base class translates (`aiport.translate`); a backend that speaks one
natively overrides it.
A capability a backend does not have raises `UnsupportedCapability`. Cancelling the task
that iterates a stream (the client went away) must stop the work behind it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from aiport.errors import APIError, InternalError, InvalidRequest, UnsupportedCapability
from aiport.protocol.chat import ChatCompletionRequest
from aiport.protocol.common import WireModel
from aiport.protocol.messages import CountTokensRequest, MessagesRequest
from aiport.protocol.responses import ResponseRequest
from aiport.translate import messages_chat, responses_chat
from aiport.translate.messages_chat import NOTHING_GENERATED
from aiport.translate.messages_errors import in_messages_terms
from aiport.translate.messages_stream import MessageEvents
from aiport.translate.responses_errors import in_responses_terms
from aiport.translate.responses_stream import ResponseEvents

JSON = dict[str, Any]
W = TypeVar("W", bound=WireModel)
# The upstream's own id for the answer to the attempt being made (Anthropic's `request-id`,
# OpenAI's `x-request-id`), for a support case with the provider: an upstream backend sets
# it once the answer's head is in, `routing.attempts` keeps it with the attempt (the access
# log shows it). Never sent to the caller, who knows the request by aiport's id.
upstream_request_id: ContextVar[str | None] = ContextVar("upstream_request_id", default=None)


@dataclass(slots=True)
class Usage:
    """What a request consumed, in whatever units its endpoint is priced in.

    `cached_tokens`, `cache_write_tokens`, `audio_tokens` and `image_tokens` are the parts
    of `prompt_tokens` the upstream reported separately (they have prices of their own).
    `speed` and `inference_geo` are how Anthropic says it served the request (`fast`,
    `us`: at other prices), `service_tier` its tier; empty when not reported.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    audio_seconds: float = 0.0
    images: int = 0
    characters: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    audio_tokens: int = 0
    image_tokens: int = 0
    speed: str = ""
    inference_geo: str = ""
    service_tier: str = ""

    @classmethod
    def from_openai(cls, usage: Any) -> Usage:
        """From OpenAI's `usage` object of any endpoint (chat, responses, images,
        transcriptions by tokens or by duration); unknown shapes count nothing."""
        if not isinstance(usage, dict):
            return cls()
        if usage.get("type") == "duration":
            return cls(audio_seconds=_number(usage.get("seconds")))
        prompt = usage.get("prompt_tokens")
        if prompt is None:
            prompt = usage.get("input_tokens")
        completion = usage.get("completion_tokens")
        if completion is None:
            completion = usage.get("output_tokens")
        found = cls(_count(prompt), _count(completion))  # prompt, completion tokens
        details = (
            usage.get("prompt_tokens_details")
            or usage.get("input_tokens_details")
            or usage.get("input_token_details")
        )
        if isinstance(details, dict) and details:
            found.cached_tokens = _count(details.get("cached_tokens"))
            found.cache_write_tokens = _count(details.get("cache_write_tokens"))
            found.audio_tokens = _count(details.get("audio_tokens"))
            found.image_tokens = _count(details.get("image_tokens"))
        return found


def _count(value: Any) -> int:
    # `type(...) is int`: a bool is not a count (and this runs for every answer)
    return value if type(value) is int and value > 0 else 0


def _number(value: Any) -> float:
    ok = type(value) in (int, float)  # not a bool
    return float(value) if ok and 0 < value < 1e9 else 0.0


@dataclass(slots=True)
class Upload:
    """An uploaded file, spooled to disk so that it is never held whole in memory."""

    path: Path
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class CallTimeouts:
    """Seconds for one attempt: to connect, to the answer's head (a stream: its first
    chunk), between two chunks, for a whole answer, and for a whole stream (None: as long
    as it keeps moving)."""

    connect: float
    first_byte: float
    idle: float
    total: float
    stream_total: float | None = None


@dataclass(slots=True)
class RawForm:
    """A multipart body as the client sent it, with its content type (and boundary)."""

    body: bytes
    content_type: str


@dataclass(slots=True)
class Call:
    """One request as a backend sees it; made by `Call.make` (or `for_chat`, a translation).

    `request` is the client's request as the API layer validated it (a `protocol` model,
    its `model` the name the client asked for): engines read its typed fields
    (`request_as`) and never validate again. `body` is the same request as it is forwarded
    to an upstream: only the spec's fields as sent, plus the provider's allowed extras and
    aiport's defaults, `model` the upstream's name for it. `want_usage`: a stream must end
    with a usage chunk (metering counts it) whether or not the client asked for one; the
    API layer drops it again. `model` is the name this backend knows the model by,
    `public_model` the one the client asked for. `request` is None only for a multipart
    body passed through as it came (`form`).
    """

    request: WireModel | None
    body: JSON
    model: str
    public_model: str
    request_id: str
    upload: Upload | None = None
    key_id: str = ""  # the caller's key: local engines serve waiting keys in turn
    headers: dict[str, str] = field(default_factory=dict)  # protocol headers passed on
    defaulted: tuple[str, ...] = ()  # body fields aiport filled in, not the caller
    form: RawForm | None = None  # a multipart body passed on as it came
    want_usage: bool = False
    timeouts: CallTimeouts | None = None  # None: the backend's own defaults

    @classmethod
    def make(
        cls,
        request: WireModel | None,
        body: JSON,
        *,
        model: str,
        public_model: str,
        request_id: str,
        key_id: str = "",
        extra_fields: Iterable[str] = (),
        defaults: JSON | None = None,
        want_usage: bool = False,
        upload: Upload | None = None,
    ) -> Call:
        """The call for `request` (validated from the client's `body`) on a backend that
        knows the model as `model`: the forwarded body carries only the spec's fields plus
        `extra_fields` (a provider's allowed extras), so a caller can never choose the
        upstream or its credentials through the body; `defaults` fill fields the client
        left out (named in `defaulted`); `want_usage` asks a stream for its usage chunk."""
        forwarded = type(request).forwardable(body) if request is not None else dict(body)
        for name in extra_fields:
            if name in body:
                forwarded[name] = body[name]
        defaulted: tuple[str, ...] = ()
        if defaults:
            for name, value in defaults.items():
                if name not in forwarded:
                    forwarded[name] = value
                    defaulted += (name,)
        if want_usage:
            options = body.get("stream_options")
            options = options if isinstance(options, dict) else {}
            forwarded["stream_options"] = {**options, "include_usage": True}
        forwarded["model"] = model
        # Positional, in the fields' order (once per attempt: keywords to a class cost a
        # dict made and unpacked again).
        return cls(
            request,
            forwarded,  # body
            model,
            public_model,
            request_id,
            upload,
            key_id,
            {},  # headers
            defaulted,
            None,  # form
            want_usage,
        )

    @classmethod
    def from_body(cls, wire: type[WireModel], body: JSON, model: str, **options: Any) -> Call:
        """A call straight from a JSON body, for an engine used without the HTTP layer
        (tests, benchmarks): `body` validated as `wire`; `public_model` defaults to
        the body's `model`, `request_id` to `req_local`."""
        options.setdefault("public_model", body.get("model") or model)
        options.setdefault("request_id", "req_local")
        return cls.make(wire.model_validate(body), body, model=model, **options)

    def request_as(self, wire: type[W]) -> W:
        """The validated request, typed: what the handler of this capability validated."""
        if not isinstance(self.request, wire):
            raise InternalError(
                f"`{self.public_model}` was sent a {type(self.request).__name__} where a "
                f"{wire.__name__} belongs."
            )
        return self.request

    def for_chat(self, body: JSON) -> Call:
        """This call as the chat completion `body` (a translation of it) asks for it."""
        request = _chat_request(body)
        return replace(self, request=request, body=body, want_usage=request.wants_usage_chunk)


@asynccontextmanager
async def _closing(
    chunks: AsyncIterator[StreamChunk],
) -> AsyncGenerator[AsyncIterator[StreamChunk]]:
    """`chunks`, closed when the stream made from them is (a client that leaves a
    translated stream stops the chat stream under it, and the model's work, at once)."""
    try:
        yield chunks
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()


def _chat_request(body: JSON) -> ChatCompletionRequest:
    """A translated chat request, validated once (a value the chat API cannot take is the
    client's 400, as if it had been sent as chat)."""
    try:
        return ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        param = ".".join(str(part) for part in error["loc"]) or None
        raise InvalidRequest(
            f"The request cannot be served as a chat completion: {param}: {error['msg']}.",
            param=param,
        ) from None


@dataclass(slots=True)
class JSONBody:
    data: JSON
    raw: bytes | None = None
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class StreamChunk:
    data: JSON
    raw: bytes | None = None
    batched: bool = False  # more chunks are already at hand: they may be sent together
    event: str | None = None  # the SSE `event:` name, for protocols that name their events
    prompt_tokens: int | None = None  # the prompt's count, where known before the usage chunk


@dataclass(slots=True)
class BinaryBody:
    content_type: str
    chunks: AsyncIterator[bytes]
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class TextBody:
    text: str
    content_type: str = "text/plain; charset=utf-8"
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class TranscriptStream:
    """A transcript told as it is made (`stream: true`): OpenAI's transcript events, and
    the usage of what was delivered so far (it grows as the events are taken)."""

    events: AsyncGenerator[JSON, None]
    usage: Usage = field(default_factory=Usage)


Transcribed = JSONBody | TextBody | TranscriptStream


@dataclass(slots=True)
class GeneratedImage:
    png: bytes
    revised_prompt: str | None = None


@dataclass(slots=True)
class ImageSet:
    images: list[GeneratedImage]
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class ModelCard:
    id: str
    owned_by: str
    created: int = 1700000000
    capabilities: tuple[str, ...] = ()


CAPABILITIES = (
    "chat",
    "embeddings",
    "images",
    "speech",
    "transcriptions",
    "translations",
    "moderations",
)


class Backend:
    """Base class: override the capabilities the backend has; the rest refuse clearly."""

    name: str = "backend"
    # True when the backend itself keeps `call.timeouts` (the router then sets no timer).
    keeps_timeouts: bool = False
    # True when Anthropic itself answers `messages` (passed through, not translated).
    native_messages: bool = False
    # The max_tokens it sends for a chat request that sets none (None: it sends none).
    default_max_tokens: int | None = None

    def most_output(self, model: str) -> int | None:
        """The most output tokens one choice of a chat request that sets no limit can get
        here, if the backend bounds it (None: as many as `model` itself may produce)."""
        return self.default_max_tokens

    async def start(self) -> None:
        """Open connections or load models. Called once, in the server's start-up."""

    async def close(self) -> None:
        """Release everything `start` opened."""

    def models(self) -> list[ModelCard]:
        """The models this backend serves under their own names."""
        return []

    def status(self) -> JSON:
        """A small report for `/health`."""
        return {}

    def _unsupported(self, call: Call, what: str) -> UnsupportedCapability:
        return UnsupportedCapability(
            f"The model `{call.public_model}` does not support {what}.", param="model"
        )

    async def chat(self, call: Call) -> JSONBody:
        raise self._unsupported(call, "chat completions")

    def chat_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        raise self._unsupported(call, "chat completions")

    async def responses(self, call: Call) -> JSONBody:
        """A Responses API answer, by default through `chat` (translated both ways)."""
        request = call.request_as(ResponseRequest)
        chat = responses_chat.chat_request(request, call.model)
        try:
            result = await self.chat(call.for_chat(chat))
        except APIError as exc:
            raise in_responses_terms(exc, request) from None
        data = responses_chat.response_from_chat(request, call.public_model, result.data)
        return JSONBody(data, usage=result.usage)

    async def responses_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        """Responses API events, by default made from `chat_stream`'s chunks. The first
        events wait for the first chunk, so a refusal before it is still an HTTP error."""
        request = call.request_as(ResponseRequest)
        body = responses_chat.chat_request(request, call.model, stream=True)
        events = ResponseEvents(request, call.public_model)
        started = False
        try:
            async with _closing(self.chat_stream(call.for_chat(body))) as chunks:
                async for chunk in chunks:
                    out = [] if started else events.start(chunk.data.get("model"))
                    started = True
                    for event in out + events.feed(chunk.data):
                        yield StreamChunk(event, event=event["type"])
        except APIError as exc:
            raise in_responses_terms(exc, request) from None
        for event in ([] if started else events.start()) + events.close():
            yield StreamChunk(event, event=event["type"])

    async def messages(self, call: Call) -> JSONBody:
        """An Anthropic Messages answer, by default through `chat` (translated both ways)."""
        request = call.request_as(MessagesRequest)
        if request.max_tokens == 0:  # no prompt cache to fill here
            data = messages_chat.message_from_chat(call.public_model, NOTHING_GENERATED)
            return JSONBody(data)
        chat = messages_chat.chat_request(request, call.model)
        try:
            result = await self.chat(call.for_chat(chat))
        except APIError as exc:
            raise in_messages_terms(exc, request) from None
        data = messages_chat.message_from_chat(call.public_model, result.data)
        return JSONBody(data, usage=result.usage)

    async def messages_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        """Anthropic's stream events, by default made from `chat_stream`'s chunks;
        `message_start` counts the prompt as the backend counted it, else as estimated."""
        request = call.request_as(MessagesRequest)
        if request.max_tokens == 0:  # no prompt cache to fill here
            events = MessageEvents(call.public_model)
            for event in events.feed(NOTHING_GENERATED) + events.close():
                yield StreamChunk(event, event=event["type"])
            return
        body = messages_chat.chat_request(request, call.model, stream=True)
        events = MessageEvents(call.public_model, messages_chat.estimate_input_tokens(body))
        try:
            async with _closing(self.chat_stream(call.for_chat(body))) as chunks:
                async for chunk in chunks:
                    for event in events.feed(chunk.data, chunk.prompt_tokens):
                        yield StreamChunk(event, event=event["type"])
        except APIError as exc:
            raise in_messages_terms(exc, request) from None
        for event in events.close():
            yield StreamChunk(event, event=event["type"])

    async def count_tokens(self, call: Call) -> JSONBody:
        """Anthropic's token count, by default estimated from the chat request the
        messages become (no tokenizer is at hand for an arbitrary model)."""
        chat = messages_chat.chat_request(call.request_as(CountTokensRequest), call.model)
        return JSONBody({"input_tokens": messages_chat.estimate_input_tokens(chat)})

    async def completions(self, call: Call) -> JSONBody:
        raise self._unsupported(call, "text completions")

    def completions_stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        raise self._unsupported(call, "text completions")

    async def image_edit(self, call: Call, operation: str) -> JSONBody:
        """`operation`: `edit` or `variation`; `call.form` holds the multipart body."""
        raise self._unsupported(call, f"image {operation}s")

    async def embeddings(self, call: Call) -> JSONBody:
        raise self._unsupported(call, "embeddings")

    async def images(self, call: Call) -> JSONBody | ImageSet:
        raise self._unsupported(call, "image generation")

    async def speech(self, call: Call) -> BinaryBody:
        raise self._unsupported(call, "speech")

    async def transcribe(self, call: Call) -> Transcribed:
        """The transcript; for `stream: true`, events (SSE text) or a `TranscriptStream`."""
        raise self._unsupported(call, "transcriptions")

    async def translate(self, call: Call) -> Transcribed:
        raise self._unsupported(call, "translations")

    async def moderate(self, call: Call) -> JSONBody:
        raise self._unsupported(call, "moderations")

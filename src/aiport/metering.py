"""Measuring a request: what it may use (an `Estimate`, before it runs) and what it used.

Every metered endpoint does the same three things:
1. estimate from the parsed body — `estimate_prompt_tokens(body)` for the prompt, the
   output limit times `n` for the completion — and pass the `Estimate` to admission;
2. for a stream, wrap the chunks in `observe_stream(ctx, chunks)` and iterate it inside
   `contextlib.aclosing`, so the chain is closed (and the usage it counted is final) before
   the request's usage row is written; for a complete answer, set `ctx.usage` from the
   backend's result once it is there;
3. nothing else: `Accounts.finish` writes the row from the context when the request ends,
   rejected, failed and abandoned requests included, and bills only delivered output.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiport.backends.base import StreamChunk, Usage
from aiport.context import RequestContext

CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text
MEDIA_PART_TOKENS = 1105  # an image part at high detail (OpenAI bills 85 + 170 per tile)
MESSAGE_TOKENS = 4  # each message's framing (role, separators)
DEFAULT_OUTPUT_TOKENS = 1024  # what tpm counts for a completion that sets no limit
# Keys whose values are settings, not prompt text.
_NOT_PROMPT = frozenset(
    {"model", "user", "stream", "n", "response_format", "stream_options", "metadata"}
)
_MEDIA_TYPES = frozenset({"image_url", "input_image", "image", "input_audio", "file"})


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a request may use, as far as can be told before it runs.

    `meter` names the unit its endpoint is billed in (`tokens`, `images`, `characters`,
    `audio`, or `audio length` for a transcription whose answer reports nothing else);
    `image_variant` is `"<quality> <size>"` for pictures.
    """

    prompt_tokens: int = 0
    output_tokens: int = 0
    images: int = 0
    image_variant: str = ""
    characters: int = 0
    audio_seconds: float = 0.0
    meter: str = "tokens"
    # Completions asked for without an output limit (`n`, when the request sets none): each
    # reserves the most the model may produce (`api.dispatch.route`).
    outputs_without_limit: int = 0
    # The output a tpm limit counts when it is not `output_tokens` (None): for a request
    # without a limit, a typical answer — what it reserves against budgets is the most.
    rate_output_tokens: int | None = None
    # How the request asks to be served where that changes its price (Anthropic's `speed`,
    # `inference_geo`): its reservation prices it so.
    speed: str = ""
    inference_geo: str = ""

    @property
    def tokens(self) -> int:
        """What token budgets reserve: prompt and the most the completion may take."""
        return self.prompt_tokens + self.output_tokens

    @property
    def rate_tokens(self) -> int:
        """What tpm limits (a key's, a provider's) count before the real count is known."""
        output = self.output_tokens if self.rate_output_tokens is None else self.rate_output_tokens
        return self.prompt_tokens + output


def estimate_tokens(text_length: int) -> int:
    return (text_length + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def estimate_prompt_tokens(body: Mapping[str, Any]) -> int:
    """The prompt tokens of a parsed request body, whatever its endpoint: characters / 4 of
    every text in it (messages, input, prompt, instructions, tools), a message's framing,
    a fixed allowance per image or audio part, and token arrays counted as they are."""
    total = 0
    for key, value in body.items():
        if key not in _NOT_PROMPT:
            total += _tokens_in(value)
    return total


def completion_estimate(limit: int | None, n: int | None = 1) -> int:
    """Output tokens to reserve: the request's limit (or the default) for each of `n`."""
    return (limit or DEFAULT_OUTPUT_TOKENS) * max(1, n or 1)


def without_limit(limit: int | None, n: int | None = 1) -> int:
    """`Estimate.outputs_without_limit`: `n` when the request sets no output limit."""
    return 0 if limit else max(1, n or 1)


def _tokens_in(value: Any) -> int:
    # By exact type: the values of a parsed JSON body (this runs on every request).
    kind = type(value)
    if kind is str:
        return estimate_tokens(len(value))
    if kind is list:
        if value and type(value[0]) is int and all(type(v) is int for v in value):
            return len(value)  # already tokens
        total = 0
        for item in value:
            total += estimate_tokens(len(item)) if type(item) is str else _tokens_in(item)
        return total
    if kind is dict:
        part = value.get("type")  # in a JSON schema (tools) a list: ["string", "null"]
        if type(part) is str and part in _MEDIA_TYPES:
            return MEDIA_PART_TOKENS
        total = MESSAGE_TOKENS if "role" in value else 0
        for item in value.values():
            total += estimate_tokens(len(item)) if type(item) is str else _tokens_in(item)
        return total
    return 0  # numbers, booleans, null


def chat_text(chunk: StreamChunk) -> int:
    """Characters of generated text (content, refusals, tool-call arguments) in a chat chunk.
    (Runs for every chunk of every stream: types are checked exactly, JSON has no others.)"""
    choices = chunk.data.get("choices")
    if type(choices) is not list:
        return 0
    total = 0
    for choice in choices:
        delta = choice.get("delta") if type(choice) is dict else None
        if type(delta) is not dict:
            continue
        for name, value in delta.items():  # most deltas have one field or two
            if name in _TEXT_FIELDS:
                if type(value) is str:
                    total += len(value)
            elif name == "tool_calls" and type(value) is list:
                total += _tool_call_text(value)
    return total


_TEXT_FIELDS = frozenset({"content", "refusal", "reasoning_content"})


def _tool_call_text(calls: list[Any]) -> int:
    total = 0
    for call in calls:
        function = call.get("function") if type(call) is dict else None
        if type(function) is dict:
            total += len(str(function.get("name") or "")) + len(
                str(function.get("arguments") or "")
            )
    return total


def chunk_usage(chunk: StreamChunk) -> Any:
    """The usage object a chunk carries (chat's last chunk, a response's completed event)."""
    data = chunk.data
    usage = data.get("usage")
    if usage is None:
        response = data.get("response")
        if type(response) is dict:
            usage = response.get("usage")
    return usage


async def observe_stream(
    ctx: RequestContext,
    chunks: AsyncIterator[StreamChunk],
    text_length: Callable[[StreamChunk], int] = chat_text,
) -> AsyncGenerator[StreamChunk, None]:
    """Pass `chunks` through, keeping `ctx.usage` true to what was delivered.

    The backend's own usage, when it arrives, is the truth. Until then (a stream cut short)
    the request counts the prompt as estimated at admission and the text of every chunk the
    consumer took — a chunk counts once the consumer asks for the next one, or when the
    stream ends. Closing this generator closes `chunks` too.
    """
    ctx.usage = Usage()
    taken = 0  # characters of text in the chunks the consumer took
    try:
        async for chunk in chunks:
            usage = chunk.data.get("usage")  # (chunk_usage's common case, without a call)
            if usage is None and "response" in chunk.data:
                usage = chunk_usage(chunk)
            if usage:
                ctx.usage = Usage.from_openai(usage)
                ctx.usage_reported = True
            text = text_length(chunk)
            if text:
                ctx.mark_token()
            if ctx.trace is not None:
                ctx.trace.saw(chunk.data)
            yield chunk
            taken += text
    finally:
        if not ctx.usage_reported and taken:
            ctx.usage.completion_tokens = estimate_tokens(taken)
            if ctx.charge is not None:
                ctx.usage.prompt_tokens = ctx.charge.estimate.prompt_tokens
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()

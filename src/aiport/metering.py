"""Usage accounting: what each authenticated request consumed, recorded exactly once.

`observe_chat_stream` wraps a chat stream on its way to the client: it notes the time to
first token, takes the usage the backend reports, and counts the content itself for a
stream that was cut off before its usage arrived. `Meter.finish` runs in the middleware's
`finally`, so rejected, failed and abandoned requests are recorded too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from aiport.api.context import RequestContext
from aiport.backends.base import StreamChunk, Usage

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text


@dataclass(slots=True)
class UsageEvent:
    request_id: str
    key_id: str
    endpoint: str
    status: int
    model_requested: str | None
    model_served: str | None
    backend: str | None
    usage: Usage
    usage_estimated: bool
    latency_ms: float
    ttft_ms: float | None
    created_at: float


class UsageSink(Protocol):
    def record(self, event: UsageEvent) -> None:
        """Accept one event without blocking; persisting it is the sink's business."""


class Meter:
    def __init__(self, sink: UsageSink | None = None) -> None:
        self.sink = sink

    def finish(self, ctx: RequestContext, elapsed_ms: float) -> None:
        if self.sink is None or ctx.caller is None:
            return
        ttft = (ctx.first_token - ctx.started) * 1000 if ctx.first_token is not None else None
        self.sink.record(
            UsageEvent(
                request_id=ctx.request_id,
                key_id=ctx.caller.key_id,
                endpoint=ctx.endpoint,
                status=ctx.status,
                model_requested=ctx.model,
                model_served=ctx.served_model,
                backend=ctx.backend,
                usage=ctx.usage,
                usage_estimated=not ctx.usage_reported,
                latency_ms=elapsed_ms,
                ttft_ms=ttft,
                created_at=time.time(),
            )
        )


def estimate_tokens(text_length: int) -> int:
    return (text_length + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


async def observe_chat_stream(
    ctx: RequestContext, chunks: AsyncIterator[StreamChunk]
) -> AsyncIterator[StreamChunk]:
    """Pass chunks through, keeping `ctx.usage` true even if the stream is cut off."""
    generated_chars = 0
    try:
        async for chunk in chunks:
            choices = chunk.data.get("choices")
            if choices:
                ctx.mark_first_token()
                generated_chars += _content_length(choices)
            usage = chunk.data.get("usage")
            if usage:
                ctx.usage = Usage.from_openai(usage)
                ctx.usage_reported = True
            yield chunk
    finally:
        if not ctx.usage_reported:
            ctx.usage.completion_tokens = estimate_tokens(generated_chars)


def _content_length(choices: list[dict[str, Any]]) -> int:
    total = 0
    for choice in choices:
        delta = choice.get("delta") or {}
        content = delta.get("content")
        if isinstance(content, str):
            total += len(content)
    return total

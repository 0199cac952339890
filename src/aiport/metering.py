"""Measuring what a request consumed, for the usage record written when it ends.

`observe_chat_stream` wraps a chat stream on its way to the client: it notes the time to
first token, takes the usage the backend reports, and counts the content itself for a
stream that was cut off before its usage arrived. The record is written by
`Accounts.finish`, from the middleware's `finally`, so rejected, failed and abandoned
requests are recorded too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiport.api.context import RequestContext
from aiport.backends.base import StreamChunk, Usage

CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text


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

"""What metering counts in a request body and in a stream's chunks (the figures a key's
token limits reserve, and what a cut stream is billed for)."""

from __future__ import annotations

from aiport.backends.base import StreamChunk, Usage
from aiport.metering import (
    MEDIA_PART_TOKENS,
    MESSAGE_TOKENS,
    chat_text,
    chunk_usage,
    estimate_prompt_tokens,
)


def test_a_chat_prompt_counts_its_text_framing_images_and_token_arrays() -> None:
    body = {
        "model": "a-very-long-model-name-that-is-no-prompt",
        "stream": True,
        "temperature": 0.5,
        "messages": [
            {"role": "system", "content": "12345678"},  # 2 tokens, +4 framing, "system" 2
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "1234"},  # 1, and its type "text" 1
                    {"type": "image_url", "image_url": {"url": "data:..." * 100}},
                ],
            },
        ],
        "prompt": [1, 2, 3],  # already tokens
        "flags": [True, False],  # booleans are not tokens
    }
    messages = (2 + 2 + MESSAGE_TOKENS) + (1 + 1 + 1 + MEDIA_PART_TOKENS + MESSAGE_TOKENS)
    assert estimate_prompt_tokens(body) == messages + 3


def chunk(delta: dict[str, object], **data: object) -> StreamChunk:
    return StreamChunk({"choices": [{"index": 0, "delta": delta}], **data})


def test_a_chunks_text_is_its_content_refusal_reasoning_and_tool_calls() -> None:
    assert chat_text(chunk({"role": "assistant", "content": "hello"})) == 5
    assert chat_text(chunk({"refusal": "no"})) == 2
    assert chat_text(chunk({"reasoning_content": "hmm", "content": "ok"})) == 5
    call = {"index": 0, "function": {"name": "get", "arguments": '{"a":1}'}}
    assert chat_text(chunk({"tool_calls": [call, {"index": 1, "function": {}}]})) == 10
    for odd in ({"content": None}, {"content": 5}, {"tool_calls": {"a": 1}}, {}):
        assert chat_text(chunk(odd)) == 0
    assert chat_text(StreamChunk({"choices": None})) == 0
    assert chat_text(StreamChunk({"choices": ["x", {"delta": "y"}]})) == 0


def test_usage_is_found_in_chat_and_responses_chunks() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4}
    assert chunk_usage(StreamChunk({"choices": [], "usage": usage})) == usage
    assert chunk_usage(StreamChunk({"type": "response.completed", "response": {"usage": usage}}))
    assert chunk_usage(chunk({"content": "x"})) is None
    assert Usage.from_openai(usage) == Usage(prompt_tokens=3, completion_tokens=4)
    details = {"cached_tokens": 2}
    detailed = {"input_tokens": 9, "output_tokens": True, "input_tokens_details": details}
    assert Usage.from_openai(detailed) == Usage(prompt_tokens=9, cached_tokens=2)

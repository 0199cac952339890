"""Chat through aiport to an upstream, driven by the official SDK (sync and async)."""

from __future__ import annotations

import openai
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import MASTER_KEY, UPSTREAM_KEY, AiportProcess

MESSAGES = [
    {"role": "system", "content": "Du bist ein hilfreicher Assistent."},
    {"role": "user", "content": "Was ist maschinelles Lernen?"},
]


def test_non_stream_answer_passes_through(proxy: AiportProcess, upstream: FakeUpstream) -> None:
    reply = proxy.client().chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert reply.choices[0].message.content == "Hello from the fake upstream."
    assert reply.usage is not None and reply.usage.total_tokens == 17
    sent = upstream.last("/chat/completions")
    assert sent["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert sent["body"]["model"] == "gpt-4o"
    assert sent["body"]["temperature"] == 0.7  # the seed's default


def test_stream_chunks_arrive_in_order(proxy: AiportProcess) -> None:
    stream = proxy.client().chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the stream."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)  # the usage chunk the client did not ask for is gone


def test_stream_with_usage_keeps_usage_chunk(proxy: AiportProcess) -> None:
    stream = proxy.client().chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 13


async def test_async_client_streams(proxy: AiportProcess) -> None:
    client = proxy.async_client()
    stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    words = [c.choices[0].delta.content async for c in stream if c.choices]
    assert "".join(w or "" for w in words) == "Hello from the stream."
    await client.close()


def test_configured_route_uses_upstream_name_and_extras(
    proxy: AiportProcess, upstream: FakeUpstream
) -> None:
    proxy.client().chat.completions.create(
        model="my-llama",
        messages=MESSAGES,
        extra_body={"top_k": 5, "api_base": "http://evil.invalid", "api_key": "sk-other"},
    )
    sent = upstream.last("/chat/completions")
    assert sent["body"]["model"] == "meta-llama/Llama-3-8B"
    assert sent["body"]["top_k"] == 5
    assert "api_base" not in sent["body"] and "api_key" not in sent["body"]
    assert "Authorization" not in sent["headers"]  # that provider has no key


def test_upstream_errors_keep_status_body_and_retry_after(proxy: AiportProcess) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        proxy.client().chat.completions.create(model="error-429", messages=MESSAGES)
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["code"] == "fake_429"  # type: ignore[index]
    assert caught.value.response.headers["x-request-id"].startswith("req_")


def test_wrong_key_is_401(proxy: AiportProcess) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        proxy.client(api_key="sk-wrong").chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.code == "invalid_api_key"
    assert "sk-wrong" not in caught.value.response.text
    assert MASTER_KEY not in proxy.log() and "sk-wrong" not in proxy.log()

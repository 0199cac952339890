"""The embedded chat model streams OpenAI chunks token by token and stops when the client goes."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from aiport.backends.base import Call, StreamChunk
from aiport.backends.local.chat import DEFAULT_MODEL_ID, LlamaChatBackend
from aiport.errors import InvalidRequest
from aiport.protocol.chat import ChatCompletionRequest

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

STORY = [{"role": "user", "content": "Write a very long story about a dragon and a knight."}]


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[LlamaChatBackend]:
    backend = LlamaChatBackend()
    await backend.start()
    yield backend
    await backend.close()


def call(**body: Any) -> Call:
    body.setdefault("model", "gpt-4o-mini")
    body.setdefault("messages", [{"role": "user", "content": "Say hello to me."}])
    return Call.from_body(ChatCompletionRequest, body, DEFAULT_MODEL_ID)


async def collect(backend: LlamaChatBackend, **body: Any) -> list[dict[str, Any]]:
    chunks = []
    async for chunk in backend.chat_stream(call(stream=True, **body)):
        assert isinstance(chunk, StreamChunk)
        chunks.append(chunk.data)
    return chunks


def check_choice_framing(chunks: list[dict[str, Any]], index: int) -> str:
    """Role first, finish_reason only on the last chunk of the choice; returns its text."""
    choices = [c for chunk in chunks for c in chunk["choices"] if c["index"] == index]
    assert len(choices) >= 3  # role, at least one token, the finish
    assert choices[0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert all("role" not in c["delta"] for c in choices[1:])
    assert all(c["finish_reason"] is None for c in choices[:-1])
    assert choices[-1]["finish_reason"] in {"stop", "length"}
    assert all(c["logprobs"] is None for c in choices)
    return "".join(c["delta"].get("content") or "" for c in choices)


async def test_chunks_are_framed_like_openai_with_a_usage_chunk(
    backend: LlamaChatBackend,
) -> None:
    chunks = await collect(
        backend, max_tokens=12, seed=3, temperature=0, stream_options={"include_usage": True}
    )
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["id"].startswith("chatcmpl-")
    assert len({chunk["created"] for chunk in chunks}) == 1
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk["model"] for chunk in chunks} == {"gpt-4o-mini"}
    *body, last = chunks
    assert all(chunk["usage"] is None and len(chunk["choices"]) == 1 for chunk in body)
    assert last["choices"] == []
    usage = last["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    token_chunks = [c for c in body if c["choices"][0]["delta"].get("content")]
    assert 0 < usage["completion_tokens"] <= 12
    assert len(token_chunks) <= usage["completion_tokens"]  # one chunk per token at most
    streamed = check_choice_framing(body, 0)
    # The same request without streaming gives the same text: one generation path.
    whole = await backend.chat(call(max_tokens=12, seed=3, temperature=0))
    assert whole.data["choices"][0]["message"]["content"] == streamed


async def test_without_include_usage_no_chunk_mentions_usage(backend: LlamaChatBackend) -> None:
    chunks = await collect(backend, max_tokens=4)
    assert chunks and all("usage" not in chunk and chunk["choices"] for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


async def test_n_streams_each_choice_with_its_own_framing(backend: LlamaChatBackend) -> None:
    chunks = await collect(
        backend, n=2, max_tokens=5, seed=11, stream_options={"include_usage": True}
    )
    assert {c["index"] for chunk in chunks for c in chunk["choices"]} == {0, 1}
    for index in (0, 1):
        check_choice_framing(chunks[:-1], index)
    assert chunks[-1]["usage"]["completion_tokens"] <= 10


async def test_an_error_is_raised_before_the_first_chunk(backend: LlamaChatBackend) -> None:
    huge = [{"role": "user", "content": "hello world " * 3000}]
    stream = backend.chat_stream(call(messages=huge, stream=True))
    with pytest.raises(InvalidRequest) as caught:
        await anext(stream)
    assert caught.value.code == "context_length_exceeded"


async def wait_until_free(backend: LlamaChatBackend) -> None:
    """The runner is free again long before the 1500 tokens asked for could be generated
    (~26 s at the model's best speed): the generation stopped when its consumer left."""
    began = time.perf_counter()
    while backend.runner.busy and time.perf_counter() - began < 15:
        await asyncio.sleep(0.01)
    assert backend.runner.busy == 0, "the generation kept running after the client left"


async def test_closing_the_stream_early_frees_the_model(backend: LlamaChatBackend) -> None:
    async with aclosing(backend.chat_stream(call(messages=STORY, max_tokens=1500))) as stream:
        received = 0
        async for _ in stream:
            received += 1
            if received == 3:
                break
    await wait_until_free(backend)
    follow_up = await collect(backend, max_tokens=3)
    assert follow_up[-1]["choices"][0]["finish_reason"] == "length"


async def test_a_dropped_stream_is_finalised_and_frees_the_model(
    backend: LlamaChatBackend,
) -> None:
    stream = backend.chat_stream(call(messages=STORY, max_tokens=1500))
    async for _ in stream:
        break  # the consumer walks away without closing the iterator
    del stream
    gc.collect()
    await wait_until_free(backend)
    assert (await backend.chat(call(max_tokens=3))).data["choices"][0]["message"]["content"]


async def test_cancelling_the_consumer_task_frees_the_model(backend: LlamaChatBackend) -> None:
    first_token = asyncio.Event()

    async def consume() -> None:
        async for _ in backend.chat_stream(call(messages=STORY, max_tokens=1500)):
            first_token.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_token.wait(), timeout=30)
    task.cancel()  # what the HTTP layer does when the client disconnects
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until_free(backend)
    assert (await collect(backend, max_tokens=2))[-1]["choices"][0]["finish_reason"] == "length"

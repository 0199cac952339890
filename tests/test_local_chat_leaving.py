"""A caller who leaves stops the generation on every endpoint of the chat engine: chat
completions, legacy completions, the Responses API and Anthropic's Messages API, streamed
or not (the others' engines: `test_local_cancellation.py`).

Leaving is what aiohttp does when a client disconnects: the handler's task is cancelled,
and a stream's chunk iterator is closed. The engine's slot is only released once the
worker thread has stopped, so `busy == 0` right after leaving means the generation
stopped (within a token), not minutes later; a follow-up request is then served on the
one slot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aiport.backends.base import Call
from aiport.backends.local import runner
from aiport.backends.local.chat import DEFAULT_MODEL_ID, LlamaChatBackend
from aiport.protocol.chat import ChatCompletionRequest
from aiport.protocol.common import WireModel
from aiport.protocol.completions import CompletionRequest
from aiport.protocol.messages import MessagesRequest
from aiport.protocol.responses import ResponseRequest

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

STORY = "Tell a long story about a dragon."
LONG = 400  # tokens asked for: far more than are made before the caller leaves


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[LlamaChatBackend]:
    backend = LlamaChatBackend(n_ctx=512, concurrency=1, queue_size=1)
    await backend.start()
    yield backend
    await backend.close()


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many items the engine's workers handed over (one per token), counted."""
    count = [0]
    emit = runner.Emitter.emit

    def counted(self: runner.Emitter, item: Any) -> None:
        count[0] += 1
        emit(self, item)

    monkeypatch.setattr(runner.Emitter, "emit", counted)
    return count


def call(wire: type[WireModel], body: dict[str, Any]) -> Call:
    return Call.from_body(wire, body, DEFAULT_MODEL_ID, key_id="k")


CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": STORY}], "max_tokens": LONG}
REQUESTS: dict[str, tuple[type[WireModel], dict[str, Any]]] = {
    "chat": (ChatCompletionRequest, CHAT),
    "completions": (
        CompletionRequest,
        {"model": "gpt-3.5-turbo-instruct", "prompt": "1, 2, 3, 4, 5,", "max_tokens": LONG},
    ),
    "responses": (
        ResponseRequest,
        {"model": "gpt-4o", "input": STORY, "max_output_tokens": LONG, "store": False},
    ),
    "messages": (MessagesRequest, CHAT | {"model": "claude-sonnet-4-5"}),
}


def methods(backend: LlamaChatBackend, kind: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The endpoint's answer and its stream."""
    return getattr(backend, kind), getattr(backend, f"{kind}_stream")


async def served_after(backend: LlamaChatBackend) -> None:
    """The one slot is free: a follow-up request is answered."""
    assert backend.runner.busy == 0
    body = CHAT | {"max_tokens": 2}
    answer = await backend.chat(call(ChatCompletionRequest, body))
    assert answer.usage.completion_tokens > 0


async def until(condition: Callable[[], bool], task: Awaitable[Any]) -> None:
    while not condition():
        assert not asyncio.ensure_future(task).done(), "the answer came before the caller left"
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("kind", REQUESTS)
async def test_a_caller_who_leaves_a_whole_answer_stops_it(
    backend: LlamaChatBackend, emitted: list[int], kind: str
) -> None:
    wire, body = REQUESTS[kind]
    answer, _ = methods(backend, kind)
    task = asyncio.create_task(answer(call(wire, body)))
    await until(lambda: emitted[0] >= 5, task)  # generating
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert emitted[0] < LONG // 2
    await served_after(backend)


@pytest.mark.parametrize("kind", REQUESTS)
async def test_a_caller_who_leaves_a_stream_stops_it(
    backend: LlamaChatBackend, emitted: list[int], kind: str
) -> None:
    wire, body = REQUESTS[kind]
    _, stream_of = methods(backend, kind)
    stream = stream_of(call(wire, body | {"stream": True}))
    received = 0
    async for _ in stream:
        received += 1
        if received == 5:
            break
    await stream.aclose()
    assert emitted[0] < LONG // 2
    await served_after(backend)

"""One key cannot tie up the embedded chat engine for everybody.

- Many choices (`n`) run as turns of their own in the per-key fair order: a request from
  another key that arrives meanwhile is served between two choices, not after all of them.
- A request asking for more output than `max_request_tokens` (choices × max_tokens) is a
  400 naming the limit, before anything runs.
- A JSON schema beyond OpenAI's documented limits (1,000 enum values, 10 levels, …) is a
  400 naming the limit: llama.cpp samples a grammar of 20,000 alternatives on its one
  decoding thread, which held every other request up for minutes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiport.backends.base import Call, JSONBody
from aiport.backends.local.chat import DEFAULT_MODEL_ID, LlamaChatBackend
from aiport.errors import InvalidRequest
from aiport.protocol.chat import ChatCompletionRequest

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

LONG = [{"role": "user", "content": "Count from 1 to 100, one number per line."}]


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[LlamaChatBackend]:
    backend = LlamaChatBackend(n_ctx=512, concurrency=1, queue_size=4)  # one slot
    await backend.start()
    yield backend
    await backend.close()


def call(key: str, **body: Any) -> Call:
    body = {"model": "gpt-4o", "messages": LONG, "temperature": 0} | body
    return Call.from_body(ChatCompletionRequest, body, DEFAULT_MODEL_ID, key_id=key)


async def test_another_key_is_served_between_the_choices_of_a_many_choice_request(
    backend: LlamaChatBackend,
) -> None:
    events: list[str] = []
    other: Any = None
    completion_tokens = 0
    async for chunk in backend.chat_stream(
        call("heavy", n=4, max_tokens=12, stream=True, stream_options={"include_usage": True})
    ):
        if other is None:  # the heavy request holds the only slot: another key arrives
            other = asyncio.create_task(backend.chat(call("light", max_tokens=4)))
            other.add_done_callback(lambda _: events.append("light done"))
        for choice in chunk.data["choices"]:
            if not events or events[-1] != f"choice {choice['index']}":
                events.append(f"choice {choice['index']}")
        if chunk.data.get("usage"):
            completion_tokens = chunk.data["usage"]["completion_tokens"]
    events.append("heavy done")
    light = await other
    assert isinstance(light, JSONBody) and light.usage.completion_tokens > 0
    assert events.index("light done") < events.index("heavy done"), events
    assert completion_tokens == 4 * 12  # every choice ran to its limit and is billed once
    assert backend.runner.busy == 0


async def test_more_output_than_the_request_budget_is_a_clear_400(
    backend: LlamaChatBackend,
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await backend.chat(call("heavy", n=128, max_tokens=1000))
    assert refused.value.param == "n"
    assert "128 choices × 512 tokens" in refused.value.message  # n_ctx=512 bounds a choice
    assert "at most 32768" in refused.value.message
    assert backend.runner.busy == 0


async def test_a_single_choice_is_never_refused_for_its_max_tokens(
    backend: LlamaChatBackend,
) -> None:
    """One choice cannot outgrow the context anyway (coding tools send max_tokens=32000+)."""
    messages = [{"role": "user", "content": "Say hi."}]
    result = await backend.chat(call("k", messages=messages, max_tokens=100_000))
    assert isinstance(result, JSONBody)


def enum_schema(values: int) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"w": {"type": "string", "enum": [f"v{i}" for i in range(values)]}},
        "required": ["w"],
    }
    return {"type": "json_schema", "json_schema": {"name": "pick", "schema": schema}}


async def test_an_enum_beyond_openais_limit_is_a_clear_400(backend: LlamaChatBackend) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await backend.chat(call("k", response_format=enum_schema(20_000), max_tokens=8))
    assert refused.value.param == "response_format.json_schema.schema"
    assert "1000 enum values" in refused.value.message
    assert backend.runner.busy == 0


async def test_a_tools_schema_beyond_the_limit_is_a_clear_400(backend: LlamaChatBackend) -> None:
    parameters = enum_schema(2000)["json_schema"]["schema"]
    tools = [{"type": "function", "function": {"name": "pick", "parameters": parameters}}]
    with pytest.raises(InvalidRequest) as refused:
        await backend.chat(call("k", tools=tools, max_tokens=8))
    assert refused.value.param == "tools[0].function.parameters"


async def test_a_many_choice_request_left_midway_frees_the_engine(
    backend: LlamaChatBackend,
) -> None:
    stream = backend.chat_stream(call("heavy", n=8, max_tokens=64, stream=True))
    seen: set[int] = set()
    async for chunk in stream:
        seen |= {choice["index"] for choice in chunk.data["choices"]}
        break  # the client goes away during the first choice
    await stream.aclose()  # type: ignore[attr-defined]
    assert seen == {0} and backend.runner.busy == 0
    light = await backend.chat(call("light", max_tokens=4))  # served at once: the slot is free
    assert isinstance(light, JSONBody) and light.usage.completion_tokens > 0

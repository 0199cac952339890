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
from aiport.protocol.completions import CompletionRequest

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


async def test_another_keys_request_goes_between_the_turns_of_long_requests(
    backend: LlamaChatBackend,
) -> None:
    """Key A's two long requests hold the only slot; key B's short one is served after
    A's first turn (`turn_tokens`, 32), not after A's requests. A's answers are whole:
    resumed where they gave way, every token billed once, the prompt once."""
    alone = await backend.chat(call("A", max_tokens=96))
    assert isinstance(alone, JSONBody)
    events: list[str] = []

    async def done(name: str, work: Any) -> Any:
        result = await work
        events.append(name)
        return result

    async def streamed() -> tuple[str, JSONBody | None, int]:
        text, usage, roles = "", None, 0
        body = {"stream": True, "stream_options": {"include_usage": True}, "max_tokens": 96}
        async for chunk in backend.chat_stream(call("A", **body)):
            if b_task is None:
                start_b()
            for choice in chunk.data["choices"]:
                roles += "role" in choice["delta"]
                text += choice["delta"].get("content") or ""
            usage = chunk.data.get("usage") or usage
        return text, usage, roles

    b_task: asyncio.Task[Any] | None = None

    def start_b() -> None:
        nonlocal b_task
        b_task = asyncio.create_task(done("B", backend.chat(call("B", max_tokens=4))))

    second = asyncio.create_task(done("A2", backend.chat(call("A", max_tokens=96))))
    text, usage, roles = await done("A1", streamed())
    light, heavy = await b_task, await second  # type: ignore[misc]
    assert events.index("B") < events.index("A1") < events.index("A2"), events
    assert isinstance(light, JSONBody) and light.usage.completion_tokens == 4
    expected = alone.data["choices"][0]["message"]["content"]
    assert text == expected and roles == 1  # resumed where it stopped, one role chunk
    assert usage == alone.data["usage"]  # 96 tokens and the prompt, each counted once
    assert heavy.data["usage"] == alone.data["usage"]
    assert heavy.data["choices"][0]["message"]["content"] == expected
    assert heavy.data["choices"][0]["finish_reason"] == "length"
    assert backend.runner.busy == 0


async def test_a_legacy_completion_gives_way_and_resumes_where_it_stopped(
    backend: LlamaChatBackend,
) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "1, 2, 3, 4,", "temperature": 0}
    body |= {"max_tokens": 48, "stream_options": {"include_usage": True}}

    def completion(**more: Any) -> Call:
        return Call.from_body(CompletionRequest, body | more, DEFAULT_MODEL_ID, key_id="A")

    alone = await backend.completions(completion())
    text, usage, light = "", None, None
    async for chunk in backend.completions_stream(completion(stream=True)):
        if light is None:  # A holds the only slot: B's request waits for it
            light = asyncio.create_task(backend.chat(call("B", max_tokens=4)))
        text += "".join(choice["text"] for choice in chunk.data["choices"])
        usage = chunk.data.get("usage") or usage
    assert light is not None and light.done()  # served before A's answer ended
    assert text == alone.data["choices"][0]["text"]
    assert usage == alone.data["usage"]  # the prompt once, 48 tokens

"""The embedded SmolLM2 answers OpenAI `chat.completion` objects and honours the knobs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest

from aiport.backends.base import Call, JSONBody
from aiport.backends.local.chat import DEFAULT_MODEL_ID, LlamaChatBackend
from aiport.errors import InvalidRequest
from aiport.protocol.chat import ChatCompletionRequest

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[LlamaChatBackend]:
    backend = LlamaChatBackend()
    await backend.start()
    yield backend
    await backend.close()


def call(**body: Any) -> Call:
    body.setdefault("model", "gpt-4o")
    body.setdefault("messages", QUESTION)
    return Call.from_body(ChatCompletionRequest, body, DEFAULT_MODEL_ID)


async def complete(backend: LlamaChatBackend, **body: Any) -> dict[str, Any]:
    result = await backend.chat(call(**body))
    assert isinstance(result, JSONBody)
    usage = result.data["usage"]
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    return result.data


def text(data: dict[str, Any], index: int = 0) -> str:
    content = data["choices"][index]["message"]["content"]
    assert isinstance(content, str)
    return content


async def test_a_trivial_question_gets_a_well_formed_answer(backend: LlamaChatBackend) -> None:
    data = await complete(backend, max_tokens=40, temperature=0.7)
    assert data["id"].startswith("chatcmpl-")
    assert data["object"] == "chat.completion"
    assert isinstance(data["created"], int)
    assert data["model"] == "gpt-4o"  # the name the client asked for
    [choice] = data["choices"]
    assert choice["index"] == 0 and choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] in {"stop", "length"}
    assert text(data).strip()
    usage = data["usage"]
    assert usage["prompt_tokens"] > 10  # the template's system prompt plus the question
    assert 0 < usage["completion_tokens"] <= 40
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize("limit", ["max_tokens", "max_completion_tokens"])
async def test_a_token_limit_ends_with_length(backend: LlamaChatBackend, limit: str) -> None:
    story = [{"role": "user", "content": "Write a long story about a dragon."}]
    data = await complete(backend, messages=story, **{limit: 5})
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] <= 5


@pytest.mark.parametrize("temperature", [0.0, 1.0])
async def test_a_seed_repeats_the_answer(backend: LlamaChatBackend, temperature: float) -> None:
    first = await complete(backend, max_tokens=20, seed=42, temperature=temperature)
    second = await complete(backend, max_tokens=20, seed=42, temperature=temperature)
    assert text(first) == text(second)


async def test_a_stop_sequence_ends_the_answer_before_it(backend: LlamaChatBackend) -> None:
    count = [{"role": "user", "content": "Count from 1 to 10 separated by commas."}]
    data = await complete(backend, messages=count, max_tokens=40, temperature=0, stop=["5"])
    assert data["choices"][0]["finish_reason"] == "stop"
    assert text(data).startswith("1, 2, 3")
    assert "5" not in text(data)


async def test_json_schema_output_parses_and_fits(backend: LlamaChatBackend) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "city", "schema": schema}}
    name = [{"role": "user", "content": "Name a city in France."}]
    data = await complete(
        backend, messages=name, max_tokens=60, temperature=0, response_format=response_format
    )
    parsed = json.loads(text(data))
    assert set(parsed) == {"city"} and isinstance(parsed["city"], str)


async def test_json_object_output_parses(backend: LlamaChatBackend) -> None:
    ask = [{"role": "user", "content": "Reply in JSON with the key name set to your name."}]
    data = await complete(
        backend,
        messages=ask,
        max_tokens=100,
        temperature=0,
        response_format={"type": "json_object"},
    )
    assert data["choices"][0]["finish_reason"] == "stop"
    assert isinstance(json.loads(text(data)), dict)


async def test_n_gives_distinct_indexed_choices(backend: LlamaChatBackend) -> None:
    data = await complete(backend, n=3, max_tokens=6, seed=7, temperature=1.0)
    assert [choice["index"] for choice in data["choices"]] == [0, 1, 2]
    assert all(text(data, i) for i in range(3))
    assert len({text(data, i) for i in range(3)}) > 1  # seeds 7, 8, 9
    assert data["usage"]["completion_tokens"] <= 18


async def test_logprobs_cover_every_generated_token(backend: LlamaChatBackend) -> None:
    # Cut by max_tokens (the greedy answer is longer), so every token generated is text: an
    # answer that ends by itself also counts its end-of-turn token, which has no logprob
    # entry (as llama.cpp and vLLM count it). Sampled at the default temperature, the
    # answer ended by itself within 4 tokens now and then, and this failed.
    data = await complete(backend, max_tokens=4, temperature=0, logprobs=True, top_logprobs=2)
    assert data["choices"][0]["finish_reason"] == "length"
    entries = data["choices"][0]["logprobs"]["content"]
    assert len(entries) == data["usage"]["completion_tokens"]
    assert all(len(entry["top_logprobs"]) == 2 and entry["logprob"] <= 0 for entry in entries)


async def test_a_prompt_longer_than_the_context_is_a_clear_400(backend: LlamaChatBackend) -> None:
    huge = [{"role": "user", "content": "hello world " * 3000}]
    with pytest.raises(InvalidRequest) as caught:
        await backend.chat(call(messages=huge, max_tokens=5))
    assert caught.value.code == "context_length_exceeded"
    assert caught.value.param == "messages"
    assert "2048" in caught.value.message


async def test_tools_are_called_through_a_grammar_when_the_template_has_none(
    backend: LlamaChatBackend,
) -> None:
    forced = await complete(
        backend, tools=[WEATHER_TOOL], tool_choice="required", max_tokens=60, temperature=0
    )
    choice = forced["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    [tool_call] = choice["message"]["tool_calls"]
    assert tool_call["type"] == "function" and tool_call["id"].startswith("call_")
    assert tool_call["function"]["name"] == "get_weather"
    arguments = json.loads(tool_call["function"]["arguments"])
    jsonschema.validate(arguments, WEATHER_TOOL["function"]["parameters"])  # type: ignore[index]
    # tool_choice "none" means the tools are not wanted: the model simply answers.
    data = await complete(backend, tools=[WEATHER_TOOL], tool_choice="none", max_tokens=5)
    assert data["choices"][0]["message"]["content"]


async def test_the_runner_is_free_after_every_answer(backend: LlamaChatBackend) -> None:
    await complete(backend, max_tokens=3)
    assert backend.status() == {"model": DEFAULT_MODEL_ID, "loaded": True, "busy": 0}


async def test_a_runtime_refusal_is_a_400_not_a_crash(backend: LlamaChatBackend) -> None:
    picture = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    look = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, picture]}]
    with pytest.raises(InvalidRequest, match="image"):
        await backend.chat(call(messages=look, max_tokens=5))
    # Text parts are fine: the runtime joins them.
    words = [{"role": "user", "content": [{"type": "text", "text": "Say hi."}]}]
    assert text(await complete(backend, messages=words, max_tokens=3))


async def test_a_shared_system_prompt_is_computed_once(backend: LlamaChatBackend) -> None:
    """Prompt-prefix reuse: the second request finds the shared prefix in a slot's cache."""
    system = {
        "role": "system",
        "content": " ".join(f"Rule {i}: be brief and kind about topic {i}." for i in range(30)),
    }
    first, second = [
        await complete(backend, max_tokens=2, messages=[system, {"role": "user", "content": q}])
        for q in ("Name a colour.", "Name an animal.")
    ]
    assert backend.slots > 1  # several slots by default, and still the cache is found
    cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert cached > 0.8 * first["usage"]["prompt_tokens"]

"""Claude through the OpenAI SDK: chat completions and the Responses API on an `anthropic`
provider, translated to Anthropic's Messages API and back — against the fake upstream,
which answers as Anthropic does (`fake_script`)."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.support.fake_upstream import FakeUpstream, wait_for
from tests.support.openapi_spec import component_ref, response_schema_ref, validate
from tests.support.server import (
    ANTHROPIC_UPSTREAM_KEY,
    MASTER_KEY,
    AiportProcess,
    assert_openai_error,
    raw_request,
)

CLAUDE, AGENT = "claude-native", "agent-claude"  # served as claude-sonnet-4-5 / agent-claude
HELLO: list[Any] = [{"role": "user", "content": "Hallo!"}]
WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
        "strict": True,
    },
}


@pytest.fixture(scope="module")
def client(proxy: AiportProcess) -> openai.OpenAI:
    return proxy.client()


def sent(upstream: FakeUpstream) -> dict[str, Any]:
    return upstream.last("/messages")["body"]  # type: ignore[no-any-return]


def test_a_chat_completion_from_claude(proxy: AiportProcess, upstream: FakeUpstream) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in German."}]},
        *HELLO,
    ]
    answer = raw_request(
        proxy.base_url + "/v1/chat/completions",
        {"model": CLAUDE, "messages": messages, "stop": "\n\n"},
    )
    assert answer.status == 200, answer.body
    completion = answer.json()
    validate(completion, response_schema_ref("/chat/completions", "post"))
    [choice] = completion["choices"]
    assert choice["message"]["content"] == "Hello from the fake upstream."
    assert choice["finish_reason"] == "stop" and completion["model"] == "claude-sonnet-4-5"
    assert completion["usage"]["prompt_tokens"] == 11
    assert completion["usage"]["completion_tokens"] == 6
    request = upstream.last("/messages")
    assert request["headers"]["x-api-key"] == ANTHROPIC_UPSTREAM_KEY
    assert request["headers"]["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in request["headers"]
    assert request["body"] == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,  # Anthropic requires one: the provider's default_max_tokens
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hallo!"}]}],
        "system": [
            {"type": "text", "text": "Be brief."},
            {"type": "text", "text": "Answer in German."},
        ],
        "stop_sequences": ["\n\n"],
        # no temperature: aiport's default is not sent (newer Claude models refuse it)
    }


def test_sampling_and_limits_reach_claude_in_its_ranges(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    client.chat.completions.create(
        model=CLAUDE, messages=HELLO, temperature=1.5, max_completion_tokens=50, user="u-1"
    )
    body = sent(upstream)
    assert body["temperature"] == 1.0 and body["max_tokens"] == 50  # capped at Claude's 1
    assert body["metadata"] == {"user_id": "u-1"}
    client.chat.completions.create(model=CLAUDE, messages=HELLO, top_p=0.5, max_tokens=7)
    body = sent(upstream)
    assert body["top_p"] == 0.5 and "temperature" not in body and body["max_tokens"] == 7


def stream_chunks(client: openai.OpenAI, model: str, **extra: Any) -> list[dict[str, Any]]:
    chunks = client.chat.completions.create(model=model, messages=HELLO, stream=True, **extra)
    return [chunk.model_dump(mode="json", exclude_unset=True) for chunk in chunks]


def test_a_stream_in_openai_framing(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    chunks = stream_chunks(client, CLAUDE, stream_options={"include_usage": True})
    for chunk in chunks:
        validate(chunk, component_ref("CreateChatCompletionStreamResponse"))
    assert len({c["id"] for c in chunks}) == 1 and len({c["created"] for c in chunks}) == 1
    *content, last = chunks
    assert content[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in content)
    assert text == "Hello from the stream."
    finishes = [c["choices"][0]["finish_reason"] for c in content]
    assert finishes[-1] == "stop" and not any(finishes[:-1])
    assert all(c["usage"] is None for c in content)
    assert last["choices"] == [] and last["usage"]["prompt_tokens"] == 9
    assert last["usage"]["completion_tokens"] == 4 and last["usage"]["total_tokens"] == 13
    assert sent(upstream)["stream"] is True
    unasked = stream_chunks(client, CLAUDE)
    assert all("usage" not in c and c["choices"] for c in unasked)  # metered, not shown


def test_a_tool_call_round_trip(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    first = client.chat.completions.create(
        model=AGENT,
        messages=HELLO,
        tools=[WEATHER],
        tool_choice="required",
        parallel_tool_calls=False,
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    body = sent(upstream)
    assert body["tools"] == [
        {
            "name": "get_weather",
            "input_schema": WEATHER["function"]["parameters"],
            "description": "The weather in a city.",
        }
    ]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}

    streamed = stream_chunks(client, AGENT, tools=[WEATHER])
    pieces = [
        part
        for chunk in streamed
        for choice_ in chunk["choices"]
        for part in choice_["delta"].get("tool_calls") or []
    ]
    assert pieces[0]["id"] == call.id and pieces[0]["function"]["name"] == "get_weather"
    assert {p["index"] for p in pieces} == {0} and len(pieces) == 3  # opened, then 2 deltas
    arguments = "".join(p["function"].get("arguments") or "" for p in pieces)
    assert json.loads(arguments) == {"city": "Paris"}
    assert streamed[-1]["choices"][0]["finish_reason"] == "tool_calls"

    second = client.chat.completions.create(
        model=AGENT,
        tools=[WEATHER],
        messages=[
            *HELLO,
            first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ],
    )
    assert second.choices[0].message.content == "The tool said: sunny"
    assert [m["role"] for m in sent(upstream)["messages"]] == ["user", "assistant", "user"]
    assert sent(upstream)["messages"][1]["content"] == [
        {"type": "tool_use", "id": call.id, "name": "get_weather", "input": {"city": "Paris"}}
    ]
    assert sent(upstream)["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}
    ]


def test_a_matched_stop_sequence_is_named(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(model=CLAUDE, messages=HELLO, stop=[" fake", "x"])
    choice = answer.choices[0]
    assert choice.message.content == "Hello from the" and choice.finish_reason == "stop"
    assert (choice.model_extra or {})["stop_reason"] == " fake"  # as vLLM reports it


def test_the_responses_api_on_claude(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    response = client.responses.create(model=CLAUDE, instructions="Be brief.", input="Hallo!")
    assert response.output_text == "Hello from the fake upstream."
    assert response.usage is not None and response.usage.input_tokens == 11
    assert sent(upstream)["system"] == [{"type": "text", "text": "Be brief."}]
    with client.responses.stream(model=CLAUDE, input="Hallo!") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Hello from the stream." and final.status == "completed"
    tool = {"type": "function", "name": "get_weather", "parameters": WEATHER["function"]}
    tool["parameters"] = WEATHER["function"]["parameters"]
    called = client.responses.create(model=AGENT, input="Weather?", tools=[tool])  # type: ignore[list-item]
    [item] = called.output
    assert item.type == "function_call" and json.loads(item.arguments) == {"city": "Paris"}


def test_failures_come_in_openais_shape(
    proxy: AiportProcess, client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    with pytest.raises(openai.InternalServerError) as overloaded:
        client.chat.completions.create(model="claude-overloaded", messages=HELLO)
    assert overloaded.value.status_code == 529
    assert overloaded.value.body == {  # type: ignore[comparison-overlap]
        "message": "fake 529",
        "type": "overloaded_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.InternalServerError):
        stream_chunks(client, "claude-overloaded")  # before the first chunk: an HTTP error
    with pytest.raises(openai.APIError, match="Overloaded"):
        stream_chunks(client, "claude-midstream")  # after it: an error frame
    seen = len(upstream.requests)
    url = proxy.base_url + "/v1/chat/completions"
    bmp = [{"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}}]
    refused = {
        "n": {"n": 2},
        "messages[0].content[0].image_url": {"messages": [{"role": "user", "content": bmp}]},
        "tools[0].type": {"tools": [{"type": "custom", "custom": {"name": "x"}}]},
    }
    for param, fields in refused.items():
        body = {"model": CLAUDE, "messages": HELLO} | fields
        assert_openai_error(raw_request(url, body), 400, param)
    assert len(upstream.requests) == seen  # refused before going upstream


def test_a_models_timeouts_hold_on_claude(proxy: AiportProcess) -> None:
    """`timeouts:` of a model served by an `anthropic` provider: a 504 in the caller's
    protocol once they pass, on every API and streamed or not (they were ignored)."""
    chat = {"model": "claude-slow", "messages": HELLO}
    message = {"model": "claude-slow", "max_tokens": 10, "messages": HELLO}
    for stream in (False, True):
        answer = raw_request(proxy.base_url + "/v1/chat/completions", chat | {"stream": stream})
        assert_openai_error(answer, 504)
        answer = raw_request(proxy.base_url + "/v1/messages", message | {"stream": stream})
        assert answer.status == 504, answer.body[:300]
        assert answer.json()["error"]["type"] == "timeout_error"


def test_openais_other_endpoints_are_a_400_on_claude(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    """Anthropic has no embeddings, moderations, images, speech or transcriptions: a 400 in
    OpenAI's shape naming the model, instead of a request to a path Anthropic lacks (whose
    404 came back in Anthropic's shape to an OpenAI client)."""
    seen = len(upstream.requests)
    calls: dict[str, Any] = {
        "embeddings": lambda: client.embeddings.create(model=CLAUDE, input="x"),
        "moderations": lambda: client.moderations.create(model=CLAUDE, input="x"),
        "images": lambda: client.images.generate(model=CLAUDE, prompt="x"),
        "speech": lambda: client.audio.speech.create(model=CLAUDE, voice="alloy", input="x"),
        "transcriptions": lambda: client.audio.transcriptions.create(
            model=CLAUDE, file=("a.wav", b"RIFF0000WAVE")
        ),
    }
    for name, call in calls.items():
        with pytest.raises(openai.BadRequestError) as refused:
            call()
        assert refused.value.code == "unsupported_model", (name, refused.value.body)
    assert len(upstream.requests) == seen


def test_images_reach_claude_as_image_blocks(client: openai.OpenAI, upstream: FakeUpstream) -> None:
    parts: Any = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": parts}])
    png = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
    assert sent(upstream)["messages"][0]["content"][1:] == [
        {"type": "image", "source": png},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_a_budgeted_key_pays_claudes_prices(proxy: AiportProcess) -> None:
    created = raw_request(proxy.base_url + "/admin/keys", {"name": "claude", "max_budget": 1})
    key = created.json()
    caller = proxy.client(api_key=key["key"])
    caller.chat.completions.create(model=CLAUDE, messages=HELLO)  # 11 in, 6 out
    list(caller.chat.completions.create(model=CLAUDE, messages=HELLO, stream=True))  # 9, 4
    # 11 in + 100 read from the cache + 20 written to it, 6 out
    cached = caller.chat.completions.create(model=CLAUDE, messages=HELLO, user="cached")
    assert cached.usage is not None and cached.usage.prompt_tokens == 131
    assert cached.usage.prompt_tokens_details is not None
    assert cached.usage.prompt_tokens_details.cached_tokens == 100

    def rows() -> list[dict[str, Any]]:
        usage = raw_request(proxy.base_url + f"/admin/usage?key={key['id']}", key=MASTER_KEY)
        return usage.json()["data"]  # type: ignore[no-any-return]

    assert wait_for(lambda: bool(rows()) and rows()[0]["requests"] == 3, timeout=10)
    [row] = rows()
    assert row["total_tokens"] == 17 + 13 + 137 and row["unpriced_requests"] == 0
    # claude-sonnet-4-5: $3 input, $15 output, $0.30 cache reads, $3.75 cache writes per 1M
    dollars = (11 * 3 + 6 * 15) + (9 * 3 + 4 * 15) + (11 * 3 + 100 * 0.3 + 20 * 3.75 + 6 * 15)
    assert row["cost_usd"] == pytest.approx(dollars / 1e6, abs=1e-9)


MALFORMED_CONTENT = {
    "a-number": ([{"role": "user", "content": 1}], "messages[0].content"),
    "a-part-not-an-object": ([{"role": "user", "content": ["Hallo"]}], "messages[0].content[0]"),
    "text-not-a-string": (
        [{"role": "user", "content": [{"type": "text", "text": 1}]}],
        "messages[0].content[0].text",
    ),
    "a-file-not-an-object": (
        [{"role": "user", "content": [{"type": "file", "file": "report.pdf"}]}],
        "messages[0].content[0].file",
    ),
    "system-an-object": ([{"role": "system", "content": {"text": "x"}}, *HELLO], None),
}


@pytest.mark.parametrize("case", MALFORMED_CONTENT, ids=list(MALFORMED_CONTENT))
def test_malformed_content_is_a_400_not_a_strike_against_claude(
    proxy: AiportProcess, case: str
) -> None:
    """Content of the wrong shape was a 500 from the translation to Messages — retried and
    counted against the Anthropic deployment's breaker, so a few such requests took Claude
    down for every caller."""
    messages, param = MALFORMED_CONTENT[case]
    for _ in range(3):
        answer = raw_request(
            proxy.base_url + "/v1/chat/completions", {"model": CLAUDE, "messages": messages}
        )
        error = assert_openai_error(answer, 400)
        assert param is None or error["param"] == param, error
    fine = raw_request(
        proxy.base_url + "/v1/chat/completions", {"model": CLAUDE, "messages": HELLO}
    )
    assert fine.status == 200, fine.body

"""Chat completions ⇄ Anthropic Messages, the pure translation: what peers got wrong
(LiteLLM, sglang, Bifrost issues) done right — parallel tool calls kept apart in a stream,
tool results grouped right after their calls, cache tokens counted in the prompt."""

from __future__ import annotations

from typing import Any

import pytest

from aiport.backends.anthropic import anthropic_usage
from aiport.errors import InvalidRequest, UpstreamError
from aiport.store.pricing import PriceTable
from aiport.translate.chat_anthropic import chat_completion, messages_request
from aiport.translate.chat_anthropic_stream import ChatChunks


def request(messages: list[Any], **fields: Any) -> dict[str, Any]:
    body = {"model": "claude", "messages": messages, **fields}
    return messages_request(body, "claude-x", default_max_tokens=4096)


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


RAIN = {"type": "text", "text": "rain"}


def test_parallel_tool_results_join_one_user_turn_before_its_text() -> None:
    messages = request(
        [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": "", "tool_calls": [
                call("call_1", "weather", '{"city": "Paris"}'),
                call("call.2", "weather", '{"city": "Rome"}'),
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "call.2", "content": [RAIN]},
            {"role": "user", "content": "And tomorrow?"},
            {"role": "user", "content": "   "},
        ]
    )["messages"]  # fmt: skip
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [b["type"] for b in messages[1]["content"]] == ["tool_use", "tool_use"]  # no ""
    assert messages[1]["content"][1]["id"] == "call_2"  # Anthropic's id alphabet
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
        {"type": "tool_result", "tool_use_id": "call_2", "content": "rain"},
        {"type": "text", "text": "And tomorrow?"},
    ]


def test_a_final_assistant_message_is_a_prefill_without_trailing_space() -> None:
    messages = request([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "{ "}])
    assert messages["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "{"}],
    }


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("none", False, {"type": "none"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ({"type": "function", "function": {"name": "f"}}, None, {"type": "tool", "name": "f"}),
    ],
)
def test_tool_choice(choice: Any, parallel: Any, expected: dict[str, Any]) -> None:
    tool = {"type": "function", "function": {"name": "f"}}
    fields = {"tools": [tool], "tool_choice": choice, "parallel_tool_calls": parallel}
    sent = request([{"role": "user", "content": "x"}], **fields)
    assert sent["tool_choice"] == expected
    assert sent["tools"] == [{"name": "f", "input_schema": {"type": "object"}}]


def test_structured_output_and_documents() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    pdf = {
        "type": "file",
        "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"},
    }
    sent = request(
        [{"role": "user", "content": [pdf]}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )  # fmt: skip
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert sent["messages"][0]["content"] == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"},
            "title": "a.pdf",
        }
    ]


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "assistant", "tool_calls": [call("c", "f", "[1]")]},
         "messages[0].tool_calls[0].function.arguments"),
        ({"role": "user", "content": [{"type": "input_audio"}]}, "messages[0].content"),
        ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]},
         "messages[0].content[0].image_url"),
        ({"role": "function", "content": "x"}, "messages[0].role"),
    ],
)  # fmt: skip
def test_what_claude_cannot_take_is_a_400_naming_it(message: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        request([message])
    assert refused.value.param == param


def test_an_answer_with_text_and_tool_use() -> None:
    completion = chat_completion(
        {
            "id": "msg_1",
            "content": [
                {"type": "thinking", "thinking": "hm", "signature": "s"},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": "ä"}},
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 3, "cache_read_input_tokens": 10, "output_tokens": 5},
        },
        "claude",
    )
    [choice] = completion["choices"]
    assert choice["message"]["content"] == "Let me look."
    assert choice["message"]["tool_calls"][0]["function"] == {
        "name": "f",
        "arguments": '{"a": "ä"}',
    }
    assert choice["finish_reason"] == "tool_calls"
    assert completion["usage"]["prompt_tokens"] == 13
    assert completion["usage"]["prompt_tokens_details"] == {"cached_tokens": 10}


def events_of(*blocks: tuple[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """An Anthropic stream with the given blocks (type, deltas)."""
    start = {"id": "msg_1", "usage": {"input_tokens": 7, "cache_read_input_tokens": 3}}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, (kind, deltas) in enumerate(blocks):
        block: dict[str, Any] = {"type": kind}
        if kind == "tool_use":
            block |= {"id": f"toolu_{index}", "name": f"tool{index}", "input": {}}
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    stop = {"stop_reason": "tool_use", "stop_sequence": None}
    events.append({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 9}})
    return [*events, {"type": "message_stop"}]


def test_parallel_tool_calls_stream_as_separate_calls() -> None:
    def args(text: str) -> dict[str, Any]:
        return {"type": "input_json_delta", "partial_json": text}

    events = events_of(
        ("thinking", [{"type": "thinking_delta", "thinking": "hm"}]),
        ("text", [{"type": "text_delta", "text": "Two calls."}]),
        ("tool_use", [args('{"a"'), args(": 1}")]),
        ("tool_use", [args(""), args('{"b": 2}')]),
    )
    chunks = ChatChunks("claude", include_usage=True)
    out = [chunk for event in events for chunk in chunks.feed(event)]
    assert chunks.finished
    calls: dict[int, str] = {}
    for chunk in out[:-1]:
        for part in chunk["choices"][0]["delta"].get("tool_calls") or []:
            calls[part["index"]] = calls.get(part["index"], "") + part["function"]["arguments"]
    assert calls == {0: '{"a": 1}', 1: '{"b": 2}'}
    assert out[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert out[-1]["choices"] == []
    assert out[-1]["usage"]["prompt_tokens"] == 10 and out[-1]["usage"]["completion_tokens"] == 9


def test_an_error_event_mid_stream_is_raised() -> None:
    chunks = ChatChunks("claude", include_usage=False)
    chunks.feed({"type": "message_start", "message": {"id": "m"}})
    with pytest.raises(UpstreamError) as failed:
        chunks.feed({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    assert failed.value.status == 529 and b'"overloaded_error"' in failed.value.body()
    assert not chunks.finished


def test_claude_names_and_snapshots_are_priced_with_their_cache_rates() -> None:
    table = PriceTable()
    usage = anthropic_usage(
        {
            "input_tokens": 1_000_000,
            "cache_read_input_tokens": 1_000_000,
            "cache_creation_input_tokens": 1_000_000,
            "output_tokens": 1_000_000,
        }
    )
    # Haiku 4.5: $1 input, $0.10 cache hits, $1.25 cache writes, $5 output per 1M
    assert table.cost("claude-haiku-4-5-20251001", usage) == pytest.approx(7.35)
    for name in ("claude-opus-4-20250514", "claude-3-5-sonnet-latest", "claude-sonnet-4-6"):
        assert table.price(name) is not None, name
    assert table.price("claude-mythos-5") is None  # no model id confirmed: unpriced, not guessed

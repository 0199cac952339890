"""Malformed nested fields on the embedded models: a 400 in the caller's protocol shape,
never a 500 — and never a strike against the engine, so one caller's bad request cannot
open the model's breaker and take it down for every other caller."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import AiportProcess, assert_openai_error, raw_request

pytestmark = pytest.mark.slow

HI = [{"role": "user", "content": "Hi"}]
CHAT = {"model": "gpt-4o", "max_tokens": 2, "messages": HI}
RESPONSES = {"model": "gpt-4o", "max_output_tokens": 16}
MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 2}

TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]


def _calling(call: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": [call]}


OPENAI_CASES = {
    "chat-tool-function-not-an-object": (
        "/v1/chat/completions",
        CHAT | {"tools": [{"type": "function", "function": "get_weather"}]},
        "tools[0].function",
    ),
    "chat-tool-without-function": (
        "/chat/completions",
        CHAT | {"tools": [{"type": "function"}]},
        "tools[0].function",
    ),
    "chat-tool-parameters-not-an-object": (
        "/v1/chat/completions",
        CHAT | {"tools": [{"type": "function", "function": {"name": "f", "parameters": [1]}}]},
        "tools[0].function.parameters",
    ),
    "chat-tool-name-not-a-string": (
        "/v1/chat/completions",
        CHAT | {"tools": [{"type": "function", "function": {"name": 7}}]},
        "tools[0].function.name",
    ),
    "chat-tool-not-a-function": (  # was silently ignored: the model answered without it
        "/v1/chat/completions",
        CHAT | {"tools": [*TOOLS, {"type": "web_search"}]},
        "tools[1].type",
    ),
    "chat-tool-choice-function-not-an-object": (
        "/v1/chat/completions",
        CHAT | {"tools": TOOLS, "tool_choice": {"type": "function", "function": "f"}},
        "tool_choice",
    ),
    "chat-tool-call-not-an-object": (
        "/v1/chat/completions",
        CHAT | {"tools": TOOLS, "messages": [*HI, {"role": "assistant", "tool_calls": [1]}]},
        "messages[1].tool_calls[0]",
    ),
    "chat-tool-call-function-not-an-object": (
        "/v1/chat/completions",
        CHAT | {"tools": TOOLS, "messages": [*HI, _calling({"id": "c", "type": "function",
                                                             "function": "f"})]},
        "messages[1].tool_calls[0].function",
    ),
    "chat-tool-call-arguments-not-a-string": (
        "/chat/completions",
        CHAT | {"tools": TOOLS, "messages": [*HI, _calling({"id": "c", "type": "function",
                "function": {"name": "f", "arguments": {"a": 1}}})]},
        "messages[1].tool_calls[0].function.arguments",
    ),
    "chat-user-message-without-content": (
        "/v1/chat/completions",
        CHAT | {"messages": [*HI, {"role": "assistant", "content": "Hi"}, {"role": "user"}]},
        "messages[2].content",
    ),
    "chat-picture-to-a-text-only-model": (
        "/v1/chat/completions",
        CHAT | {"messages": [{"role": "user", "content": [{"type": "text", "text": "What?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}]}]},
        "messages[0].content[1]",
    ),
    "chat-n-times-max-tokens-beyond-the-request-budget": (
        "/v1/chat/completions",
        CHAT | {"n": 128, "max_tokens": 4096},
        "n",
    ),
    "chat-schema-beyond-openais-enum-limit": (
        "/v1/chat/completions",
        CHAT | {"response_format": {"type": "json_schema", "json_schema": {"name": "s",
                "schema": {"type": "string", "enum": [str(i) for i in range(20_000)]}}}},
        "response_format.json_schema.schema",
    ),
    "completions-n-times-max-tokens-beyond-the-request-budget": (
        "/v1/completions",
        {"model": "gpt-3.5-turbo-instruct", "prompt": "Hi", "n": 100, "max_tokens": 2048},
        "n",
    ),
    "responses-message-without-content": (
        "/v1/responses",
        RESPONSES | {"input": [{"role": "user"}]},
        "input[0].content",
    ),
    "responses-content-a-number": (
        "/v1/responses",
        RESPONSES | {"input": [{"role": "user", "content": 1}]},
        "input[0].content",
    ),
    "responses-part-not-an-object": (
        "/v1/responses",
        RESPONSES | {"input": [{"role": "user", "content": ["Hi"]}]},
        "input[0].content[0]",
    ),
    "responses-text-not-a-string": (
        "/v1/responses",
        RESPONSES | {"input": [{"role": "user", "content": [{"type": "input_text", "text": 1}]}]},
        "input[0].content[0].text",
    ),
    "responses-call-arguments-not-a-string": (
        "/v1/responses",
        RESPONSES
        | {
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
            "input": [
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": {"a": 1}},
                {"type": "function_call_output", "call_id": "c", "output": "1"},
            ],
        },
        "input[0].arguments",
    ),
    "responses-tool-parameters-not-an-object": (
        "/v1/responses",
        RESPONSES | {"input": "Hi", "tools": [{"type": "function", "name": "f", "parameters": 1}]},
        "tools[0].parameters",
    ),
    "moderation-text-part-without-text": (
        "/v1/moderations",
        {"input": [{"type": "text"}]},
        "input",
    ),
    "moderation-text-not-a-string": (
        "/v1/moderations",
        {"input": [{"type": "text", "text": 7}]},
        "input",
    ),
    "moderation-image-part-without-url": (
        "/v1/moderations",
        {"input": [{"type": "text", "text": "Hi"}, {"type": "image_url", "image_url": {}}]},
        "input",
    ),
    "moderation-part-of-unknown-type": (
        "/v1/moderations",
        {"input": [{"type": "text", "text": "Hi"}, {"type": "input_audio", "text": "x"}]},
        "input",
    ),
    "speech-nul-byte": (
        "/v1/audio/speech",
        {"model": "tts-1", "voice": "alloy", "input": "\x00"},
        None,
    ),
}  # fmt: skip

MESSAGES_CASES = {
    "image-source-not-an-object": [{"type": "image", "source": "https://x/y.png"}],
    "tool-result-content-a-number": [{"type": "tool_result", "tool_use_id": "t", "content": 1}],
    "tool-result-block-not-an-object": [
        {"type": "tool_result", "tool_use_id": "t", "content": ["done"]}
    ],
}


def _assert_anthropic_error(status: int, body: Any) -> None:
    assert status == 400, body
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error", body


@pytest.mark.parametrize("case", OPENAI_CASES, ids=list(OPENAI_CASES))
def test_malformed_nested_field_is_a_400(local_server: AiportProcess, case: str) -> None:
    path, body, param = OPENAI_CASES[case]
    response = raw_request(local_server.base_url + path, body)
    if param is None:  # speech: a NUL byte is no reason to fail; it is read as a space
        assert response.status in (200, 400), response.body[:300]
        return
    assert_openai_error(response, 400, param=param)


@pytest.mark.parametrize("case", MESSAGES_CASES, ids=list(MESSAGES_CASES))
def test_malformed_block_is_an_anthropic_400(local_server: AiportProcess, case: str) -> None:
    body = MESSAGES | {"messages": [{"role": "user", "content": MESSAGES_CASES[case]}]}
    response = raw_request(local_server.base_url + "/v1/messages", body)
    _assert_anthropic_error(response.status, response.json())


def test_malformed_anthropic_tool_schema_is_an_anthropic_400(local_server: AiportProcess) -> None:
    tools = [{"name": "f", "input_schema": "not a schema"}]
    body = MESSAGES | {"messages": HI, "tools": tools}
    response = raw_request(local_server.base_url + "/v1/messages", body)
    _assert_anthropic_error(response.status, response.json())


def test_bad_requests_do_not_open_the_models_breaker(local_server: AiportProcess) -> None:
    """Ten malformed requests in a row (the breaker opens after five failures), then a good
    one from another caller is still served."""
    bad_tools = [{"type": "function", "function": {"name": "f", "parameters": "x"}}]
    for _ in range(10):
        raw_request(local_server.base_url + "/v1/chat/completions", CHAT | {"tools": bad_tools})
        raw_request(
            local_server.base_url + "/v1/audio/speech",
            {"model": "tts-1", "voice": "alloy", "input": "a\x00b"},
        )
    chat = raw_request(local_server.base_url + "/v1/chat/completions", CHAT)
    assert chat.status == 200, chat.body[:300]
    speech = raw_request(
        local_server.base_url + "/v1/audio/speech",
        {"model": "tts-1", "voice": "alloy", "input": "Hi", "response_format": "wav"},
    )
    assert speech.status == 200 and speech.body[:4] == b"RIFF", speech.body[:300]

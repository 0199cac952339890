"""A chat parameter path told as the Responses (or Messages) request's field (no server:
the table and the index translation; tests/test_responses_api_local.py,
test_protocols_local.py and test_messages_errors.py show it on the wire)."""

from __future__ import annotations

import pytest

from aiport.protocol.messages import MessagesRequest
from aiport.protocol.responses import ResponseRequest
from aiport.translate.messages_errors import messages_param
from aiport.translate.responses_errors import responses_param

REQUEST = ResponseRequest.model_validate(
    {
        "model": "m",
        "instructions": "Be brief.",
        "tools": [{"type": "web_search_preview"}, {"type": "function", "name": "f"}],
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
            {"type": "reasoning", "id": "r", "summary": []},  # no chat message
            {"role": "assistant", "content": "Calling f twice."},
            {"type": "function_call", "call_id": "a", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "b", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "a", "output": "1"},
        ],
    }
)


@pytest.mark.parametrize(
    ("chat", "responses"),
    [
        ("response_format.json_schema.schema", "text.format.schema"),
        ("tools[0].function.parameters", "tools[1].parameters"),
        ("tools.0.function", "tools[1]"),
        ("tool_choice.function.name", "tool_choice.name"),
        ("max_tokens", "max_output_tokens"),
        ("max_completion_tokens", "max_output_tokens"),
        ("n", "max_output_tokens"),
        ("reasoning_effort", "reasoning.effort"),
        ("messages", "input"),
        ("messages.0.content", "instructions"),
        ("messages[1].content[0].text", "input[0].content[0].text"),
        ("messages[2].content", "input[2].content"),
        ("messages[2].tool_calls[1].function.arguments", "input[4].arguments"),
        ("messages.2.tool_calls.0.id", "input[3].call_id"),
        ("messages[3].content", "input[5].output"),
        ("messages[3].tool_call_id", "input[5].call_id"),
        ("messages[7]", "input"),
        ("temperature", "temperature"),
    ],
)
def test_chat_param_becomes_the_responses_field(chat: str, responses: str) -> None:
    assert responses_param(chat, REQUEST) == responses


MESSAGES = MessagesRequest.model_validate(
    {
        "model": "m",
        "max_tokens": 8,
        "system": "Be brief.",
        "tools": [
            {"type": "web_search_20250305", "name": "web_search"},
            {"name": "f", "input_schema": {"type": "object"}},
        ],
        "messages": [
            {"role": "user", "content": "Hi"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}],
            },
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Here:"},
                    {"type": "tool_result", "tool_use_id": "t", "content": "1"},
                ],
            },
        ],
    }
)


@pytest.mark.parametrize(
    ("chat", "messages"),
    [
        ("messages[0].content", "system"),
        ("messages.1.content", "messages.0.content"),
        ("messages[2].tool_calls[0].function.arguments", "messages.1.content"),
        ("messages[3].content", "messages.2.content.1.content"),  # the tool_result
        ("messages[3].tool_call_id", "messages.2.content.1.tool_use_id"),
        ("messages[4].content[0].text", "messages.2.content"),  # the rest of that turn
        ("messages[9]", "messages"),
        ("tools[0].function.parameters", "tools.1.input_schema"),
        ("tools.0.function.name", "tools.1.name"),
        ("max_completion_tokens", "max_tokens"),
        ("response_format.json_schema.schema", "output_config.format.schema"),
        ("stop[4]", "stop_sequences.4"),
        ("tool_choice.function.name", "tool_choice.name"),
        ("temperature", "temperature"),
    ],
)
def test_chat_param_becomes_the_messages_field(chat: str, messages: str) -> None:
    assert messages_param(chat, MESSAGES) == messages

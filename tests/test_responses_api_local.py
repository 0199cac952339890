"""The Responses API on the embedded chat model, with the official SDK: the request is
translated to the local engine's chat completions and its answer back."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from aiport.backends.local.chat_limits import MAX_OBJECT_DEPTH
from tests.support.openapi_spec import component_ref, validate, validate_event
from tests.support.server import AiportProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(local_server: AiportProcess) -> openai.OpenAI:
    return local_server.client()


def test_create_and_continue_a_conversation(client: openai.OpenAI) -> None:
    first = client.responses.create(
        model="gpt-4o", input="What is 2 + 2?", max_output_tokens=20, temperature=0
    )
    assert "4" in first.output_text
    assert first.usage is not None and first.usage.output_tokens > 0
    validate(first.model_dump(mode="json", exclude_unset=True), component_ref("Response"))
    second = client.responses.create(
        model="gpt-4o",
        previous_response_id=first.id,
        input="Say that number again.",
        max_output_tokens=20,
        temperature=0,
    )
    assert second.output_text and second.previous_response_id == first.id
    assert second.usage is not None
    # The follow-up's prompt held the whole first exchange.
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens


def test_stream_events_fit_the_spec(client: openai.OpenAI) -> None:
    stream = client.responses.create(
        model="gpt-4o-mini", input="Say hello.", max_output_tokens=16, stream=True
    )
    events = list(stream)
    for event in events:
        validate_event(event.model_dump(mode="json", exclude_unset=True))
    final = events[-1].response  # type: ignore[union-attr]
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas and deltas == final.output_text
    # A long answer is cut at max_output_tokens: `response.incomplete`, as OpenAI ends it.
    assert (events[-1].type, final.status) in (
        ("response.completed", "completed"),
        ("response.incomplete", "incomplete"),
    )


def _nested_object(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    for _ in range(levels - 1):
        schema = {"type": "object", "properties": {"inner": schema}}
    return schema


DEEP = _nested_object(MAX_OBJECT_DEPTH + 1)
# A 400 from the chat path names the field the caller sent to /v1/responses, never chat's.
CHAT_ERRORS_IN_RESPONSES_TERMS = {
    "schema-past-the-limits": (
        {"input": "Hi", "text": {"format": {"type": "json_schema", "name": "r", "schema": DEEP}}},
        "text.format.schema",
    ),
    "tool-parameters-past-the-limits-streamed": (
        {
            "input": "Hi",
            "stream": True,
            "tools": [
                {"type": "web_search_preview"},  # no chat tool: the function is chat's tools[0]
                {"type": "function", "name": "f", "parameters": DEEP},
            ],
        },
        "tools[1].parameters",
    ),
    "call-output-not-text": (
        {
            "instructions": "Be brief.",  # chat's messages[0]: the item is messages[1]
            "input": [{"type": "function_call_output", "call_id": "c", "output": 5}],
        },
        "input[0].output",
    ),
    "input-past-the-context": ({"input": "hello world " * 3000}, "input"),
}


@pytest.mark.parametrize(
    "case", CHAT_ERRORS_IN_RESPONSES_TERMS, ids=list(CHAT_ERRORS_IN_RESPONSES_TERMS)
)
def test_chat_errors_name_the_responses_field(client: openai.OpenAI, case: str) -> None:
    fields, param = CHAT_ERRORS_IN_RESPONSES_TERMS[case]
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="gpt-4o", max_output_tokens=16, **fields)
    assert refused.value.param == param, refused.value.message
    message = refused.value.message
    assert "messages" not in message and "response_format" not in message

"""The Responses API on the embedded chat model, with the official SDK: the request is
translated to the local engine's chat completions and its answer back."""

from __future__ import annotations

import openai
import pytest

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

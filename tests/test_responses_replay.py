"""A stored response told again as events: every item kind an upstream may have made."""

from __future__ import annotations

from typing import Any

from aiport.protocol.responses import ResponseRequest
from aiport.translate.responses_chat import finish, response_shell
from aiport.translate.responses_replay import replay_events
from tests.support.openapi_spec import validate_event

REFUSED: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "refusal", "refusal": "I can't help with that."}],
}
REASONED: dict[str, Any] = {"id": "rs_1", "type": "reasoning", "summary": []}


def stored(finish_reason: str, *output: dict[str, Any]) -> dict[str, Any]:
    """A final response as aiport keeps it, made of `output`."""
    request = ResponseRequest.model_validate({"model": "gpt-4o", "input": "Hi"})
    response = response_shell(request, "gpt-4o") | {"output": list(output)}
    return finish(response, finish_reason, {"prompt_tokens": 5, "completion_tokens": 7})


def test_a_refusal_and_a_reasoning_item_are_told_in_the_spec_shape() -> None:
    response = stored("length", REASONED, REFUSED)
    events = replay_events(response)
    for event in events:
        validate_event(event)
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.refusal.delta",
        "response.refusal.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.incomplete",
    ]
    assert events[6]["delta"] == events[7]["refusal"] == "I can't help with that."
    assert events[4]["item"]["content"] == [] and events[4]["item"]["status"] == "in_progress"
    assert events[-1]["response"] == response
    assert "usage" not in events[0]["response"] and events[0]["response"]["output"] == []

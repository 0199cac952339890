"""The Responses API through aiport, with the official SDK, to the fake upstream: passed
through to a provider that speaks it (`openai`) and translated for one that speaks only
chat completions (`vllm`) — and the two compared event for event."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.support.fake_upstream import FakeUpstream, wait_for
from tests.support.openapi_spec import component_ref, validate, validate_event
from tests.support.server import MASTER_KEY, AiportProcess, raw_request

NATIVE, TRANSLATED = "gpt-4o", "vllm-chat"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


@pytest.fixture(scope="module")
def client(proxy: AiportProcess) -> openai.OpenAI:
    return proxy.client()


def other_key(proxy: AiportProcess) -> str:
    created = raw_request(proxy.base_url + "/admin/keys", {"name": "responses-other"})
    assert created.status == 201, created.body
    return str(created.json()["key"])


@pytest.mark.parametrize("model", [NATIVE, TRANSLATED])
def test_create_answers_in_the_spec_shape(
    client: openai.OpenAI, upstream: FakeUpstream, model: str
) -> None:
    response = client.responses.create(
        model=model, input="Hallo!", instructions="Be brief.", max_output_tokens=50
    )
    assert response.output_text == "Hello from the fake upstream."
    assert response.status == "completed"
    assert response.model.startswith("gpt-4o" if model == NATIVE else "fake-chat")  # upstream's
    assert response.usage is not None and response.usage.total_tokens > 0
    assert response.store is True and response.instructions == "Be brief."
    validate(response.model_dump(mode="json", exclude_unset=True), component_ref("Response"))
    if model == NATIVE:
        sent = upstream.last("/responses")["body"]
        assert sent["store"] is False  # aiport keeps the state, never the upstream
        assert sent["input"] == [{"type": "message", "role": "user", "content": "Hallo!"}]
    else:
        sent = upstream.last("/chat/completions")["body"]
        assert sent["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hallo!"},
        ]
        assert sent["max_tokens"] == 50 and sent["model"] == "fake-chat"


def stream_events(client: openai.OpenAI, model: str, **extra: Any) -> list[dict[str, Any]]:
    with client.responses.create(model=model, input="Hallo!", stream=True, **extra) as stream:
        return [event.model_dump(mode="json", exclude_unset=True) for event in stream]


def shape(event: dict[str, Any]) -> tuple[Any, ...]:
    """What must agree between two streams: event type, the keys, and the content."""
    content = {k: event[k] for k in ("delta", "text", "arguments", "name") if k in event}
    item = event.get("item") or event.get("part") or {}
    return (event["type"], sorted(event), item.get("type"), item.get("status"), content)


@pytest.mark.parametrize("tools", [None, [WEATHER]], ids=["text", "function-call"])
def test_translated_stream_matches_native_event_for_event(
    client: openai.OpenAI, tools: list[dict[str, Any]] | None
) -> None:
    extra: dict[str, Any] = {"tools": tools} if tools else {}
    native = stream_events(client, "agent-native" if tools else NATIVE, **extra)
    translated = stream_events(client, "agent-vllm" if tools else TRANSLATED, **extra)
    assert [shape(e) for e in translated] == [shape(e) for e in native]
    assert [e["sequence_number"] for e in translated] == list(range(len(translated)))
    for event in translated:
        validate_event(event)
    final = translated[-1]["response"]
    assert final["status"] == "completed" and final["usage"]["output_tokens"] > 0
    # The lifecycle events name the same response; item ids agree between added and done.
    assert len({e["response"]["id"] for e in translated if "response" in e}) == 1
    added = [e["item"]["id"] for e in translated if e["type"] == "response.output_item.added"]
    done = [e["item"]["id"] for e in translated if e["type"] == "response.output_item.done"]
    assert added == done == [item["id"] for item in final["output"]]


@pytest.mark.parametrize("model", [NATIVE, TRANSLATED])
def test_the_sdk_stream_helper_assembles_the_response(client: openai.OpenAI, model: str) -> None:
    with client.responses.stream(model=model, input="Hallo!") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == final.output_text == "Hello from the stream."


@pytest.mark.parametrize("model", ["agent-native", "agent-vllm"])
def test_a_function_tool_round_trip_with_previous_response_id(
    client: openai.OpenAI, upstream: FakeUpstream, model: str
) -> None:
    first = client.responses.create(model=model, input="Weather in Paris?", tools=[WEATHER])
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    second = client.responses.create(
        model=model,
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
    )
    assert second.output_text == "The tool said: sunny"
    assert second.previous_response_id == first.id
    if model == "agent-vllm":
        messages = upstream.last("/chat/completions")["body"]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
        assert messages[1]["tool_calls"][0]["function"]["name"] == "get_weather"
        assert messages[2] == {"role": "tool", "tool_call_id": call.call_id, "content": "sunny"}


def test_previous_response_id_carries_the_conversation(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    first = client.responses.create(model=TRANSLATED, input="My name is Ada.")
    client.responses.create(
        model=TRANSLATED, previous_response_id=first.id, input="What is my name?"
    )
    messages = upstream.last("/chat/completions")["body"]["messages"]
    assert messages == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Hello from the fake upstream."},
        {"role": "user", "content": "What is my name?"},
    ]


def test_retrieve_input_items_and_delete(client: openai.OpenAI) -> None:
    created = client.responses.create(model=NATIVE, input="Keep me.", metadata={"k": "v"})
    again = client.responses.retrieve(created.id)
    assert again.model_dump() == created.model_dump()
    items = client.responses.input_items.list(created.id)
    [item] = items.data
    assert item.type == "message" and item.role == "user" and item.id
    assert item.content[0].type == "input_text" and item.content[0].text == "Keep me."
    validate(items.model_dump(mode="json", exclude_unset=True), component_ref("ResponseItemList"))
    deleted = client.responses.delete(created.id)
    assert deleted is None  # the SDK returns nothing on success
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(created.id)


def test_stored_responses_belong_to_their_key(proxy: AiportProcess) -> None:
    mine = proxy.client().responses.create(model=NATIVE, input="Secret plans.")
    other = proxy.client(api_key=other_key(proxy))
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.input_items.list(mine.id)
    with pytest.raises(openai.NotFoundError) as refused:
        other.responses.create(model=NATIVE, previous_response_id=mine.id, input="And?")
    assert refused.value.param == "previous_response_id"  # type: ignore[attr-defined]
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(mine.id)
    assert proxy.client().responses.retrieve(mine.id).id == mine.id


def test_store_false_keeps_nothing(client: openai.OpenAI) -> None:
    response = client.responses.create(model=TRANSLATED, input="Forget me.", store=False)
    assert response.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_errors_before_the_stream_are_http_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model="error-429", input="x", stream=True)
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model=NATIVE, input="x", temperature=3)
    assert bad.value.param == "temperature"  # type: ignore[attr-defined]
    with pytest.raises(openai.BadRequestError) as unsupported:
        client.responses.create(model=TRANSLATED, input=[{"type": "item_reference", "id": "x"}])
    assert unsupported.value.param == "input[0].type"  # type: ignore[attr-defined]


def test_a_stream_broken_midway_ends_with_response_failed(proxy: AiportProcess) -> None:
    body = {"model": "vllm-break", "input": "x", "stream": True}
    answer = raw_request(proxy.base_url + "/v1/responses", body)
    assert answer.status == 200
    events = [
        json.loads(block.split("data: ", 1)[1])
        for block in answer.body.decode().split("\n\n")
        if "data: " in block
    ]
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert events[-1]["response"]["status"] == "failed"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_responses_are_metered(proxy: AiportProcess) -> None:
    key = raw_request(proxy.base_url + "/admin/keys", {"name": "responses-usage"}).json()
    proxy.client(api_key=key["key"]).responses.create(model=TRANSLATED, input="Count me.")

    def recorded() -> bool:
        usage = raw_request(proxy.base_url + f"/admin/usage?key={key['id']}", key=MASTER_KEY)
        rows = usage.json()["data"]
        return bool(rows) and rows[0]["requests"] == 1 and rows[0]["total_tokens"] == 17

    assert wait_for(recorded, timeout=10)


def test_a_tool_schema_with_a_list_of_types_is_estimated_not_a_500(
    client: openai.OpenAI,
) -> None:
    # Codex sends schemas like this; the prompt estimate once took `type` for a part kind.
    nullable = {
        "type": "function",
        "name": "shell",
        "parameters": {
            "type": "object",
            "properties": {"workdir": {"type": ["string", "null"]}},
        },
        "strict": False,
    }
    response = client.responses.create(model=TRANSLATED, input="Hi", tools=[nullable])
    assert response.status == "completed"


def test_text_format_and_sampling_reach_a_chat_upstream(
    client: openai.OpenAI, upstream: FakeUpstream
) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "name": "place", "schema": schema, "strict": True}
    response = client.responses.create(
        model=TRANSLATED, input="Where?", text={"format": fmt}, temperature=0.2, top_p=0.5
    )
    assert response.text.format.type == "json_schema"  # type: ignore[union-attr]
    sent = upstream.last("/chat/completions")["body"]
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "place", "schema": schema, "strict": True},
    }
    assert (sent["temperature"], sent["top_p"]) == (0.2, 0.5)


def merged_deltas(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The shapes of a stream's events, each run of deltas of one part counted as one (a
    replay tells each text whole)."""
    shapes: list[tuple[Any, ...]] = []
    for event in events:
        if event["type"].endswith(".delta") and shapes and shapes[-1][0] == event["type"]:
            continue
        shapes.append((event["type"], event.get("item_id"), event.get("output_index")))
    return shapes


@pytest.mark.parametrize("model", ["agent-native", "agent-vllm"])
def test_a_stored_response_is_replayed_as_its_event_stream(
    proxy: AiportProcess, model: str
) -> None:
    """GET /responses/{id}?stream=true answered plain JSON, where the SDK's
    `retrieve(id, stream=True)` reads the response's events; `starting_after` resumes."""
    key = raw_request(proxy.base_url + "/admin/keys", {"name": f"replay-{model}"}).json()
    client = proxy.client(api_key=key["key"])
    live = stream_events(client, model, tools=[WEATHER])
    created = live[-1]["response"]
    with client.responses.retrieve(created["id"], stream=True) as stream:
        replay = [event.model_dump(mode="json", exclude_unset=True) for event in stream]
    assert merged_deltas(replay) == merged_deltas(live)
    assert [e["sequence_number"] for e in replay] == list(range(len(replay)))
    for event in replay:
        validate_event(event)
    assert replay[-1]["response"] == created
    assert replay[0]["response"]["status"] == "in_progress"
    assert replay[0]["response"]["id"] == created["id"]
    arguments = "".join(
        e["delta"] for e in replay if e["type"] == "response.function_call_arguments.delta"
    )
    assert arguments == created["output"][-1]["arguments"]
    with client.responses.retrieve(created["id"], stream=True, starting_after=2) as stream:
        rest = [event.model_dump(mode="json", exclude_unset=True) for event in stream]
    assert rest == replay[3:]
    # The replays are not billed again: the key's usage is the creation's alone.
    rows: list[Any] = []

    def recorded() -> bool:
        usage = raw_request(proxy.base_url + f"/admin/usage?key={key['id']}", key=MASTER_KEY)
        rows[:] = usage.json()["data"]
        return sum(row["requests"] for row in rows) == 3

    assert wait_for(recorded, timeout=10), rows
    assert sum(row["total_tokens"] for row in rows) == created["usage"]["total_tokens"], rows


def test_a_replay_with_a_bad_cursor_is_a_400(client: openai.OpenAI) -> None:
    created = client.responses.create(model=TRANSLATED, input="Keep me.")
    url = f"/responses/{created.id}"
    with pytest.raises(openai.BadRequestError) as bad:
        client.get(url + "?stream=true&starting_after=x", cast_to=object)
    assert bad.value.param == "starting_after"  # type: ignore[attr-defined]
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_missing", stream=True)

"""Anthropic's Messages API through aiport, with the official `anthropic` SDK, to the fake
upstream: passed through to an `anthropic` provider and translated for one that speaks
only chat completions — and the two compared event for event."""

from __future__ import annotations

from typing import Any, get_type_hints

import anthropic
import pytest
from anthropic.types import message_count_tokens_params, message_create_params
from anthropic.types.beta import message_count_tokens_params as beta_count_params
from anthropic.types.beta import message_create_params as beta_create_params

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import ANTHROPIC_UPSTREAM_KEY, MASTER_KEY, AiportProcess, raw_request

NATIVE, TRANSLATED = "claude-native", "vllm-chat"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
HELLO = [{"role": "user", "content": "Hallo!"}]


@pytest.fixture(scope="module")
def client(proxy: AiportProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.base_url, api_key=MASTER_KEY, max_retries=0)


@pytest.mark.parametrize("model", [NATIVE, TRANSLATED])
def test_create_answers_in_anthropics_shape(
    client: anthropic.Anthropic, upstream: FakeUpstream, model: str
) -> None:
    message = client.messages.create(
        model=model,
        max_tokens=50,
        system="Be brief.",
        messages=HELLO,
        stop_sequences=["\n\n"],
        extra_headers={"anthropic-version": "2023-06-01", "anthropic-beta": "fake-beta-1"},
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello from the fake upstream."
    assert message.stop_reason == "end_turn"
    # Passed through or translated, the upstream's own name for the model that served.
    assert message.model == ("claude-sonnet-4-5" if model == NATIVE else "fake-chat")
    assert message.usage.input_tokens == 11 and message.usage.output_tokens == 6
    if model == NATIVE:
        sent = upstream.last("/messages")
        assert sent["headers"]["x-api-key"] == ANTHROPIC_UPSTREAM_KEY  # never the caller's
        assert sent["headers"]["anthropic-version"] == "2023-06-01"  # the client's, passed on
        assert sent["headers"]["anthropic-beta"] == "fake-beta-1"
        assert sent["body"]["system"] == "Be brief."
    else:
        sent = upstream.last("/chat/completions")["body"]
        assert sent["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hallo!"},
        ]
        assert sent["max_tokens"] == 50 and sent["stop"] == ["\n\n"]


def stream_events(client: anthropic.Anthropic, model: str, **extra: Any) -> list[dict[str, Any]]:
    with client.messages.create(
        model=model, max_tokens=50, messages=HELLO, stream=True, **extra
    ) as stream:
        return [event.model_dump(mode="json", exclude_unset=True) for event in stream]


def shape(event: dict[str, Any]) -> tuple[Any, ...]:
    block = event.get("content_block") or {}
    delta = {k: v for k, v in (event.get("delta") or {}).items() if k != "stop_details"}
    return (event["type"], event.get("index"), block.get("type"), block.get("name"), delta)


@pytest.mark.parametrize("tools", [None, [WEATHER]], ids=["text", "tool-use"])
def test_translated_stream_matches_native_event_for_event(
    client: anthropic.Anthropic, tools: list[dict[str, Any]] | None
) -> None:
    extra: dict[str, Any] = {"tools": tools} if tools else {}
    native = stream_events(client, "agent-claude" if tools else NATIVE, **extra)
    translated = stream_events(client, "agent-vllm" if tools else TRANSLATED, **extra)
    assert [shape(e) for e in translated] == [shape(e) for e in native]
    final_usage = translated[-2]["usage"]
    assert final_usage["input_tokens"] == 9 and final_usage["output_tokens"] > 0
    # A chat upstream counts only at the end: the start carries the estimate, not 0.
    assert translated[0]["message"]["usage"]["input_tokens"] > 0


def test_the_sdk_stream_helper_assembles_text_and_tool_use(client: anthropic.Anthropic) -> None:
    for model in (NATIVE, TRANSLATED):
        with client.messages.stream(model=model, max_tokens=50, messages=HELLO) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        assert text == "Hello from the stream." and final.stop_reason == "end_turn"
    for model in ("agent-claude", "agent-vllm"):
        with client.messages.stream(
            model=model, max_tokens=50, messages=HELLO, tools=[WEATHER]
        ) as stream:
            final = stream.get_final_message()
        [use] = final.content
        assert use.type == "tool_use" and use.name == "get_weather"
        assert use.input == {"city": "Paris"} and final.stop_reason == "tool_use"


@pytest.mark.parametrize("model", ["agent-claude", "agent-vllm"])
def test_a_tool_round_trip(client: anthropic.Anthropic, upstream: FakeUpstream, model: str) -> None:
    first = client.messages.create(model=model, max_tokens=50, messages=HELLO, tools=[WEATHER])
    [use] = [block for block in first.content if block.type == "tool_use"]
    second = client.messages.create(
        model=model,
        max_tokens=50,
        tools=[WEATHER],
        messages=[
            *HELLO,
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}],
            },
        ],
    )
    assert second.content[0].type == "text"
    assert second.content[0].text == "The tool said: sunny"
    if model == "agent-vllm":
        messages = upstream.last("/chat/completions")["body"]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
        assert messages[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'
        assert messages[2] == {"role": "tool", "tool_call_id": use.id, "content": "sunny"}


def test_count_tokens(client: anthropic.Anthropic, upstream: FakeUpstream) -> None:
    native = client.messages.count_tokens(model=NATIVE, messages=HELLO)
    assert native.input_tokens == 7  # the fake upstream's count, passed through
    assert upstream.last("/messages/count_tokens")["body"]["messages"] == HELLO
    translated = client.messages.count_tokens(model=TRANSLATED, messages=HELLO, tools=[WEATHER])
    assert translated.input_tokens > native.input_tokens  # an estimate, tools included


def test_errors_come_in_anthropics_shape(proxy: AiportProcess, client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.create(model=TRANSLATED, messages=HELLO, max_tokens=-1)
    assert bad.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    wrong = anthropic.Anthropic(base_url=proxy.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as denied:
        wrong.messages.create(model=TRANSLATED, max_tokens=5, messages=HELLO)
    assert denied.value.body == {  # type: ignore[comparison-overlap]
        "type": "error",
        "error": {"type": "authentication_error", "message": denied.value.body["error"]["message"]},  # type: ignore[index]
        "request_id": denied.value.request_id,
    }
    created = raw_request(proxy.base_url + "/admin/keys", {"name": "m", "models": [TRANSLATED]})
    limited = anthropic.Anthropic(
        base_url=proxy.base_url, api_key=created.json()["key"], max_retries=0
    )
    with pytest.raises(anthropic.NotFoundError) as unknown:
        limited.messages.create(model=NATIVE, max_tokens=5, messages=HELLO)
    assert unknown.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="error-429", max_tokens=5, messages=HELLO)
    answer = raw_request(
        proxy.base_url + "/v1/messages",
        {"model": TRANSLATED},
        key=None,
        headers={"x-api-key": MASTER_KEY},
    )
    assert answer.status == 400 and answer.json()["type"] == "error"


# Every body field of the SDK's create and count_tokens (stable and beta), with a value of
# the SDK's shape. `betas`, `user_profile_id` and `workspace_id` are headers.
EVERY_COUNT_FIELD: dict[str, Any] = {
    "system": "Be brief.",
    "tools": [WEATHER],
    "tool_choice": {"type": "auto"},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "mcp_servers": [{"type": "url", "url": "https://mcp.example.com/sse", "name": "example"}],
    "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
    "output_config": {"effort": "low"},
    "cache_control": {"type": "ephemeral"},
    "speed": "fast",
    "compaction": {"type": "summarize"},
    "billing_policy": {"type": "billing_policy", "bill_to": "self"},
}
EVERY_CREATE_FIELD: dict[str, Any] = EVERY_COUNT_FIELD | {
    "stop_sequences": ["\n\n"],
    "metadata": {"user_id": "user-1"},
    "service_tier": "auto",
    "container": "container_1",
    "inference_geo": "us",
    "diagnostics": {"previous_message_id": "msg_1"},
    "fallback_credit_token": {"token": "fct_1"},
    "thread": {"type": "create"},
}
HEADER_PARAMS = {"betas", "user_profile_id", "workspace_id"}
# No longer in the SDK's create, but older SDKs and Claude Code still send them.
OLDER_FIELDS = {
    "temperature": 0.5,
    "top_p": 0.9,
    "top_k": 40,
    "output_format": {"type": "json_schema", "schema": {"type": "object"}},
}


def sdk_fields(*params: type) -> set[str]:
    return {name for p in params for name in get_type_hints(p)} - HEADER_PARAMS


def test_every_field_the_sdk_sends_is_passed_on(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    required = {"model", "messages", "max_tokens", "stream", "fallbacks"}  # fallbacks: below
    create = sdk_fields(
        message_create_params.MessageCreateParamsBase, beta_create_params.MessageCreateParamsBase
    )
    assert create <= set(EVERY_CREATE_FIELD) | required, "a new SDK field: add it"
    count = sdk_fields(
        message_count_tokens_params.MessageCountTokensParams,
        beta_count_params.MessageCountTokensParams,
    )
    assert count <= set(EVERY_COUNT_FIELD) | required, "a new SDK field: add it"
    beta = ["context-management-2025-06-27", "mcp-client-2025-04-04"]
    for model in (NATIVE, TRANSLATED):
        message = client.beta.messages.create(  # type: ignore[call-overload]
            model=model,
            max_tokens=50,
            messages=HELLO,
            betas=beta,
            extra_body=OLDER_FIELDS,
            **EVERY_CREATE_FIELD,
        )
        assert message.content[0].type == "text"
        client.beta.messages.count_tokens(  # type: ignore[call-overload]
            model=model, messages=HELLO, betas=beta, **EVERY_COUNT_FIELD
        )
    sent = upstream.last("/messages")
    everything = EVERY_CREATE_FIELD | OLDER_FIELDS
    assert {name: sent["body"].get(name) for name in everything} == everything
    assert sent["headers"]["anthropic-beta"] == ",".join(beta)
    counted = upstream.last("/messages/count_tokens")["body"]
    assert {name: counted.get(name) for name in EVERY_COUNT_FIELD} == EVERY_COUNT_FIELD


def test_an_unknown_field_is_refused_where_aiport_answers(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    """Translated or embedded, a top-level field aiport does not know would be dropped
    unseen: refused, in Anthropic's words."""
    seen = len(upstream.requests)
    unknown = {"response_format": {"type": "json_object"}}
    with pytest.raises(anthropic.BadRequestError) as create:
        client.messages.create(model=TRANSLATED, max_tokens=5, messages=HELLO, extra_body=unknown)
    with pytest.raises(anthropic.BadRequestError) as count:
        client.messages.count_tokens(model=TRANSLATED, messages=HELLO, extra_body={"max_tokens": 5})
    assert create.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "response_format: Extra inputs are not permitted",
        },
        "request_id": create.value.request_id,
    }
    message = count.value.body["error"]["message"]  # type: ignore[index]
    assert message == "max_tokens: Extra inputs are not permitted"
    assert len(upstream.requests) == seen  # refused before anything went upstream


# Top-level fields newer than aiport's list (what a newer SDK or Claude Code may send).
NEWER_TOP_LEVEL: dict[str, Any] = {
    "field_of_tomorrow": {"x": [1, 2]},
    "another_new_switch": True,
}


def test_a_native_deployment_gets_unknown_top_level_fields_untouched(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    """An `anthropic` provider judges what it defines: a field aiport's list does not know
    goes on as sent — whole, streamed and counted — and Anthropic's usage is what is
    billed."""
    answer = client.messages.create(
        model=NATIVE, max_tokens=5, messages=HELLO, extra_body=NEWER_TOP_LEVEL
    )
    assert answer.usage.input_tokens == 11
    sent = upstream.last("/messages")["body"]
    assert {name: sent.get(name) for name in NEWER_TOP_LEVEL} == NEWER_TOP_LEVEL
    assert sent["model"] == "claude-sonnet-4-5"  # the deployment's name, still aiport's
    with client.messages.create(
        model=NATIVE, max_tokens=5, messages=HELLO, stream=True, extra_body=NEWER_TOP_LEVEL
    ) as stream:
        assert [event.type for event in stream][-1] == "message_stop"
    sent = upstream.last("/messages")["body"]
    assert {name: sent.get(name) for name in NEWER_TOP_LEVEL} == NEWER_TOP_LEVEL
    client.messages.count_tokens(model=NATIVE, messages=HELLO, extra_body=NEWER_TOP_LEVEL)
    counted = upstream.last("/count_tokens")["body"]
    assert {name: counted.get(name) for name in NEWER_TOP_LEVEL} == NEWER_TOP_LEVEL


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"fallbacks": [{"model": "claude-opus-4-1"}]}, "fallbacks"),
        ({"billing_policy": {"type": "billing_policy", "bill_to": "user_profile"}}, "bill_to"),
        ({"user_profile_id": "uprof_1"}, "user_profile_id"),
        ({"workspace_id": "wrkspc_1"}, "workspace_id"),
    ],
)
def test_what_aiport_decides_is_refused_on_a_native_deployment_too(
    client: anthropic.Anthropic, upstream: FakeUpstream, extra: dict[str, Any], words: str
) -> None:
    """Who is billed and what else may answer are aiport's to decide, whatever Anthropic
    would take: refused before anything goes upstream."""
    seen = len(upstream.requests)
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(
            model=NATIVE, max_tokens=5, messages=HELLO, extra_body=NEWER_TOP_LEVEL | extra
        )
    error = refused.value.body["error"]  # type: ignore[index]
    assert error["type"] == "invalid_request_error" and words in error["message"]
    assert len(upstream.requests) == seen


@pytest.mark.parametrize("fallbacks", ["default", [{"model": "claude-opus-4-1"}]])
def test_anthropics_server_side_fallbacks_are_refused(
    client: anthropic.Anthropic, upstream: FakeUpstream, fallbacks: Any
) -> None:
    """Another model would answer, outside the key's models and billed at this one's price."""
    seen = len(upstream.requests)
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.beta.messages.create(model=NATIVE, max_tokens=5, messages=HELLO, fallbacks=fallbacks)
    error = refused.value.body["error"]  # type: ignore[index]
    assert error["type"] == "invalid_request_error" and "fallbacks" in error["message"]
    assert len(upstream.requests) == seen

"""What Anthropic refuses, aiport refuses on /v1/messages in Anthropic's words — before
anything goes upstream, passed through or translated — with the official `anthropic` SDK
(raw HTTP where the SDK cannot send the mistake). Anthropic's wording, as its API answers:
`max_tokens: Field required`, `model: Input should be a valid string`,
`messages: at least one message is required`,
`messages.65.content.1.tool_use.text: Extra inputs are not permitted` (the block's `type`
in the path)."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from aiport.protocol.message_blocks import MESSAGE_FIELDS
from aiport.protocol.messages import SDKFields, SDKMessage
from tests.support.anthropic_shapes import OUTPUT, block_types, fields_of, generate, tag_of
from tests.support.fake_upstream import FakeUpstream
from tests.support.server import MASTER_KEY, AiportProcess, raw_request

NATIVE, TRANSLATED = "claude-native", "vllm-chat"
HELLO: Any = [{"role": "user", "content": "Hallo!"}]
EXTRA = "Extra inputs are not permitted"


@pytest.fixture(scope="module")
def client(proxy: AiportProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.base_url, api_key=MASTER_KEY, max_retries=0)


def refused(call: Any, upstream: FakeUpstream) -> str:
    """The message of the 400 `invalid_request_error` that `call` gets, checking that
    nothing went upstream."""
    seen = len(upstream.requests)
    with pytest.raises(anthropic.BadRequestError) as bad:
        call()
    assert len(upstream.requests) == seen
    body: Any = bad.value.body
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    return str(body["error"]["message"])


TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}
UNKNOWN_INSIDE: list[tuple[Any, Any, str]] = [
    ([{"role": "user", "content": "Hi", "name": "bob"}], None, "messages.0.name"),
    (
        [{"role": "user", "content": [{"type": "text", "text": "Hi", "foo": 1}]}],
        None,
        "messages.0.content.0.text.foo",
    ),
    (
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{**TOOL_USE, "text": "x"}]},
        ],
        None,
        "messages.1.content.0.tool_use.text",
    ),
    (
        [
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "sunny", "bar": 2}],
                    }
                ],
            }
        ],
        None,
        "messages.0.content.0.tool_result.content.0.text.bar",
    ),
    (
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral", "x": 1}}
                ],
            }
        ],
        None,
        "messages.0.content.0.text.cache_control.ephemeral.x",
    ),
    (HELLO, [{"type": "text", "text": "Be brief.", "foo": 1}], "system.0.text.foo"),
]


@pytest.mark.parametrize(("messages", "system", "path"), UNKNOWN_INSIDE)
def test_an_unknown_field_inside_messages_is_refused_where_aiport_answers(
    client: anthropic.Anthropic,
    upstream: FakeUpstream,
    messages: Any,
    system: Any,
    path: str,
) -> None:
    """Translated for a chat upstream, a field the SDK does not define would be dropped
    unseen: it is refused, as Anthropic refuses it."""
    extra: dict[str, Any] = {"system": system} if system else {}
    message = refused(
        lambda: client.messages.create(model=TRANSLATED, max_tokens=5, messages=messages, **extra),
        upstream,
    )
    assert message == f"{path}: {EXTRA}"
    count = refused(
        lambda: client.messages.count_tokens(model=TRANSLATED, messages=messages, **extra),
        upstream,
    )
    assert count == message


# What a client newer than the installed SDK sends (Claude Code's `cache_control` with
# `scope`, a block type and fields of its own): Anthropic judges it, not aiport.
NEWER_CLIENT: Any = [
    {
        "role": "user",
        "content": [
            {
                "type": "text",
                "text": "Hi",
                "cache_control": {"type": "ephemeral", "scope": "global", "ttl": "1h"},
                "new_text_field": {"x": 1},
            },
            {"type": "block_of_tomorrow", "payload": [1, 2]},
        ],
        "new_message_field": True,
    },
]
NEWER_SYSTEM: Any = [
    {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral", "scope": "org"}}
]


def test_a_native_anthropic_deployment_gets_inner_fields_untouched(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    """An `anthropic` provider answers for itself: what is inside messages and system
    blocks goes on as sent, whatever the installed SDK defines; streamed, whole and
    counted."""
    sent = {"messages": NEWER_CLIENT, "system": NEWER_SYSTEM}
    answer = client.messages.create(model=NATIVE, max_tokens=5, **sent)
    assert answer.content[0].type == "text"
    assert {k: upstream.last("/messages")["body"][k] for k in sent} == sent
    with client.messages.create(model=NATIVE, max_tokens=5, stream=True, **sent) as stream:
        assert [event.type for event in stream][-1] == "message_stop"
    assert {k: upstream.last("/messages")["body"][k] for k in sent} == sent
    assert client.messages.count_tokens(model=NATIVE, **sent).input_tokens == 7
    assert {k: upstream.last("/count_tokens")["body"][k] for k in sent} == sent


def test_what_aiport_reads_is_still_checked_on_a_native_deployment(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    """The shape aiport itself reads (roles, content as text or typed blocks) is checked
    for every model, in Anthropic's words."""
    untyped: Any = [{"role": "user", "content": [{"text": "Hi"}]}]
    message = refused(
        lambda: client.messages.create(model=NATIVE, max_tokens=5, messages=untyped), upstream
    )
    assert message == "messages.0.content: each content block needs a `type`"


def facts(shapes: dict[str, Any]) -> set[tuple[Any, ...]]:
    """What the shapes allow, flat: each type's tag and fields, and what each field holds."""

    def members(expr: Any, depth: int = 0) -> set[tuple[Any, ...]]:
        if expr is None:
            return set()
        return {(depth, name) for name in expr["shapes"]} | members(expr["items"], depth + 1)

    found: set[tuple[Any, ...]] = set()
    for root, expr in shapes["roots"].items():
        found |= {("root", root, *member) for member in members(expr)}
    for name, shape in shapes["shapes"].items():
        found.add(("tag", name, shape["tag"]))
        for field, expr in shape["fields"].items():
            found.add(("field", name, field))
            found |= {("holds", name, field, *member) for member in members(expr)}
    return found


def test_everything_the_installed_sdk_defines_is_allowed() -> None:
    """A newer SDK's new field would be refused: regenerate the list with
    `.venv/bin/python -m tests.support.anthropic_shapes`."""
    missing = facts(generate()) - facts(json.loads(OUTPUT.read_text()))
    assert not missing, sorted(missing, key=str)[:20]
    assert set(SDKMessage.model_fields) == MESSAGE_FIELDS  # a message's fields, of every role


@pytest.mark.parametrize("block_type", sorted(block_types(), key=str), ids=lambda t: t.__name__)
def test_every_field_of_every_block_type_the_sdk_defines_passes(block_type: type) -> None:
    """Straight from the SDK's types, not through the generated list."""
    fields = fields_of(block_type)
    block = dict.fromkeys(fields) | {"type": tag_of(fields["type"])}
    messages = [{"role": role, "content": [block]} for role in ("user", "assistant")]
    SDKFields.model_validate({"messages": messages}, strict=True)


@pytest.mark.parametrize("model", [NATIVE, TRANSLATED])
def test_a_system_message_among_the_messages_passes(
    client: anthropic.Anthropic, upstream: FakeUpstream, model: str
) -> None:
    """The SDK's messages may have the `system` role (text only)."""
    messages: Any = [
        {"role": "user", "content": "Hallo!"},
        {"role": "system", "content": [{"type": "text", "text": "Answer in German."}]},
    ]
    client.messages.create(model=model, max_tokens=5, messages=messages)
    if model == NATIVE:
        assert upstream.last("/messages")["body"]["messages"] == messages
    else:
        assert upstream.last("/chat/completions")["body"]["messages"] == [
            {"role": "user", "content": "Hallo!"},
            {"role": "system", "content": "Answer in German."},
        ]


@pytest.mark.parametrize("model", [NATIVE, TRANSLATED])
def test_a_conversation_the_assistant_opens_passes(
    client: anthropic.Anthropic, upstream: FakeUpstream, model: str
) -> None:
    """Anthropic's own API takes it (Bedrock refuses it: anthropic-sdk-typescript#622);
    aiport refuses nothing Anthropic would answer."""
    messages: Any = [
        {"role": "assistant", "content": "How can I help?"},
        {"role": "user", "content": "Say hi."},
    ]
    client.messages.create(model=model, max_tokens=5, messages=messages)
    path = "/messages" if model == NATIVE else "/chat/completions"
    assert upstream.last(path)["body"]["messages"] == messages


def test_blocks_of_every_kind_the_sdk_sends_pass(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    """Every field of the SDK's blocks, with what its own answers hold when sent back."""
    image = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
    citation = {
        "type": "char_location",
        "cited_text": "Paris",
        "document_index": 0,
        "document_title": "Cities",
        "start_char_index": 0,
        "end_char_index": 5,
        "file_id": None,
    }
    ephemeral = {"type": "ephemeral", "ttl": "5m"}
    user_blocks = [
        {"type": "text", "text": "Hi", "cache_control": ephemeral, "citations": [citation]},
        {"type": "image", "source": image, "cache_control": ephemeral},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "Paris"},
            "title": "Cities",
            "context": "A list",
            "citations": {"enabled": True},
            "cache_control": ephemeral,
        },
        {
            "type": "search_result",
            "source": "https://example.com",
            "title": "Paris",
            "content": [{"type": "text", "text": "Paris"}],
            "citations": {"enabled": True},
        },
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "is_error": False,
            "content": [{"type": "text", "text": "sunny"}, {"type": "image", "source": image}],
            "cache_control": ephemeral,
        },
    ]
    assistant_blocks = [
        {"type": "thinking", "thinking": "Hm.", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {**TOOL_USE, "cache_control": ephemeral},
    ]
    answer = client.messages.create(model=NATIVE, max_tokens=5, messages=HELLO)
    sent_back = [block.model_dump() for block in answer.content]  # every field, None or not
    conversation: Any = [
        {"role": "user", "content": user_blocks},
        {"role": "assistant", "content": [*assistant_blocks, *sent_back]},
        {"role": "user", "content": [{"type": "text", "text": "And now?"}]},
    ]
    client.messages.create(model=NATIVE, max_tokens=5, messages=conversation)
    assert upstream.last("/messages")["body"]["messages"] == conversation


REQUIRED = ("model", "max_tokens", "messages")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # The SDK cannot leave out what its create() requires, nor send a max_tokens that
        # is not a number (it computes its timeout from it): these go as raw HTTP.
        ({"model": NATIVE, "messages": HELLO}, "max_tokens: Field required"),
        ({"model": NATIVE, "max_tokens": 5}, "messages: Field required"),
        ({"max_tokens": 5, "messages": HELLO}, "model: Field required"),
        (
            {"model": NATIVE, "max_tokens": "5", "messages": HELLO},
            "max_tokens: Input should be a valid integer",
        ),
        # The rest through the SDK.
        ({"model": 7, "max_tokens": 5, "messages": HELLO}, "model: Input should be a valid string"),
        (
            {"model": NATIVE, "max_tokens": -1, "messages": HELLO},
            "max_tokens: Input should be greater than or equal to 0",
        ),
        (
            {"model": NATIVE, "max_tokens": 5, "messages": []},
            "messages: at least one message is required",
        ),
        (
            {"model": NATIVE, "max_tokens": 5, "messages": "Hallo!"},
            "messages: Input should be a valid list",
        ),
        (
            {"model": NATIVE, "max_tokens": 5, "messages": [{"role": "user"}]},
            "messages.0.content: Field required",
        ),
        (
            {"model": NATIVE, "max_tokens": 5, "messages": [{"role": "user", "content": 7}]},
            "messages.0.content: Input should be a valid list",
        ),
        (
            {"model": NATIVE, "max_tokens": 5, "messages": [{"role": "bot", "content": "Hi"}]},
            "messages.0.role: Input should be 'user', 'assistant' or 'system'",
        ),
        (
            {"model": NATIVE, "max_tokens": 5, "messages": HELLO, "temperature": 1.5},
            "temperature: Input should be less than or equal to 1",
        ),
    ],
)
def test_a_bad_request_is_answered_in_anthropics_words(
    proxy: AiportProcess,
    client: anthropic.Anthropic,
    upstream: FakeUpstream,
    body: dict[str, Any],
    message: str,
) -> None:
    if all(name in body for name in REQUIRED) and isinstance(body["max_tokens"], int):
        required = {name: body[name] for name in REQUIRED}
        extra = {name: value for name, value in body.items() if name not in REQUIRED}
        answer = refused(lambda: client.messages.create(**required, extra_body=extra), upstream)
        assert answer == message
        return
    seen = len(upstream.requests)
    raw = raw_request(
        proxy.base_url + "/v1/messages", body, key=None, headers={"x-api-key": MASTER_KEY}
    )
    assert raw.status == 400
    assert raw.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": raw.headers["request-id"],
    }
    assert len(upstream.requests) == seen


def test_max_tokens_0_generates_nothing(
    client: anthropic.Anthropic, upstream: FakeUpstream
) -> None:
    """Anthropic takes `max_tokens: 0` (its SDK: "Set to `0` to populate the prompt cache
    without generating a response"): Anthropic deployments get it as sent; where aiport
    translates there is no cache to fill, so it answers the empty message itself, no
    model asked and nothing billed."""
    client.messages.create(model=NATIVE, max_tokens=0, messages=HELLO)
    assert upstream.last("/messages")["body"]["max_tokens"] == 0
    seen = len(upstream.requests)
    answer = client.messages.create(model=TRANSLATED, max_tokens=0, messages=HELLO)
    assert (answer.content, answer.stop_reason) == ([], "max_tokens")
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (0, 0)
    with client.messages.stream(model=TRANSLATED, max_tokens=0, messages=HELLO) as stream:
        events = [event.type for event in stream]
        streamed = stream.get_final_message()
    assert events == ["message_start", "message_delta", "message_stop"]
    assert (streamed.content, streamed.stop_reason) == ([], "max_tokens")
    assert len(upstream.requests) == seen

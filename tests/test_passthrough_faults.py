"""Requests passed through to an upstream as they are, under its faults.

A stream (the Responses API on an `openai` provider, Messages on an `anthropic` one, legacy
completions) that the upstream ends early — a clean close before its last event — reaches
the client as an error, never as a short answer that looks whole (the README: "a stream
that ends without `[DONE]` or a final `finish_reason` is an error too"). An image edit keeps
its model's timeouts, and is retried on the next deployment like any other request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest

from tests.support.faulty_upstream import (
    FaultyUpstream,
    answer,
    module_upstream,
    slow_first_byte,
    sse,
    status,
)
from tests.support.server import AiportProcess, raw_request

CREATED: Any = {"id": "resp_1", "object": "response", "status": "in_progress", "output": []}
MESSAGE: Any = {"id": "msg_1", "type": "message", "role": "assistant", "content": []}


def event(data: dict[str, Any]) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (str(data["type"]).encode(), orjson.dumps(data))


def data_of(raw: bytes) -> list[bytes]:
    """Each SSE event's `data:` payload, named events too."""
    return [
        line[len(b"data: ") :]
        for block in raw.split(b"\n\n")
        for line in block.split(b"\n")
        if line.startswith(b"data: ")
    ]


def chunk(data: dict[str, Any]) -> bytes:
    return b"data: %s\n\n" % orjson.dumps(data)


RESPONSE_START = [
    event({"type": "response.created", "sequence_number": 0, "response": CREATED}),
    event({"type": "response.output_text.delta", "sequence_number": 1, "delta": "Hel"}),
]
MESSAGE_START = [
    event({"type": "message_start", "message": MESSAGE}),
    event({"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}),
    event({"type": "content_block_delta", "index": 0, "delta": {"text": "Hel"}}),
]
COMPLETION_START = [
    chunk({"id": "cmpl-1", "object": "text_completion", "choices": [{"text": "Hel"}]}),
]
CASES = {
    "responses": ("/v1/responses", {"input": "Hallo"}, RESPONSE_START),
    "messages": (
        "/v1/messages",
        {"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
        MESSAGE_START,
    ),
    "completions": ("/v1/completions", {"prompt": "Hallo"}, COMPLETION_START),
}


upstream = module_upstream()


@pytest.fixture(scope="module")
def gateway(
    upstream: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    config = {
        "providers": {
            "openai": {"base_url": upstream.url, "api_key": "sk-up", "type": "openai"},
            "anthropic": {"type": "anthropic", "base_url": upstream.url, "api_key": "sk-a"},
            "backup": {"base_url": upstream.url},
        },
        "models": {
            "messages-cut": {"provider": "anthropic"},
            "slow-edits": {"provider": "openai", "timeouts": {"first_byte": 0.3, "total": 0.3}},
            "edits-pair": {
                "deployments": [
                    {"provider": "openai", "model": "edit-a"},
                    {"provider": "backup", "model": "edit-b", "priority": 1},
                ],
                "num_retries": 1,
            },
        },
        "router": {"num_retries": 0},
        "local": {"enabled": False},
    }
    server = AiportProcess(tmp_path_factory.mktemp("stream-ends"), config=config).start()
    yield server
    server.stop()


@pytest.mark.parametrize("api", list(CASES))
def test_a_passed_through_stream_cut_short_ends_with_an_error(
    gateway: AiportProcess, upstream: FaultyUpstream, api: str
) -> None:
    path, body, start = CASES[api]
    model = f"{api}-cut"
    upstream.script(model, sse(*start, done=False))  # a clean end, before the last event
    response = raw_request(gateway.base_url + path, {"model": model, "stream": True, **body})
    assert response.status == 200  # the stream had begun
    events = data_of(response.body)
    assert b"[DONE]" not in events, events
    last = orjson.loads(events[-1])
    error = last.get("error") or last.get("response", {}).get("error")
    assert error, events[-2:]


def test_an_image_edit_keeps_its_models_timeouts(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("slow-edits", slow_first_byte(3))
    with pytest.raises(openai.InternalServerError) as late:
        gateway.client().images.edit(model="slow-edits", image=("a.png", b"\x89PNG"), prompt="x")
    assert late.value.status_code == 504  # after 0.3 s, not the provider's default


IMAGES = orjson.dumps({"created": 1, "data": [{"b64_json": "aGVsbG8="}]})


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # variations
@pytest.mark.parametrize("operation", ["edit", "variation"])
def test_an_image_edit_is_retried_on_the_next_deployment(
    gateway: AiportProcess, upstream: FaultyUpstream, operation: str
) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    upstream.script("edit-a", status(502))
    upstream.script("edit-b", answer(IMAGES))
    seen = len(upstream.requests)
    client = gateway.client()
    image = ("a.png", picture, "image/png")
    if operation == "edit":
        result = client.images.edit(model="edits-pair", image=image, prompt="add a hat")
    else:
        result = client.images.create_variation(model="edits-pair", image=image)
    assert result.data and result.data[0].b64_json == "aGVsbG8="
    failed, answered = upstream.requests[seen:]
    assert (failed.key, answered.key) == ("edit-a", "edit-b")  # each its own model name
    assert failed.body.replace(b"edit-a", b"edit-b") == answered.body  # the whole form, again
    assert picture in answered.body

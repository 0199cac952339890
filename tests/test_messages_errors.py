"""Every answer on Anthropic's paths (`/v1/messages`, `/messages` and everything under them)
is Anthropic's: its error shape `{"type": "error", "error": {...}, "request_id": ...}` for an
unknown path (404 `not_found_error`), a wrong method (405; Anthropic answers other 4xx with
`invalid_request_error`), a missing or wrong key (401 `authentication_error`, worded for
`x-api-key`) and a body that is not JSON (Anthropic's words); and its `request-id` header,
which the official `anthropic` SDK reads into `_request_id` / `.request_id`, on every answer,
beside aiport's `x-request-id` and with the same value. A real `aiport serve`, the fake
upstream on loopback, the SDK where it can send the request, raw HTTP where it cannot.
"""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.routing import access_line
from tests.support.server import MASTER_KEY, AiportProcess, RawResponse, raw_request

NATIVE, TRANSLATED = "claude-native", "vllm-chat"
HELLO: Any = [{"role": "user", "content": "Hallo!"}]
CREATE = {"model": NATIVE, "max_tokens": 5, "messages": HELLO}
KEY = {"x-api-key": MASTER_KEY}


@pytest.fixture(scope="module")
def client(proxy: AiportProcess) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.base_url, api_key=MASTER_KEY, max_retries=0)


def anthropic_error(response: RawResponse, status: int, kind: str) -> str:
    """The answer is Anthropic's error shape with `request_id`, the same id in `request-id`
    and `x-request-id`; returns the message."""
    assert response.status == status, (response.status, response.body[:300])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    request_id = response.headers["x-request-id"]
    assert response.headers["request-id"] == request_id
    assert body == {
        "type": "error",
        "error": {"type": kind, "message": body["error"]["message"]},
        "request_id": request_id,
    }
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return str(body["error"]["message"])


@pytest.mark.parametrize(
    "path",
    [
        "/v1/messages/batches",
        "/v1/messages/foo",
        "/v1/messages/",
        "/v1/messages/count_tokens/x",
        "/messages/foo",
    ],
)
def test_an_unknown_path_under_messages_is_anthropics_404(proxy: AiportProcess, path: str) -> None:
    answer = raw_request(proxy.base_url + path, CREATE, key=None, headers=KEY)
    assert anthropic_error(answer, 404, "not_found_error").startswith("Not Found")


def test_the_sdk_reads_the_404_of_an_api_aiport_does_not_serve(
    client: anthropic.Anthropic,
) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.batches.list()
    body: Any = missing.value.body
    assert body["error"]["type"] == "not_found_error"
    assert missing.value.request_id == body["request_id"]
    assert missing.value.request_id == missing.value.response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/messages"),
        ("DELETE", "/v1/messages"),
        ("PUT", "/messages"),
        ("GET", "/v1/messages/count_tokens"),
    ],
)
def test_a_wrong_method_is_a_405_in_anthropics_shape(
    proxy: AiportProcess, method: str, path: str
) -> None:
    answer = raw_request(proxy.base_url + path, method=method, key=None, headers=KEY)
    assert anthropic_error(answer, 405, "invalid_request_error").startswith("Method Not Allowed")
    assert answer.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/v1/messages/x"])
def test_a_missing_key_is_worded_for_x_api_key(proxy: AiportProcess, path: str) -> None:
    for method in ("POST", "GET"):
        answer = raw_request(proxy.base_url + path, method=method, key=None)
        message = anthropic_error(answer, 401, "authentication_error")
        assert message == "x-api-key header is required"


def test_a_wrong_key_is_anthropics_401(proxy: AiportProcess) -> None:
    answer = raw_request(
        proxy.base_url + "/v1/messages", CREATE, key=None, headers={"x-api-key": "sk-wrong"}
    )
    assert anthropic_error(answer, 401, "authentication_error") == "invalid x-api-key"
    # This SDK (like Claude Code's ANTHROPIC_AUTH_TOKEN) sends the key as a Bearer token:
    # worded without x-api-key.
    wrong = anthropic.Anthropic(base_url=proxy.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as refused:
        wrong.messages.count_tokens(model=NATIVE, messages=HELLO)
    body: Any = refused.value.body
    assert body["error"]["type"] == "authentication_error"
    assert "x-api-key" not in body["error"]["message"]
    assert refused.value.request_id == body["request_id"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"model": "claude-native", "max_tokens": 5,',
            "The request body is not valid JSON: unexpected end of data: line 1 column 44",
        ),
        (b"", "The request body is not valid JSON: Input is a zero-length, empty document"),
        (b"[1, 2]", "The request body is not a JSON object."),
    ],
)
def test_a_body_that_is_not_json_is_worded_as_anthropic_words_it(
    proxy: AiportProcess, upstream: FakeUpstream, raw: bytes, message: str
) -> None:
    seen = len(upstream.requests)
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        answer = raw_request(
            proxy.base_url + path,
            raw,
            key=None,
            headers={**KEY, "content-type": "application/json"},
        )
        assert anthropic_error(answer, 400, "invalid_request_error").startswith(message)
    assert len(upstream.requests) == seen


@pytest.mark.parametrize("model", [NATIVE, TRANSLATED])
def test_every_answer_carries_request_id(client: anthropic.Anthropic, model: str) -> None:
    raw = client.messages.with_raw_response.create(model=model, max_tokens=5, messages=HELLO)
    assert raw.headers["request-id"] == raw.headers["x-request-id"]
    assert raw.parse()._request_id == raw.headers["x-request-id"]
    counted = client.messages.with_raw_response.count_tokens(model=model, messages=HELLO)
    assert counted.headers["request-id"] == counted.headers["x-request-id"]
    with client.messages.create(model=model, max_tokens=5, messages=HELLO, stream=True) as stream:
        headers = stream.response.headers
        assert headers["request-id"] == headers["x-request-id"]
        assert [event.type for event in stream][-1] == "message_stop"


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("claude-overloaded", {}),  # an Anthropic upstream's own error (its own id), passed on
        ("error-400", {}),  # a chat upstream's error, reshaped
        (NATIVE, {"extra_body": {"temperature": 1.5}}),  # aiport's own
    ],
)
def test_an_errors_request_id_is_aiports(
    client: anthropic.Anthropic, model: str, extra: dict[str, Any]
) -> None:
    with pytest.raises(anthropic.APIStatusError) as failed:
        client.messages.create(model=model, max_tokens=5, messages=HELLO, **extra)
    body: Any = failed.value.body
    headers = failed.value.response.headers
    assert body["type"] == "error" and body["error"]["message"]
    assert failed.value.request_id == headers["x-request-id"] == body["request_id"]


def test_a_browser_may_read_request_id(proxy: AiportProcess) -> None:
    """The SDKs in a page (`dangerouslyAllowBrowser`) read it only if CORS exposes it."""
    answer = raw_request(
        proxy.base_url + "/v1/messages",
        CREATE,
        key=None,
        headers={**KEY, "Origin": "http://localhost:5173"},
    )
    assert answer.status == 200
    exposed = answer.headers["access-control-expose-headers"].lower().split(", ")
    assert "request-id" in exposed and "x-request-id" in exposed


HI: Any = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    ("model", "status", "stream"),
    [
        ("claude-native", 200, False),
        ("claude-native", 200, True),
        ("claude-overloaded", 529, False),
        ("vllm-chat", 200, True),
        ("error-429", 429, False),
    ],
)
def test_the_upstreams_own_request_id_is_logged_with_the_attempt(
    proxy: AiportProcess, upstream: FakeUpstream, model: str, status: int, stream: bool
) -> None:
    """A support case with the provider needs its id (Anthropic's `request-id`, OpenAI's
    `x-request-id`), answered, streamed or failed; the caller still gets aiport's id."""
    answer = raw_request(
        proxy.base_url + "/v1/messages",
        {"model": model, "max_tokens": 5, "messages": HI, "stream": stream},
    )
    assert answer.status == status
    theirs = upstream.last_request_id
    ours = answer.headers["x-request-id"]
    assert answer.headers["request-id"] == ours != theirs
    if status != 200:
        assert answer.json()["request_id"] == ours
    [attempt] = access_line(proxy, ours)["attempts"]
    assert attempt["upstream_request_id"] == theirs


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("chat", "theirs"),
    [("messages[3].content", "messages.2.content"), ("max_completion_tokens", "max_tokens")],
)
def test_a_translated_upstreams_400_names_the_messages_field(
    client: anthropic.Anthropic, chat: str, theirs: str, stream: bool
) -> None:
    """An OpenAI-compatible deployment's 400 names its chat request's fields: the caller is
    told of the Messages request's own, in Anthropic's shape and words."""
    messages: Any = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": f"invalid-param {chat}"},
    ]
    ask: Any = {"model": TRANSLATED, "max_tokens": 5, "system": "Be brief.", "stream": stream}
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(messages=messages, **ask)
    error: Any = refused.value.body
    assert error["error"] == {
        "type": "invalid_request_error",
        "message": f"{theirs}: Invalid '{theirs}': refused.",
    }

"""Browser clients (CORS), the health check, and stored image URLs.

The seed's examples run `fetch` from web pages: the streamed chat and the speech blob
included, so every kind of answer must carry the CORS headers, not just JSON ones.
"""

from __future__ import annotations

import pytest

from tests.support.server import AiportProcess, raw_request

ORIGIN = "http://localhost:3000"
MESSAGES = [{"role": "user", "content": "Hallo!"}]


@pytest.mark.parametrize(
    "path", ["/v1/chat/completions", "/chat/completions", "/audio/speech", "/v1/models"]
)
def test_preflight_needs_no_key(proxy: AiportProcess, path: str) -> None:
    response = raw_request(
        proxy.base_url + path,
        method="OPTIONS",
        key=None,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status == 204
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["x-request-id"].startswith("req_")
    assert response.body == b""


def test_preflight_allows_deleting_a_stored_response(proxy: AiportProcess) -> None:
    """`client.responses.delete(id)` from a page: the browser asks first."""
    response = raw_request(
        proxy.base_url + "/v1/responses/resp_123",
        method="OPTIONS",
        key=None,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"},
    )
    assert response.status == 204
    assert "DELETE" in response.headers["access-control-allow-methods"]


def assert_cors(response_headers: object) -> None:
    headers = response_headers  # an email.message.Message: case-insensitive
    assert headers["access-control-allow-origin"] in ("*", ORIGIN)  # type: ignore[index]
    exposed = headers["access-control-expose-headers"].lower()  # type: ignore[index]
    assert "x-request-id" in exposed and "retry-after" in exposed


def test_json_answer_carries_cors(proxy: AiportProcess) -> None:
    response = raw_request(
        proxy.base_url + "/chat/completions",
        {"model": "gpt-4o", "messages": MESSAGES},
        headers={"Origin": ORIGIN},
    )
    assert response.status == 200
    assert_cors(response.headers)


def test_streamed_chat_carries_cors(proxy: AiportProcess) -> None:
    response = raw_request(
        proxy.base_url + "/chat/completions",
        {"model": "gpt-4o", "messages": MESSAGES, "stream": True},
        headers={"Origin": ORIGIN},
    )
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert_cors(response.headers)


def test_streamed_speech_carries_cors(proxy: AiportProcess) -> None:
    response = raw_request(
        proxy.base_url + "/audio/speech",
        {"input": "Hallo!", "voice": "alloy", "model": "tts-1-hd"},
        headers={"Origin": ORIGIN},
    )
    assert response.status == 200
    assert_cors(response.headers)


@pytest.mark.parametrize("key", [None, "sk-wrong"])
def test_errors_carry_cors_so_pages_can_read_them(proxy: AiportProcess, key: str | None) -> None:
    response = raw_request(proxy.base_url + "/v1/models", key=key, headers={"Origin": ORIGIN})
    assert response.status == 401
    assert_cors(response.headers)


def test_rate_limit_error_from_upstream_carries_cors(proxy: AiportProcess) -> None:
    response = raw_request(
        proxy.base_url + "/chat/completions",
        {"model": "error-429", "messages": MESSAGES, "stream": True},
        headers={"Origin": ORIGIN},
    )
    assert response.status == 429
    assert_cors(response.headers)
    assert response.headers["retry-after"] == "7"


def test_no_cors_headers_without_an_origin(proxy: AiportProcess) -> None:
    response = raw_request(proxy.base_url + "/v1/models")
    assert "access-control-allow-origin" not in response.headers


def test_health_needs_no_key_and_shows_no_secret(proxy: AiportProcess) -> None:
    response = raw_request(proxy.base_url + "/health", key=None)
    assert response.status == 200
    assert response.headers["x-request-id"].startswith("req_")
    health = response.json()
    assert health["status"] == "ok"
    # (what the requests sent there so far told: other tests share this server)
    assert health["backends"]["openai"] in ("up", "degraded", "down", "unknown")
    assert b"sk-" not in response.body


def test_health_with_a_wrong_key_is_still_fine(proxy: AiportProcess) -> None:
    assert raw_request(proxy.base_url + "/health", key="sk-wrong").status == 200


def test_unknown_image_file_is_404_in_openai_shape(proxy: AiportProcess) -> None:
    response = raw_request(proxy.base_url + "/images/files/nope.png", key=None)
    assert response.status == 404, response.body
    assert response.json()["error"]["code"] == "image_not_found"
    assert response.headers["x-request-id"].startswith("req_")

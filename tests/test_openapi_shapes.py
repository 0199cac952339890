"""Proxy answers fit the response schemas of OpenAI's own OpenAPI document.

Covers the seed's seven operations (chat, images, speech, transcriptions, embeddings,
moderations, models) plus the error bodies aiport makes itself. Local-engine answers are
checked in test_openapi_shapes_local.py.
"""

from __future__ import annotations

import os
from typing import Any

import jsonschema
import orjson
import pytest

from tests.support.fake_upstream import streams_dir
from tests.support.openapi_spec import component_ref, response_schema_ref, validate
from tests.support.server import MASTER_KEY, AiportProcess, raw_request, sse_events

MESSAGES = [{"role": "user", "content": "Hallo!"}]
AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(4096)


def post(proxy: AiportProcess, path: str, body: dict[str, Any]) -> Any:
    response = raw_request(proxy.base_url + path, body)
    assert response.status == 200, response.body[:300]
    return response.json()


def multipart(fields: dict[str, str], audio: bytes) -> tuple[bytes, str]:
    boundary = "aiport-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n".encode()
        + audio
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


@pytest.mark.parametrize(
    ("instance", "ref"),
    [
        ({"object": "list"}, response_schema_ref("/models", "get")),
        (
            {"id": "x", "object": "chat.completion"},
            response_schema_ref("/chat/completions", "post"),
        ),
        ({"error": {"message": "m", "type": "t", "code": None}}, component_ref("ErrorResponse")),
    ],
)
def test_schemas_are_not_vacuous(instance: Any, ref: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(instance, ref)


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_chat_completion(proxy: AiportProcess, prefix: str) -> None:
    body = post(proxy, prefix + "/chat/completions", {"model": "gpt-4o", "messages": MESSAGES})
    validate(body, response_schema_ref("/chat/completions", "post"))


@pytest.mark.parametrize("include_usage", [True, False])
def test_chat_stream_chunks(proxy: AiportProcess, include_usage: bool) -> None:
    ref = response_schema_ref("/chat/completions", "post", "text/event-stream")
    shas = sorted(path.stem for path in streams_dir().glob("*.bin"))
    for model in ["gpt-4o", *(f"replay-{sha}" for sha in shas)]:
        response = raw_request(
            proxy.base_url + "/v1/chat/completions",
            {
                "model": model,
                "messages": MESSAGES,
                "stream": True,
                "stream_options": {"include_usage": include_usage},
            },
        )
        events = sse_events(response.body)
        assert events[-1] == b"[DONE]"
        for event in events[:-1]:
            validate(orjson.loads(event), ref)


def test_embeddings(proxy: AiportProcess) -> None:
    body = post(
        proxy,
        "/v1/embeddings",
        {"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "float"},
    )
    validate(body, response_schema_ref("/embeddings", "post"))


@pytest.mark.parametrize("path", ["/v1/images/generations", "/images/generate"])
def test_images(proxy: AiportProcess, path: str) -> None:
    body = post(proxy, path, {"prompt": "Ein Roboter", "model": "dall-e-3"})
    validate(body, response_schema_ref("/images/generations", "post"))


def test_speech_is_audio_bytes(proxy: AiportProcess) -> None:
    response = raw_request(
        proxy.base_url + "/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "Hi"}
    )
    assert response.status == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.body.startswith(b"\xff\xfb")


@pytest.mark.parametrize("operation", ["transcriptions", "translations"])
def test_audio_to_text(proxy: AiportProcess, operation: str) -> None:
    data, boundary = multipart({"model": "whisper-1"}, AUDIO)
    response = raw_request(
        proxy.base_url + f"/v1/audio/{operation}",
        data,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status == 200, response.body
    validate(response.json(), response_schema_ref(f"/audio/{operation}", "post"))


def test_moderations(proxy: AiportProcess) -> None:
    body = post(proxy, "/v1/moderations", {"input": "Dies ist ein Beispieltext"})
    validate(body, response_schema_ref("/moderations", "post"))


@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_models(proxy: AiportProcess, prefix: str) -> None:
    listing = raw_request(proxy.base_url + prefix + "/models")
    validate(listing.json(), response_schema_ref("/models", "get"))
    for model in listing.json()["data"]:
        one = raw_request(proxy.base_url + prefix + "/models/" + model["id"])
        assert one.json() == model
        validate(one.json(), response_schema_ref("/models/{model}", "get"))


@pytest.mark.parametrize(
    ("path", "body", "key", "status"),
    [
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": []}, "master", 400),
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": MESSAGES}, None, 401),
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": MESSAGES}, "sk-bad", 401),
        ("/v1/models/no-such-model", None, "master", 404),
        ("/v1/no/such/path", None, "master", 404),
        ("/v1/chat/completions", {"model": "raw-error-502", "messages": MESSAGES}, "master", 502),
        ("/v1/chat/completions", {"model": "error-429", "messages": MESSAGES}, "master", 429),
    ],
)
def test_error_bodies(
    proxy: AiportProcess, path: str, body: Any, key: str | None, status: int
) -> None:
    response = raw_request(proxy.base_url + path, body, key=MASTER_KEY if key == "master" else key)
    assert response.status == status
    validate(response.json(), component_ref("ErrorResponse"))


def test_stream_error_frame(proxy: AiportProcess) -> None:
    response = raw_request(
        proxy.base_url + "/v1/chat/completions",
        {"model": "break-stream", "messages": MESSAGES, "stream": True},
    )
    validate(orjson.loads(sse_events(response.body)[-1]), component_ref("ErrorResponse"))

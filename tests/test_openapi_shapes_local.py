"""Answers of the embedded engines (no upstream key) fit OpenAI's response schemas.

One `aiport serve` without OPENAI_API_KEY, loading each model on first use. A test whose
engine is not in /health is skipped with that reason, so the module turns strict by itself
as engines land; everything else must fit the schema exactly.
"""

from __future__ import annotations

import base64
import io
import math
import struct
import wave
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tests.support.openapi_spec import component_ref, response_schema_ref, validate
from tests.support.server import AiportProcess, raw_request, sse_events

pytestmark = pytest.mark.slow

MESSAGES = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AiportProcess]:
    server = AiportProcess(
        tmp_path_factory.mktemp("local-shapes"), config={"local": {"load": "first_use"}}
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def engines(local: AiportProcess) -> set[str]:
    health = raw_request(local.base_url + "/health").json()  # details: master key
    return {name for name, report in health["backends"].items() if report.get("ready")}


def need(engines: set[str], name: str) -> None:
    if name not in engines:
        pytest.skip(f"engine {name} is not available in this build yet")


def post(local: AiportProcess, path: str, body: dict[str, Any]) -> Any:
    response = raw_request(local.base_url + path, body, timeout=120)
    assert response.status == 200, response.body[:500]
    return response.json()


def tone_wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


def test_chat_completion(local: AiportProcess, engines: set[str]) -> None:
    need(engines, "local-chat")
    body = post(
        local, "/v1/chat/completions", {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 8}
    )
    validate(body, response_schema_ref("/chat/completions", "post"))
    assert body["model"] == "gpt-4o"


def test_chat_stream_follows_openai_framing(local: AiportProcess, engines: set[str]) -> None:
    need(engines, "local-chat")
    response = raw_request(
        local.base_url + "/v1/chat/completions",
        {
            "model": "gpt-4o",
            "messages": MESSAGES,
            "max_tokens": 8,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        timeout=120,
    )
    events = sse_events(response.body)
    assert events[-1] == b"[DONE]"
    chunks = [orjson.loads(event) for event in events[:-1]]
    ref = response_schema_ref("/chat/completions", "post", "text/event-stream")
    for chunk in chunks:
        validate(chunk, ref)
    assert len({c["id"] for c in chunks}) == 1 and len({c["created"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    *content, last, usage = chunks
    assert all(c["choices"][0]["finish_reason"] is None for c in content)
    assert last["choices"][0]["finish_reason"] in ("stop", "length")
    assert all(c["usage"] is None for c in [*content, last])
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_embeddings(local: AiportProcess, engines: set[str], encoding_format: str) -> None:
    need(engines, "local-embeddings")
    body = post(
        local,
        "/v1/embeddings",
        {
            "model": "text-embedding-3-small",
            "input": ["Maschinelles Lernen", "KI"],
            "encoding_format": encoding_format,
        },
    )
    if encoding_format == "base64":
        for item in body["data"]:
            raw = base64.b64decode(item["embedding"])
            item["embedding"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    validate(body, response_schema_ref("/embeddings", "post"))


def test_images_b64(local: AiportProcess, engines: set[str]) -> None:
    need(engines, "local-images")
    body = post(
        local,
        "/v1/images/generations",
        {"prompt": "a red circle", "size": "1024x1024", "response_format": "b64_json"},
    )
    validate(body, response_schema_ref("/images/generations", "post"))
    assert base64.b64decode(body["data"][0]["b64_json"]).startswith(b"\x89PNG")


def test_speech_is_audio(local: AiportProcess, engines: set[str]) -> None:
    need(engines, "local-speech")
    response = raw_request(
        local.base_url + "/v1/audio/speech",
        {"model": "tts-1", "voice": "alloy", "input": "Hello there."},
        timeout=120,
    )
    assert response.status == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert len(response.body) > 1000


@pytest.mark.parametrize("operation", ["transcriptions", "translations"])
def test_audio_to_text(local: AiportProcess, engines: set[str], operation: str) -> None:
    need(engines, "local-transcription")
    boundary = "aiport-test-boundary"
    data = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + tone_wav()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = raw_request(
        local.base_url + f"/v1/audio/{operation}",
        data,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=120,
    )
    assert response.status == 200, response.body[:500]
    validate(response.json(), response_schema_ref(f"/audio/{operation}", "post"))


def test_moderations(local: AiportProcess, engines: set[str]) -> None:
    need(engines, "local-moderation")
    body = post(local, "/v1/moderations", {"input": "Dies ist ein Beispieltext"})
    validate(body, response_schema_ref("/moderations", "post"))


def test_models(local: AiportProcess) -> None:
    listing = raw_request(local.base_url + "/v1/models").json()
    validate(listing, response_schema_ref("/models", "get"))
    one = raw_request(local.base_url + "/v1/models/" + listing["data"][0]["id"]).json()
    validate(one, response_schema_ref("/models/{model}", "get"))


def test_errors(local: AiportProcess) -> None:
    for path, body in [
        ("/v1/models/no-such-model", None),
        ("/v1/chat/completions", {"model": "no-such-model", "messages": MESSAGES}),
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": [], "temperature": 3}),
    ]:
        response = raw_request(local.base_url + path, body)
        assert response.status in (400, 404)
        validate(response.json(), component_ref("ErrorResponse"))

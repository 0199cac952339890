"""The seed document's examples, as written, against the proxy with only the base URL swapped.

The Python example uses `requests` (not a dependency): ported line for line to urllib,
whose response iterates by line as `iter_lines` does. The JavaScript `fetch` examples are
replayed as the same HTTP requests with aiohttp, and their response handling (including
the stream reader that splits each network read on newlines) is ported as written.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.fake_upstream import FakeUpstream, streams_dir
from tests.support.server import MASTER_KEY, AiportProcess

SEED_MESSAGES = [
    {"role": "system", "content": "Du bist ein hilfreicher Assistent."},
    {"role": "user", "content": "Was ist maschinelles Lernen?"},
]
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {MASTER_KEY}"}


def test_python_requests_streaming_example(proxy: AiportProcess, upstream: FakeUpstream) -> None:
    url = proxy.base_url + "/chat/completions"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {MASTER_KEY}"}
    data = {
        "model": "gpt-4o",
        "messages": SEED_MESSAGES,
        "temperature": 0.7,
        "stream": True,
    }
    # requests.post(url, headers=headers, json=data, stream=True)
    request = urllib.request.Request(url, json.dumps(data).encode(), headers, method="POST")
    printed: list[str] = []
    with urllib.request.urlopen(request, timeout=15) as response:
        for raw_line in response:  # response.iter_lines()
            line = raw_line.rstrip(b"\r\n")
            if line:
                line = line.decode("utf-8")
                if line.startswith("data: "):
                    data = line[6:]
                    if data == "[DONE]":
                        break
                    parsed = json.loads(data)
                    content = parsed.get("choices", [{}])[0].get("delta", {}).get("content")
                    if content:
                        printed.append(content)  # print(content, end='', flush=True)
    assert "".join(printed) == "Hello from the stream."
    assert upstream.last("/chat/completions")["body"]["temperature"] == 0.7


async def js_stream_reader(response: aiohttp.ClientResponse) -> str:
    """The seed's JS loop: each read is decoded, split on newlines and parsed line by line."""
    full = ""
    async for value in response.content.iter_any():  # reader.read()
        chunk = value.decode("utf-8")
        lines = [line for line in chunk.split("\n") if line.strip()]
        for line in lines:
            if line.startswith("data: "):
                data = line[6:]
                if data == "[DONE]":
                    continue
                parsed = json.loads(data)  # throws if a read ended mid-line
                choices = parsed["choices"]
                content = (choices[0].get("delta") or {}).get("content") if choices else None
                if content:
                    full += content
    return full


def recorded_text(path: Path) -> str:
    events = [e[6:] for e in path.read_bytes().split(b"\n\n") if e.startswith(b"data: {")]
    chunks = [json.loads(event) for event in events]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


# The longest recorded stream (182 events), beside the fake upstream's own.
LONGEST = max(streams_dir().glob("*.bin"), key=lambda path: path.stat().st_size)
JS_STREAMS = [
    ("gpt-4o", "Hello from the stream."),
    ("replay-" + LONGEST.stem, recorded_text(LONGEST)),
]


@pytest.mark.parametrize(("model", "expected"), JS_STREAMS, ids=["fake", "recorded"])
async def test_js_fetch_streaming_example(proxy: AiportProcess, model: str, expected: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            proxy.base_url + "/chat/completions",
            headers=HEADERS,
            data=json.dumps(
                {
                    "model": model,
                    "messages": SEED_MESSAGES,
                    "temperature": 0.7,
                    "stream": True,
                }
            ),
        ) as response,
    ):
        assert response.ok
        assert await js_stream_reader(response) == expected


async def test_js_chatbot_class_keeps_history(proxy: AiportProcess, upstream: FakeUpstream) -> None:
    history: list[dict[str, Any]] = []

    async def send_message(session: aiohttp.ClientSession, user_message: str) -> str:
        history.append({"role": "user", "content": user_message})
        async with session.post(
            proxy.base_url + "/chat/completions",
            headers=HEADERS,
            data=json.dumps(
                {"model": "gpt-4o", "messages": history, "temperature": 0.7, "stream": True}
            ),
        ) as response:
            if not response.ok:
                raise AssertionError(f"API Error: {response.status}")
            full = await js_stream_reader(response)
        history.append({"role": "assistant", "content": full})
        return full

    async with aiohttp.ClientSession() as session:
        assert await send_message(session, "Hallo!") == "Hello from the stream."
        await send_message(session, "Und weiter?")
    sent = upstream.last("/chat/completions")["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]


async def fetch_json(
    proxy: AiportProcess, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        if body is None:
            request = session.get(proxy.base_url + path, headers=HEADERS)
        else:
            request = session.post(proxy.base_url + path, headers=HEADERS, data=json.dumps(body))
        async with request as response:
            return response.status, await response.json()


async def test_js_image_example(proxy: AiportProcess) -> None:
    status, data = await fetch_json(
        proxy,
        "/images/generate",
        {
            "prompt": "Ein futuristischer Roboter in einer Cyberpunk-Stadt",
            "model": "dall-e-3",
            "size": "1024x1024",
            "quality": "hd",
        },
    )
    assert status == 200
    assert data["data"][0]["url"].startswith("https://")


async def test_js_speech_example(proxy: AiportProcess) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            proxy.base_url + "/audio/speech",
            headers=HEADERS,
            data=json.dumps(
                {
                    "input": "Hallo, ich bin eine KI-generierte Stimme!",
                    "voice": "alloy",
                    "model": "tts-1-hd",
                }
            ),
        ) as response,
    ):
        assert response.status == 200
        assert response.content_type.startswith("audio/")
        audio_blob = await response.read()  # response.blob()
    assert len(audio_blob) == 8 * 1024


async def test_js_transcription_example(proxy: AiportProcess, upstream: FakeUpstream) -> None:
    audio_file = b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(64 * 1024)
    form_data = aiohttp.FormData()
    form_data.add_field("file", audio_file, filename="aufnahme.mp3", content_type="audio/mpeg")
    form_data.add_field("model", "whisper-1")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            proxy.base_url + "/audio/transcriptions",
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
            data=form_data,
        ) as response,
    ):
        data = await response.json()
    assert data["text"] == "hello world"
    assert upstream.last("/audio/transcriptions")["body"]["file_size"] == len(audio_file)


async def test_js_embeddings_example(proxy: AiportProcess) -> None:
    status, data = await fetch_json(
        proxy,
        "/embeddings",
        {
            "input": "Maschinelles Lernen ist ein Teilgebiet der KI",
            "model": "text-embedding-3-small",
        },
    )
    assert status == 200
    assert data["data"][0]["embedding"] == [0.25, -0.5, 1.0]
    assert data["object"] == "list" and data["usage"]["total_tokens"] == 5


async def test_js_moderation_example(proxy: AiportProcess) -> None:
    status, data = await fetch_json(
        proxy, "/moderations", {"input": "Dies ist ein Beispieltext zur Moderation"}
    )
    assert status == 200
    result = data["results"][0]
    assert result["flagged"] is False
    assert {"sexual", "hate", "violence", "self-harm"} <= set(result["categories"])


async def test_js_models_example(proxy: AiportProcess) -> None:
    status, data = await fetch_json(proxy, "/models")
    assert status == 200
    assert {"id", "object", "created", "owned_by"} <= set(data["data"][0])


async def test_error_response_format(proxy: AiportProcess) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            proxy.base_url + "/chat/completions",
            headers={**HEADERS, "Authorization": "Bearer YOUR_API_KEY"},
            data=json.dumps({"model": "gpt-4o", "messages": SEED_MESSAGES}),
        ) as response,
    ):
        assert response.status == 401
        error = (await response.json())["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_api_key"
    assert error["message"]


async def test_safe_api_call_sees_429_and_error_messages(proxy: AiportProcess) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            proxy.base_url + "/chat/completions",
            headers=HEADERS,
            data=json.dumps({"model": "error-429", "messages": SEED_MESSAGES}),
        ) as response:
            assert response.status == 429  # the seed backs off and retries on this
            assert response.headers["retry-after"] == "7"
        async with session.post(
            proxy.base_url + "/chat/completions",
            headers=HEADERS,
            data=json.dumps({}),  # JSON.stringify({...}) left as is
        ) as response:
            assert not response.ok
            error = await response.json()
            assert error["error"]["message"]  # `API Error: ${error.error.message}`

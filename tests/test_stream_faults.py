"""Streams under upstream faults: slow, broken, failing, hanging, and clients that leave.

The fake upstream picks its fault from the model name (see tests/fake_upstream.py). The
proxy's `first_byte_timeout` is 3 s (tests/conftest.py `proxy_config`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import openai
import orjson
import pytest

from tests.support.fake_upstream import FakeUpstream, wait_for
from tests.support.server import (
    MASTER_KEY,
    UPSTREAM_KEY,
    AiportProcess,
    assert_openai_error,
    proxy_config,
    raw_request,
    sse_events,
)

MESSAGES = [{"role": "user", "content": "Hallo!"}]
FIRST_BYTE_TIMEOUT = 3.0
AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}


def chat_body(model: str, stream: bool = True) -> dict[str, Any]:
    return {"model": model, "messages": MESSAGES, "stream": stream}


def test_slow_first_byte_still_streams(proxy: AiportProcess) -> None:
    started = time.monotonic()
    stream = proxy.client().chat.completions.create(
        model="slow-1500",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hello from the stream."
    assert time.monotonic() - started >= 1.4


def test_broken_stream_ends_with_one_error_frame_and_no_done(proxy: AiportProcess) -> None:
    response = raw_request(proxy.base_url + "/v1/chat/completions", chat_body("break-stream"))
    assert response.status == 200  # the stream had begun when the upstream broke
    events = sse_events(response.body)
    assert b"[DONE]" not in events
    chunks = [orjson.loads(event) for event in events]
    errors = [chunk for chunk in chunks if "error" in chunk]
    assert len(errors) == 1 and chunks[-1] is errors[0]
    assert set(errors[0]["error"]) == {"message", "type", "param", "code"}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert text == "Hello from"  # everything the upstream sent before it broke
    assert response.body.endswith(b"\n\n")


def test_broken_stream_raises_in_the_sdk(proxy: AiportProcess) -> None:
    stream = proxy.client().chat.completions.create(
        model="break-stream",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    received: list[str] = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Hello from"


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "plain"])
@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_upstream_error_before_streaming_keeps_status_body_and_retry_after(
    proxy: AiportProcess, status: int, exception: type[openai.APIStatusError], stream: bool
) -> None:
    model = f"error-{status}"
    response = raw_request(proxy.base_url + "/v1/chat/completions", chat_body(model, stream))
    error = assert_openai_error(response, status)
    assert error == {
        "message": f"fake {status}",
        "type": "fake",
        "param": None,
        "code": f"fake_{status}",
    }
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-request-id"].startswith("req_")

    with pytest.raises(exception) as caught:
        proxy.client().chat.completions.create(
            model=model,
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=stream,
        )
    assert caught.value.status_code == status
    assert caught.value.code == f"fake_{status}"


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "plain"])
def test_upstream_non_openai_error_becomes_openai_shape(proxy: AiportProcess, stream: bool) -> None:
    response = raw_request(
        proxy.base_url + "/v1/chat/completions", chat_body("raw-error-502", stream)
    )
    error = assert_openai_error(response, 502)
    assert error["param"] is None
    with pytest.raises(openai.InternalServerError):
        proxy.client().chat.completions.create(
            model="raw-error-502",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=stream,
        )


def test_upstream_string_error_keeps_its_message(proxy: AiportProcess) -> None:
    response = raw_request(
        proxy.base_url + "/v1/chat/completions", chat_body("string-error-404", False)
    )
    error = assert_openai_error(response, 404)
    assert error["message"] == "fake plain 404"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/embeddings", {"model": "error-500", "input": "x"}, 500),
        ("/v1/embeddings", {"model": "raw-error-503", "input": "x"}, 503),
        ("/v1/audio/speech", {"model": "error-429", "input": "x", "voice": "alloy"}, 429),
        ("/v1/audio/speech", {"model": "raw-error-502", "input": "x", "voice": "alloy"}, 502),
    ],
)
def test_upstream_errors_on_other_endpoints_keep_their_status(
    proxy: AiportProcess, path: str, body: dict[str, Any], status: int
) -> None:
    response = raw_request(proxy.base_url + path, body)
    assert_openai_error(response, status)
    assert response.headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "plain"])
def test_hanging_upstream_is_a_504_within_the_first_byte_timeout(
    proxy: AiportProcess, stream: bool
) -> None:
    started = time.monotonic()
    # The client's own timeout is far longer, and the upstream never answers: a 504 can
    # only be the proxy's own first-byte timeout.
    response = raw_request(
        proxy.base_url + "/v1/chat/completions", chat_body("hang", stream), timeout=60
    )
    elapsed = time.monotonic() - started
    error = assert_openai_error(response, 504)
    assert error["type"] == "server_error"
    assert elapsed >= FIRST_BYTE_TIMEOUT - 0.5  # it waited that long first


async def test_upstream_stalling_mid_stream_ends_with_an_error_frame(
    proxy: AiportProcess, upstream: FakeUpstream
) -> None:
    tag = uuid.uuid4().hex
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            proxy.base_url + "/v1/chat/completions",
            json={**chat_body("first-then-sleep-60000"), "user": tag},
            headers=AUTH,
            timeout=aiohttp.ClientTimeout(total=50),
        ) as response,
    ):
        assert response.status == 200
        raw = await response.read()
    events = sse_events(raw)
    assert b"[DONE]" not in events
    last = orjson.loads(events[-1])
    assert set(last["error"]) == {"message", "type", "param", "code"}
    assert last["error"]["code"] == "upstream_timeout"
    # The proxy ended it while the upstream still stalled after its first word.
    assert upstream.sent_chunks[tag] == 1


async def test_client_disconnect_reaches_the_upstream(
    proxy: AiportProcess, upstream: FakeUpstream
) -> None:
    seen = len(upstream.stream_events)
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            proxy.base_url + "/v1/chat/completions", json=chat_body("endless"), headers=AUTH
        )
        assert response.status == 200
        received = b""
        while received.count(b"\n\n") < 5:
            received += await response.content.readany()
        response.close()  # the client goes away mid-stream
    # The upstream streams forever: only the proxy closing its side ends it.
    assert wait_for(lambda: "client_gone" in upstream.stream_events[seen:], timeout=30), (
        upstream.stream_events[seen:]
    )


async def test_client_leaving_before_the_first_byte_reaches_the_upstream(
    proxy: AiportProcess, upstream: FakeUpstream
) -> None:
    seen = len(upstream.stream_events)
    closed = '"POST /v1/chat/completions 499'  # the access log's line for a client gone
    logged = proxy.log().count(closed)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            await session.post(
                proxy.base_url + "/v1/chat/completions",
                json=chat_body("hang"),
                headers=AUTH,
                timeout=aiohttp.ClientTimeout(total=0.5),
            )
    # The upstream request was dropped with the client, not by the proxy's own first-byte
    # timeout: the access log says 499 (client gone), where a timeout would say 504.
    assert wait_for(lambda: "hang_abandoned" in upstream.stream_events[seen:], timeout=30)
    assert wait_for(lambda: proxy.log().count(closed) > logged, timeout=30)


async def test_first_chunk_is_passed_on_before_the_rest(
    proxy: AiportProcess, upstream: FakeUpstream
) -> None:
    tag = uuid.uuid4().hex
    arrivals: list[tuple[int, bytes]] = []  # (words the upstream had sent, event)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            proxy.base_url + "/v1/chat/completions",
            json={**chat_body("first-then-sleep-1500"), "user": tag},
            headers=AUTH,
        ) as response,
    ):
        buffer = b""
        async for piece in response.content.iter_any():
            buffer += piece
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                arrivals.append((upstream.sent_chunks.get(tag, 0), event))
    # "Hello" reached the client while the upstream, pausing after it, had sent nothing else.
    assert next(sent for sent, event in arrivals if b'"Hello"' in event) == 1, arrivals
    assert arrivals[-1] == (upstream.sent_chunks[tag], b"data: [DONE]")


def test_a_streamed_transcription_passes_each_event_on_as_it_arrives(
    proxy: AiportProcess, upstream: FakeUpstream
) -> None:
    """gpt-4o-transcribe's `stream: true` events were read whole before any was passed on;
    now the first delta reaches the SDK while the upstream, pausing after it, has sent
    nothing else — and the usage of its last event still bills the request."""
    tag = uuid.uuid4().hex
    client = openai.OpenAI(base_url=proxy.base_url + "/v1", api_key=MASTER_KEY, max_retries=0)
    stream = client.audio.transcriptions.create(
        model="first-then-sleep-1500", file=("a.wav", b"RIFF" + bytes(64)), stream=True, prompt=tag
    )
    arrivals = [(upstream.sent_chunks.get(tag, 0), event.type) for event in stream]
    assert arrivals[0] == (1, "transcript.text.delta"), arrivals
    assert arrivals[-1] == (3, "transcript.text.done")


def test_a_streamed_transcription_broken_off_ends_with_an_error_event(
    proxy: AiportProcess,
) -> None:
    """The upstream drops the connection after the first delta: the client gets that delta,
    then an error (never `transcript.text.done`, which would make a short transcript look
    whole)."""
    client = openai.OpenAI(base_url=proxy.base_url + "/v1", api_key=MASTER_KEY, max_retries=0)
    stream = client.audio.transcriptions.create(
        model="break-stream", file=("a.wav", b"RIFF" + bytes(64)), stream=True
    )
    seen: list[str] = []
    with pytest.raises(openai.APIError, match="broke off"):
        for event in stream:
            seen.append(event.type)
    assert seen == ["transcript.text.delta"]


@pytest.fixture(scope="module")
def impatient(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    """A proxy that allows a whole non-stream answer one second."""
    server = AiportProcess(
        tmp_path_factory.mktemp("impatient"),
        config=proxy_config(upstream, timeout=1),
        env={"OPENAI_API_KEY": UPSTREAM_KEY},
    ).start()
    yield server
    server.stop()


def test_whole_answer_timeout_bounds_plain_answers_only(impatient: AiportProcess) -> None:
    # The upstream answers after 1.5 s: a 504 is the proxy giving up at its 1 s.
    response = raw_request(
        impatient.base_url + "/v1/chat/completions", chat_body("slow-1500", False)
    )
    assert_openai_error(response, 504)
    # A stream may take longer than that in total, as long as it keeps moving.
    response = raw_request(impatient.base_url + "/v1/chat/completions", chat_body("slow-1500"))
    assert response.status == 200
    assert sse_events(response.body)[-1] == b"[DONE]"


async def test_speech_broken_mid_stream_cuts_the_download(proxy: AiportProcess) -> None:
    """Audio has no in-band error: the client must see a broken body, never a hang (a hang
    would end in the client's own timeout, not in a payload error)."""
    received = b""
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            proxy.base_url + "/v1/audio/speech",
            json={"model": "break-stream", "input": "Hallo", "voice": "alloy"},
            headers=AUTH,
            timeout=aiohttp.ClientTimeout(total=10),
        )
        assert response.status == 200  # the audio had begun when the upstream broke
        with pytest.raises(aiohttp.ClientPayloadError):
            async for piece in response.content.iter_any():
                received += piece
        response.close()
    assert received == (b"\xff\xfb" + b"\x00" * 1022) * 2  # what came before the break
    # The connection was not reused for a second, garbled answer: the next request is fine.
    assert raw_request(proxy.base_url + "/health", key=None).status == 200


def test_speech_events_broken_mid_stream_end_with_an_error_event(proxy: AiportProcess) -> None:
    """The upstream's `speech.audio.*` events pass through; when it breaks off, the event it
    left half-sent is ended and an `error` event follows, as OpenAI's streams end."""
    body = {"model": "break-stream", "input": "Hallo", "voice": "alloy", "stream_format": "sse"}
    response = raw_request(proxy.base_url + "/v1/audio/speech", body)
    events = sse_events(response.body)
    assert response.status == 200
    assert orjson.loads(events[0])["type"] == "speech.audio.delta"
    assert orjson.loads(events[-1]) == {
        "type": "error",
        "error": {
            "message": "The upstream `openai` broke off the audio.",
            "type": "server_error",
            "param": None,
            "code": "upstream_error",
        },
    }

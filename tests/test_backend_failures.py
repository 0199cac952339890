"""An engine that fails in an unexpected way still gets the client a proper OpenAI error
(or, once streaming, an error frame), never a hang or a bare 500 page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import openai
import orjson
import pytest

from tests.support.log_lines import wait_for_line
from tests.support.routing import usage_row
from tests.support.server import MASTER_KEY, AiportProcess, raw_request, sse_events

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AiportProcess]:
    off = {"enabled": False}
    engines = {kind: off for kind in ("chat", "embeddings", "speech", "transcription")}
    engines |= {"moderation": off, "images": off}
    engines["faulty"] = {"backend": "tests.support.faulty_backend:FaultyBackend"}
    process = AiportProcess(
        tmp_path_factory.mktemp("faulty"),
        config={"local": {"engines": engines}},
        env={"PYTHONPATH": str(ROOT)},
    ).start()
    yield process
    process.stop()


def test_an_inner_timeout_is_a_504(server: AiportProcess) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        server.client().chat.completions.create(
            model="times-out", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 504
    assert caught.value.body["code"] == "upstream_timeout"  # type: ignore[index]


def test_a_crash_is_a_500_in_openai_shape(server: AiportProcess) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        server.client().chat.completions.create(
            model="crashes", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.response.headers["x-request-id"].startswith("req_")
    assert "crashed" not in caught.value.response.text  # internals stay in the log
    assert "the engine crashed" in server.log()


def test_a_crash_mid_stream_ends_with_one_error_frame(server: AiportProcess) -> None:
    body = {"model": "crashes", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    response = raw_request(server.base_url + "/v1/chat/completions", body)
    events = sse_events(response.body)
    assert response.status == 200
    assert b'"error"' in events[-1] and b"[DONE]" not in events
    row = usage_row(server, response.headers["x-request-id"])  # says what went wrong
    assert (row["status"], row["error_type"]) == (500, "server_error")


def test_a_defect_one_request_meets_is_not_retried_nor_held_against_the_engine(
    server: AiportProcess,
) -> None:
    """A request whose input meets a defect in an engine's own code (a TypeError, an
    AttributeError...) gets a 500 at once: asking again would meet it again, and it says
    nothing about the engine's health — ten of them must not eject the model for everyone
    (five failures open a breaker)."""
    parts = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    request_ids = []
    for _ in range(10):
        response = raw_request(
            server.base_url + "/v1/chat/completions", {"model": "picky", "messages": parts}
        )
        assert response.status == 500, response.body[:200]
        request_ids.append(response.headers["x-request-id"])
    access = [wait_for_line(server, rid, '"logger":"aiport.access"') for rid in request_ids]
    assert [len(line["attempts"]) for line in access] == [1] * 10  # none retried
    answer = server.client().chat.completions.create(
        model="picky", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "HI"


def test_a_defect_met_mid_stream_is_not_held_against_the_engine(server: AiportProcess) -> None:
    """The same defect after a stream's first chunk: each stream ends with an error frame,
    and the model stays open to everyone else."""
    parts = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    for _ in range(20):
        body = {"model": "picky", "stream": True, "messages": parts}
        response = raw_request(server.base_url + "/v1/chat/completions", body)
        events = sse_events(response.body)
        assert response.status == 200
        assert b'"error"' in events[-1] and b"[DONE]" not in events
    answer = server.client().chat.completions.create(
        model="picky", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "HI"


async def test_speech_failing_mid_stream_is_a_broken_download(server: AiportProcess) -> None:
    """Raw audio has no in-band error: the chunked body is cut short, never ended cleanly,
    so a client cannot take the truncated audio for the whole answer."""
    received = b""
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            server.base_url + "/v1/audio/speech",
            json={"model": "crashes", "input": "Hallo", "voice": "alloy"},
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
            timeout=aiohttp.ClientTimeout(total=10),
        )
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            async for piece in response.content.iter_any():
                received += piece
        request_id = response.headers["x-request-id"]
        response.close()
    assert received == b"RIFF" + bytes(60)
    row = usage_row(server, request_id)  # billed the audio that went out, failure noted
    assert (row["status"], row["error_type"], row["characters"]) == (500, "server_error", 5)


def test_speech_events_failing_mid_stream_end_with_an_error_event(server: AiportProcess) -> None:
    """`stream_format: "sse"`: the audio so far, then an `error` event as OpenAI's streams
    end (no `speech.audio.done`), which the SDK's stream reader raises."""
    body = {"model": "crashes", "input": "Hallo", "voice": "alloy", "stream_format": "sse"}
    response = raw_request(server.base_url + "/v1/audio/speech", body)
    events = [orjson.loads(event) for event in sse_events(response.body)]
    assert response.status == 200
    assert [event["type"] for event in events] == ["speech.audio.delta", "error"]
    assert events[-1]["error"]["type"] == "server_error"
    assert "crashed" not in response.body.decode()  # internals stay in the log
    row = usage_row(server, response.headers["x-request-id"])
    assert (row["status"], row["error_type"], row["characters"]) == (500, "server_error", 5)

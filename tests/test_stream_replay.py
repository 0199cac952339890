"""Recorded OpenAI streams pass through aiport byte for byte.

The fake upstream replays each recording (`replay-<sha>`) in uneven 97-byte pieces, so
events arrive split across reads. aiport always asks upstream for usage (to meter it);
a client that asked for it too gets the recording unchanged, a client that did not gets
it without the usage chunk and nothing else touched.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest

from tests.support.fake_upstream import FakeUpstream, streams_dir
from tests.support.server import MASTER_KEY, AiportProcess, raw_request, sse_events

SHAS = sorted(path.stem for path in streams_dir().glob("*.bin"))
MESSAGES = [{"role": "user", "content": "Replay, please."}]


def recording(sha: str) -> bytes:
    return (streams_dir() / f"{sha}.bin").read_bytes()


def without_usage_chunk(data: bytes) -> bytes:
    """The recording as OpenAI would have sent it without `include_usage`."""
    events = data.split(b"\n\n")
    kept = [event for event in events if not _is_usage_chunk(event)]
    assert len(kept) == len(events) - 1, "each recording has exactly one usage chunk"
    return b"\n\n".join(kept)


def _is_usage_chunk(event: bytes) -> bool:
    if not event.startswith(b"data: {"):
        return False
    chunk = orjson.loads(event[len(b"data: ") :])
    return chunk.get("choices") == [] and chunk.get("usage") is not None


def stream_through(proxy: AiportProcess, sha: str, stream_options: Any) -> bytes:
    body: dict[str, Any] = {"model": f"replay-{sha}", "messages": MESSAGES, "stream": True}
    if stream_options is not None:
        body["stream_options"] = stream_options
    response = raw_request(proxy.base_url + "/v1/chat/completions", body)
    assert response.status == 200, response.body[:300]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"].startswith("req_")
    return response.body


def test_there_are_recordings() -> None:
    assert len(SHAS) >= 10, streams_dir()


@pytest.mark.parametrize("sha", SHAS, ids=[sha[:8] for sha in SHAS])
def test_stream_with_usage_is_byte_identical(
    proxy: AiportProcess, upstream: FakeUpstream, sha: str
) -> None:
    received = stream_through(proxy, sha, {"include_usage": True})
    assert received == recording(sha)
    assert upstream.last("/chat/completions")["body"]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("stream_options", [None, {"include_usage": False}], ids=["none", "false"])
@pytest.mark.parametrize("sha", SHAS, ids=[sha[:8] for sha in SHAS])
def test_stream_without_usage_lacks_only_the_usage_chunk(
    proxy: AiportProcess, upstream: FakeUpstream, sha: str, stream_options: Any
) -> None:
    received = stream_through(proxy, sha, stream_options)
    assert received == without_usage_chunk(recording(sha))
    # Usage is asked of the upstream all the same, for metering.
    sent = upstream.last("/chat/completions")["body"]
    assert sent["model"] == f"replay-{sha}"
    assert sent["stream_options"]["include_usage"] is True


@pytest.mark.parametrize("sha", SHAS, ids=[sha[:8] for sha in SHAS])
def test_sdk_parses_every_chunk(proxy: AiportProcess, sha: str) -> None:
    expected = [orjson.loads(e) for e in sse_events(recording(sha)) if e != b"[DONE]"]
    stream = proxy.client().chat.completions.create(
        model=f"replay-{sha}",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert [c.model_dump(exclude_unset=True) for c in chunks] == expected
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-2].choices[0].finish_reason is not None


async def test_concurrent_streams_do_not_mix(proxy: AiportProcess) -> None:
    async def one(session: aiohttp.ClientSession, sha: str, usage: bool) -> bool:
        body = {
            "model": f"replay-{sha}",
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": usage},
        }
        async with session.post(proxy.base_url + "/v1/chat/completions", json=body) as response:
            received = await response.read()
        expected = recording(sha) if usage else without_usage_chunk(recording(sha))
        return received == expected

    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        results = await asyncio.gather(
            *(one(session, sha, usage) for sha in SHAS * 2 for usage in (True, False))
        )
    assert all(results) and len(results) == 4 * len(SHAS)

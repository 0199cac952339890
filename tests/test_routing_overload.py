"""Overload through a real `aiport serve`: the instance's in-flight cap with its short fair
queue per key, and backpressure: a client that reads slowly stops the upstream instead of
making aiport buffer the stream."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest

from tests.support.faulty_upstream import (
    SSE_HEAD,
    FaultyUpstream,
    Pause,
    Repeat,
    answer,
    chat_chunk,
    chat_completion,
    chunked,
    module_upstream,
)
from tests.support.routing import create_key
from tests.support.server import MASTER_KEY, NO_RESILIENCE, AiportProcess

MESSAGES: Any = [{"role": "user", "content": "Hallo!"}]
SLOW = 0.6


upstream = module_upstream()


@pytest.fixture(scope="module")
def gateway(
    upstream: FaultyUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    config = {
        "providers": {"openai": {"base_url": upstream.url}},
        "default_provider": "openai",
        "router": {**NO_RESILIENCE, "max_in_flight": 2, "queue": {"max_wait": 3, "per_key": 2}},
        "local": {"enabled": False},
    }
    server = AiportProcess(tmp_path_factory.mktemp("overload"), config=config).start()
    yield server
    server.stop()


async def test_past_the_cap_keys_wait_in_turn_and_a_full_queue_is_refused_at_once(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    upstream.script("slow-m", [Pause(SLOW), *answer(chat_completion("done", model="slow-m"))])
    busy = gateway.async_client(create_key(gateway))
    quiet = gateway.async_client(create_key(gateway))
    finished: list[str] = []

    async def one(client: openai.AsyncOpenAI, who: str) -> tuple[int, float, Any]:
        started = time.monotonic()
        try:
            await client.chat.completions.create(model="slow-m", messages=MESSAGES)
        except openai.APIStatusError as exc:
            return exc.status_code, time.monotonic() - started, exc
        finished.append(who)
        return 200, time.monotonic() - started, None

    busy_calls = [asyncio.create_task(one(busy, "busy")) for _ in range(6)]
    await asyncio.sleep(0.1)  # two run, two wait, two are refused
    quiet_call = asyncio.create_task(one(quiet, "quiet"))
    results = await asyncio.gather(*busy_calls, quiet_call)
    refused = [r for r in results if r[0] == 503]
    assert len(refused) == 2
    for _, after, exc in refused:
        assert after < 0.3  # at once, not after waiting
        assert exc.code == "server_is_overloaded"
        assert exc.response.headers["retry-after"] == "1"
    assert sum(1 for r in results if r[0] == 200) == 5
    # Slots go key by key: the quiet key's one request is not behind all of the busy key's.
    assert finished.index("quiet") < len(finished) - 1, finished


def test_a_slow_reader_holds_the_upstream_back(
    gateway: AiportProcess, upstream: FaultyUpstream
) -> None:
    event = chunked(chat_chunk("x" * 65536, "flood-m"))
    upstream.script("flood-m", [SSE_HEAD, Repeat(event)])
    rss_before = _rss_mb(gateway)
    body = orjson.dumps({"model": "flood-m", "messages": MESSAGES, "stream": True})
    with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {MASTER_KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert b" 200 " in sock.recv(65536)[:20]
        time.sleep(1.0)  # not reading: buffers fill up, then everything should stop
        written = upstream.repeated_bytes
        time.sleep(2.0)
        stalled = upstream.repeated_bytes - written
        rss_after = _rss_mb(gateway)
    # With nobody reading, the upstream could send gigabytes in these seconds; it is held
    # to what the socket buffers and aiport's read-ahead (1 MiB) take, then stops.
    assert upstream.repeated_bytes < 64 * 1024 * 1024, upstream.repeated_bytes
    assert stalled < 2 * 1024 * 1024, stalled
    assert rss_after - rss_before < 64, (rss_before, rss_after)


def _rss_mb(server: AiportProcess) -> float:
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

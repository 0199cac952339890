"""The upstream HTTP client (`Pool`) against an upstream that misbehaves byte by byte
(tests/support/faulty_upstream.py): interim answers, stale connections, compression, caps."""

from __future__ import annotations

import asyncio
import zlib

import brotli
import pytest

from aiport.backends.http_client import (
    Pool,
    UpstreamBadAnswer,
    UpstreamConnectionError,
    UpstreamTimeout,
)
from tests.support.faulty_upstream import (
    FaultyUpstream,
    accept_then_close,
    answer,
    compressed,
    gzip_bomb,
    interim_then,
    length_mismatch,
    module_upstream,
    slow_first_byte,
)

upstream = module_upstream()


@pytest.fixture
def faulty(upstream: FaultyUpstream) -> FaultyUpstream:
    upstream.clear()
    return upstream


def pool_for(upstream: FaultyUpstream, **options: float) -> Pool:
    return Pool(upstream.url, **({"connect_timeout": 2, "read_timeout": 2} | options))


def json_body(model: str) -> bytes:
    return b'{"model": "%s"}' % model.encode()


async def post(pool: Pool, model: str) -> tuple[int, bytes]:
    response = await pool.request(
        "POST", "/chat/completions", [("content-type", "application/json")], json_body(model)
    )
    try:
        return response.status, await response.read()
    finally:
        response.close()


@pytest.mark.parametrize("interim", [(103,), (100,), (100, 103)], ids=["103", "100", "100+103"])
async def test_interim_answers_are_skipped_and_the_next_caller_gets_its_own(
    faulty: FaultyUpstream, interim: tuple[int, ...]
) -> None:
    faulty.script("first", interim_then(answer(b'{"answer":"first"}'), *interim))
    faulty.script("second", answer(b'{"answer":"second"}'))
    pool = pool_for(faulty)
    assert await post(pool, "first") == (200, b'{"answer":"first"}')
    assert await post(pool, "second") == (200, b'{"answer":"second"}')
    assert faulty.connections_used == 1  # reused only after the complete final answer
    pool.close()


async def test_interim_and_final_answer_in_one_read(faulty: FaultyUpstream) -> None:
    final = answer(b'{"answer":"first"}')
    faulty.script("first", [interim_then(final, 103)[0] + final[0]])
    pool = pool_for(faulty)
    assert await post(pool, "first") == (200, b'{"answer":"first"}')
    assert await post(pool, "other")  # the default answer, on the same connection
    assert faulty.connections_used == 1
    pool.close()


async def test_a_stale_connection_retry_resends_the_whole_upload(faulty: FaultyUpstream) -> None:
    upload = [b"a" * 1000, b"b" * 13]  # made anew for each attempt
    path = "/v1/audio/transcriptions"
    faulty.script(path, answer(b"{}"), accept_then_close(), answer(b'{"text":"ok"}'))
    pool = pool_for(faulty)

    async def send() -> tuple[int, bytes]:
        headers = [("content-type", "application/octet-stream")]
        response = await pool.request(
            "POST", "/audio/transcriptions", headers, lambda: iter(upload), length=1013
        )
        try:
            return response.status, await response.read()
        finally:
            response.close()

    assert await send() == (200, b"{}")
    assert await send() == (200, b'{"text":"ok"}')  # the kept connection was stale: resent
    assert [len(r.body) for r in faulty.requests] == [1013, 1013, 1013]
    assert [r.connection for r in faulty.requests][1:] == [1, 2] or faulty.connections == 2
    pool.close()


async def test_identity_is_asked_for(faulty: FaultyUpstream) -> None:
    pool = pool_for(faulty)
    await post(pool, "any")
    assert faulty.requests[0].headers["accept-encoding"] == "identity"
    pool.close()


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate", "br"])
async def test_compressed_answers_are_decoded(faulty: FaultyUpstream, encoding: str) -> None:
    body = b'{"answer":"' + b"squeeze me " * 500 + b'"}'
    if encoding == "raw-deflate":  # deflate without its zlib wrapper, as some servers send
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        faulty.script(
            "c",
            answer(packer.compress(body) + packer.flush(), 200, {"content-encoding": "deflate"}),
        )
    elif encoding == "br":
        faulty.script("c", answer(brotli.compress(body), 200, {"content-encoding": "br"}))
    elif encoding == "x-gzip":
        faulty.script("c", compressed(body, "gzip", content_encoding="x-gzip"))
    else:
        faulty.script("c", compressed(body, encoding))
    pool = pool_for(faulty)
    assert await post(pool, "c") == (200, body)
    assert await post(pool, "next")  # the connection is still good
    assert faulty.connections_used == 1
    pool.close()


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_a_compression_bomb_is_refused_not_inflated(
    faulty: FaultyUpstream, encoding: str
) -> None:
    zeros = b"\0" * (8 << 20)
    if encoding == "gzip":
        faulty.script("bomb", gzip_bomb(8 << 20))
    else:
        faulty.script(
            "bomb", answer(brotli.compress(zeros, quality=1), 200, {"content-encoding": "br"})
        )
    pool = pool_for(faulty, max_body_bytes=1 << 20)
    with pytest.raises(UpstreamBadAnswer, match="limit"):
        await post(pool, "bomb")
    pool.close()


async def test_an_answer_over_the_cap_is_refused(faulty: FaultyUpstream) -> None:
    faulty.script("big", answer(b"x" * 300_000))
    pool = pool_for(faulty, max_body_bytes=100_000)
    with pytest.raises(UpstreamBadAnswer, match="100,000 byte limit"):
        await post(pool, "big")
    assert await post(pool, "small")  # on a new connection
    pool.close()


async def test_an_unknown_encoding_is_refused_at_the_head(faulty: FaultyUpstream) -> None:
    faulty.script("z", answer(b"??", 200, {"content-encoding": "zstd"}))
    pool = pool_for(faulty)
    with pytest.raises(UpstreamBadAnswer, match="zstd"):
        await pool.request(
            "POST", "/chat/completions", [("content-type", "application/json")], json_body("z")
        )
    pool.close()


async def test_connections_per_upstream_are_capped_and_callers_wait(
    faulty: FaultyUpstream,
) -> None:
    faulty.script("slow", slow_first_byte(0.1))
    pool = pool_for(faulty, max_connections=2)
    answers = await asyncio.gather(*(post(pool, "slow") for _ in range(6)))
    assert all(status == 200 for status, _ in answers)
    assert faulty.connections == 2
    pool.close()


async def test_a_caller_waiting_for_a_slot_times_out(faulty: FaultyUpstream) -> None:
    pool = pool_for(faulty, max_connections=1, read_timeout=0.3)
    held = await pool.request("POST", "/chat/completions", [], json_body("held"))
    with pytest.raises(UpstreamTimeout, match="busy"):
        await post(pool, "other")  # the only connection stays taken
    held.close()  # unread: the connection is dropped and its slot freed
    assert (await post(pool, "other"))[0] == 200
    pool.close()


async def test_a_lost_connection_releases_a_writer_waiting_to_send() -> None:
    async def swallow_then_reset(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await asyncio.sleep(0.2)  # reads nothing: the client's buffers fill up
        writer.transport.abort()

    server = await asyncio.start_server(swallow_then_reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = Pool(f"http://127.0.0.1:{port}/v1", connect_timeout=2, read_timeout=60)
    pieces = [b"x" * (1 << 20)] * 64
    upload = pool.request(
        "POST", "/audio/transcriptions", [], lambda: iter(pieces), length=64 << 20
    )
    with pytest.raises(UpstreamConnectionError):
        await asyncio.wait_for(upload, 10)  # not the 60 s read timeout, nor forever
    server.close()
    pool.close()


async def test_an_ipv6_base_url_gets_a_bracketed_host_header() -> None:
    upstream = FaultyUpstream(host="::1").start()  # the machines here have IPv6 loopback
    pool = Pool(upstream.url, connect_timeout=2, read_timeout=2)
    assert (await post(pool, "v6"))[0] == 200
    assert upstream.requests[0].headers["host"] == f"[::1]:{upstream.port}"
    pool.close()
    upstream.stop()


async def test_a_short_body_is_an_error_not_an_answer(faulty: FaultyUpstream) -> None:
    faulty.script("short", length_mismatch())
    pool = pool_for(faulty)
    with pytest.raises(UpstreamConnectionError):
        await post(pool, "short")
    pool.close()

"""The upstream client's keep-alive pool, against a real server on loopback that counts
its connections and can close them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aiport.backends.http_client import Pool, UpstreamTimeout

BODY = b'{"ok":true}'


class CountingServer:
    def __init__(self, close_after_answer: bool = False, silent: bool = False) -> None:
        self.connections = 0
        self.heads: list[bytes] = []
        self.close_after_answer = close_after_answer
        self.silent = silent
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                if self.silent:
                    continue
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(BODY), BODY)
                )
                await writer.drain()
                if self.close_after_answer:
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
async def make_server() -> AsyncIterator[type[CountingServer]]:
    servers: list[CountingServer] = []

    class Started(CountingServer):
        def __init__(self, **kwargs: bool) -> None:
            super().__init__(**kwargs)
            servers.append(self)

    async def start(**kwargs: bool) -> CountingServer:
        server = Started(**kwargs)
        server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        assert server.server is not None
        server.server.close()


async def post(pool: Pool) -> bytes:
    response = await pool.request("POST", "/chat/completions", [], b"{}")
    try:
        return await response.read()
    finally:
        response.close()


async def test_sequential_requests_share_one_connection(make_server) -> None:  # type: ignore[no-untyped-def]
    server = await make_server()
    pool = Pool(server.url, connect_timeout=2, read_timeout=2)
    for _ in range(5):
        assert await post(pool) == BODY
    assert server.connections == 1
    pool.close()


async def test_an_unread_answer_drops_its_connection(make_server) -> None:  # type: ignore[no-untyped-def]
    server = await make_server()
    pool = Pool(server.url, connect_timeout=2, read_timeout=2)
    response = await pool.request("POST", "/chat/completions", [], b"{}")
    response.close()  # as when the client went away before the body was read
    assert await post(pool) == BODY
    assert server.connections == 2
    pool.close()


async def test_a_connection_the_upstream_closed_is_not_reused(make_server) -> None:  # type: ignore[no-untyped-def]
    server = await make_server(close_after_answer=True)
    pool = Pool(server.url, connect_timeout=2, read_timeout=2)
    for _ in range(3):
        assert await post(pool) == BODY
    assert server.connections == 3
    pool.close()


async def test_a_silent_upstream_times_out(make_server) -> None:  # type: ignore[no-untyped-def]
    server = await make_server(silent=True)
    pool = Pool(server.url, connect_timeout=2, read_timeout=0.3)
    with pytest.raises(UpstreamTimeout):
        await post(pool)
    pool.close()


async def test_each_request_carries_its_own_headers_and_length(make_server) -> None:  # type: ignore[no-untyped-def]
    """The head of a provider's usual request is built once and remembered; a request with
    other headers (a traceparent of its own) or another body length never gets it."""
    server = await make_server()
    pool = Pool(server.url, connect_timeout=2, read_timeout=2)
    usual = [("authorization", "Bearer sk-upstream"), ("content-type", "application/json")]
    traced = [*usual, ("traceparent", "00-" + "1" * 32 + "-" + "2" * 16 + "-01")]
    for headers, body in ((usual, b"{}"), (traced, b'{"a":1}'), (usual, b"[]"), (usual, b"")):
        response = await pool.request("POST", "/chat/completions", headers, body)
        assert await response.read() == BODY
        response.close()
    first, with_trace, again, empty = (h.decode() for h in server.heads)
    assert first == again
    assert "traceparent" in with_trace and "traceparent" not in again
    assert "content-length: 7\r\n" in with_trace and "content-length: 2\r\n" in again
    assert "content-length: 0\r\n" in empty  # a POST says so even when empty
    for head in (first, with_trace, again, empty):
        assert head.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
        assert head.endswith("\r\n\r\n") and head.count("\r\n\r\n") == 1
        assert "authorization: Bearer sk-upstream\r\n" in head
    pool.close()

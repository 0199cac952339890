"""A small HTTP/1.1 client for talking to upstreams: keep-alive pool, streaming, timeouts.

aiohttp's client spent over half of the proxy's CPU per request in profiles (request and
response objects, tracing hooks, cookie handling: machinery a proxy to one base URL does not
use); `benchmarks/upstream_client.py` measures it against aiohttp and httpx. This one writes
each request in one `write` and parses answers with httptools, the parser aiohttp and
uvicorn use themselves.

Contract: `await pool.request(...)` returns once the final status line and headers are in
(1xx interim heads are skipped), or raises `UpstreamTimeout` / `UpstreamConnectionError`.
The body is then read whole with `read()` or piece by piece with `chunks()`, decoded if the
upstream compressed it, and never more than `max_body_bytes` of it (`UpstreamBadAnswer`).
`close()` gives the connection back to the pool when the body was read to the end, and drops
it otherwise (a client that went away). A request on a reused connection that the upstream
had closed meanwhile is sent once more on a fresh one, but only when not a byte of an answer
arrived; a streamed body is given as a function that makes its pieces, so it can be resent.
At most `max_connections` connections are open per upstream; more callers wait for one.
`HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` are honoured (`http_proxy.py`).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from urllib.parse import urlsplit

import httptools

from aiport.backends.http_decoding import DecodeError, Decoder, decoder_for
from aiport.backends.http_proxy import open_tunnel, proxy_for

IDLE_SECONDS = 4.0  # under uvicorn's 5 s keep-alive, so idle connections are not raced
HIGH_WATER = 1 << 20  # stop reading from the upstream while this much is unconsumed
MAX_CONNECTIONS = 100
MAX_REMEMBERED_HEADS = 64  # request heads kept per pool (one per method and path in use)
MAX_BODY_BYTES = 128 << 20

# A request body: bytes, or a function that makes its pieces anew for each attempt.
Body = bytes | Callable[[], Iterable[bytes]]


class UpstreamConnectionError(Exception):
    """The upstream could not be reached, or dropped the connection mid-answer."""


class UpstreamBadAnswer(UpstreamConnectionError):
    """The upstream's answer is refused: over the size cap, or undecodable."""


class UpstreamTimeout(Exception):
    """The upstream took longer than allowed to connect, to answer, or between chunks."""


class _Connection(asyncio.Protocol):
    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.counted = False  # holds one of the pool's `max_connections` slots
        self.idle_since = 0.0
        self.reused = False
        self.response: Response | None = None
        self.drain: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.response is None:
            self.close()  # bytes nobody asked for: the connection cannot be trusted
            return
        self.response.received_any = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.response.fail(UpstreamConnectionError("malformed HTTP answer"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.release(self)
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)  # a writer waiting to send more learns it is gone
        if self.response is not None and not self.response.complete:
            if self.response.headers_done and not self.response.framed:
                self.response.finish()  # a body delimited by the connection's end
            else:
                self.response.fail(UpstreamConnectionError("upstream closed the connection"))

    def pause_writing(self) -> None:
        self.drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)

    # -- httptools callbacks -------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.response is not None
        self.response.raw_headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        response = self.response
        assert response is not None
        status = self.parser.get_status_code()
        if status < 200:  # 100 Continue, 103 Early Hints: the answer is still to come
            response.raw_headers.clear()
            response.interim = True
            return
        response.status = status
        response.headers_done = True
        framed = False
        for name, value in response.raw_headers:
            if name == b"content-length" or name == b"transfer-encoding":
                framed = True
            elif name == b"content-encoding":
                response.decode_as(value)
        response.framed = framed
        response.wake()

    def on_body(self, body: bytes) -> None:
        assert self.response is not None
        self.response.feed(body)

    def on_message_complete(self) -> None:
        assert self.response is not None
        if self.response.interim:
            self.response.interim = False
            return
        # Asked here: after the callback returns, httptools no longer answers it.
        self.response.keep_alive = self.parser.should_keep_alive()
        self.response.finish()

    # -- use -----------------------------------------------------------------------------

    def close(self) -> None:
        self.closed = True
        self.pool.release(self)
        if self.transport is not None:
            self.transport.close()


class Response:
    __slots__ = (  # one per upstream request: made and read faster without a __dict__
        "_body_size",
        "_buffered",
        "_decoder",
        "_pieces",
        "_released",
        "_waiter",
        "complete",
        "connection",
        "deadline",
        "error",
        "framed",
        "headers_done",
        "interim",
        "keep_alive",
        "max_body",
        "raw_headers",
        "read_timeout",
        "received_any",
        "status",
    )

    def __init__(self, connection: _Connection, read_timeout: float, max_body: int) -> None:
        self.connection = connection
        self.read_timeout = read_timeout
        self.deadline: float | None = None  # loop time by which the whole answer must be in
        self.max_body = max_body
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.interim = False
        self.framed = True
        self.received_any = False
        self.complete = False
        self.keep_alive = False
        self._decoder: Decoder | None = None
        self._pieces: deque[bytes] = deque()
        self._buffered = 0
        self._body_size = 0
        self.error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._released = False

    @property
    def headers(self) -> dict[str, str]:
        return {name.decode("latin-1"): value.decode("latin-1") for name, value in self.raw_headers}

    # -- fed by the connection -----------------------------------------------------------

    def decode_as(self, encoding: bytes) -> None:
        try:
            self._decoder = decoder_for(encoding.decode("latin-1"))
        except DecodeError as exc:
            self._refuse(exc)

    def feed(self, piece: bytes) -> None:
        if self.error is not None:
            return
        if self._decoder is not None:
            try:
                piece = self._decoder.decode(piece, self.max_body - self._body_size)
            except DecodeError as exc:
                self._refuse(exc)
                return
        self._body_size += len(piece)
        if self._body_size > self.max_body:
            self._refuse(DecodeError(f"the answer is over the {self.max_body:,} byte limit"))
            return
        self._pieces.append(piece)
        self._buffered += len(piece)
        if self._buffered > HIGH_WATER and self.connection.transport is not None:
            self.connection.transport.pause_reading()
        self.wake()

    def _refuse(self, reason: Exception) -> None:
        self.fail(UpstreamBadAnswer(str(reason)))
        self.connection.close()

    def finish(self) -> None:
        self.complete = True
        self.wake()

    def fail(self, error: Exception) -> None:
        self.error = error
        self.wake()

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self, message: str) -> None:
        """Until the connection has news (headers, body, end, failure), or `read_timeout`
        (or `deadline`, when that comes first).

        A future and a timer rather than `asyncio.wait_for`, which makes a task per call;
        this runs several times per proxied request."""
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        delay = self.read_timeout
        if self.deadline is not None:
            delay = min(delay, self.deadline - loop.time())
        timer = loop.call_later(delay, _expire, waiter, message)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    # -- read by the backend -------------------------------------------------------------

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (already de-chunked and decoded): everything received so
        far in one piece, so what came in one read (many HTTP chunks, often) is handled
        together."""
        while True:
            if self._pieces:
                piece = self._pieces[0] if len(self._pieces) == 1 else b"".join(self._pieces)
                self._pieces.clear()
                self._buffered = 0
                if self.connection.transport is not None:
                    self.connection.transport.resume_reading()
                yield piece
                continue
            if self.error is not None:
                raise self.error
            if self.complete:
                return
            await self.wait("upstream stalled mid-answer")

    async def read(self) -> bytes:
        """The whole body. `chunks()`'s loop, without an async generator: one per answer
        costs its making, the event loop's first-iteration hook and its finalising."""
        pieces: list[bytes] = []
        while True:
            if self._pieces:
                pieces += self._pieces
                self._pieces.clear()
                self._buffered = 0
                if self.connection.transport is not None:
                    self.connection.transport.resume_reading()
                continue
            if self.error is not None:
                raise self.error
            if self.complete:
                return b"".join(pieces)
            await self.wait("upstream stalled mid-answer")

    def close(self) -> None:
        """Back to the pool if the answer was read to its end and may be kept; else drop."""
        if self._released:
            return
        self._released = True
        connection = self.connection
        connection.response = None
        if self.complete and self.keep_alive and not self._pieces and self.error is None:
            connection.pool.put_back(connection)
        else:
            connection.close()


def _expire(waiter: asyncio.Future[None], message: str) -> None:
    if not waiter.done():
        waiter.set_exception(UpstreamTimeout(message))


class Pool:
    """Connections to one upstream origin (scheme, host, port)."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int = MAX_CONNECTIONS,
        max_body_bytes: int = MAX_BODY_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported upstream URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        self.host_header = (host if default_port else f"{host}:{self.port}").encode()
        self.authority = f"{host}:{self.port}".encode()
        self.ssl = (
            (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        )
        self.proxy = proxy_for(parts.scheme, self.host, self.port)
        # Through a proxy, an http request names its whole URL (absolute form).
        origin = f"http://{host}:{self.port}" if self.proxy and not self.ssl else ""
        self.path_prefix = origin + parts.path.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self.max_body_bytes = max_body_bytes
        self._idle: list[_Connection] = []
        # (method, path) -> (the header list, the request head without its length): the
        # provider's own header list is the same object on every request, so its head is
        # built once. A list made for one request (traceparent) never matches: it is
        # compared by identity, and kept here, so its id cannot be reused.
        self._heads: dict[tuple[str, str], tuple[Iterable[tuple[str, str]], bytes]] = {}
        self._open = 0  # connections open or opening, idle ones included
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def request(
        self,
        method: str,
        path: str,
        headers: Iterable[tuple[str, str]],
        body: Body = b"",
        *,
        length: int | None = None,
        read_timeout: float | None = None,
        connect_timeout: float | None = None,
        deadline: float | None = None,
    ) -> Response:
        """Send a request; `body` is bytes, or a function giving pieces of total `length`.
        The timeouts, when given, replace the pool's for this request; `deadline` (loop
        time) bounds the whole answer, head and body."""
        head = self._head(method, path, headers, len(body) if isinstance(body, bytes) else length)
        for attempt in (1, 2):
            # An idle connection at hand is taken without a coroutine (most requests).
            connection = self._idle_one() if attempt == 1 else None
            if connection is None:
                connection = await self._acquire(attempt == 2, connect_timeout)
            response = Response(connection, read_timeout or self.read_timeout, self.max_body_bytes)
            response.deadline = deadline
            connection.response = response
            try:
                transport = connection.transport
                if isinstance(body, bytes) and transport is not None and not connection.closed:
                    transport.write(head + body)  # `_send`'s, without a coroutine
                else:
                    await self._send(connection, head, body)
                while not (response.headers_done or response.complete or response.error):
                    await response.wait("upstream did not answer in time")
            except BaseException:
                connection.close()
                raise
            if response.headers_done and response.error is None:
                return response
            connection.close()
            if not (connection.reused and not response.received_any and attempt == 1):
                raise response.error or UpstreamConnectionError("no answer from upstream")
        raise UpstreamConnectionError("no answer from upstream")

    def _head(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], length: int | None
    ) -> bytes:
        known = self._heads.get((method, path))
        if known is not None and known[0] is headers:
            head = known[1]
        else:
            head = self._head_lines(method, path, headers)
            if len(self._heads) < MAX_REMEMBERED_HEADS:
                self._heads[(method, path)] = (headers, head)
        if length is not None and (length or method not in ("GET", "HEAD")):
            return head + b"content-length: %d\r\n\r\n" % length
        return head + b"\r\n"

    def _head_lines(self, method: str, path: str, headers: Iterable[tuple[str, str]]) -> bytes:
        """The request line and headers, each line ending in CRLF (the blank line not yet)."""
        lines = [
            f"{method} {self.path_prefix}{path} HTTP/1.1".encode(),
            b"host: " + self.host_header,
            b"accept-encoding: identity",
        ]
        if self.proxy is not None and self.proxy.authorization and self.ssl is None:
            lines.append(self.proxy.authorization)
        lines += [f"{name}: {value}".encode("latin-1") for name, value in headers]
        return b"\r\n".join(lines) + b"\r\n"

    async def _send(self, connection: _Connection, head: bytes, body: Body) -> None:
        transport = connection.transport
        if transport is None or connection.closed:
            raise UpstreamConnectionError("connection closed")
        if isinstance(body, bytes):
            transport.write(head + body)  # one write: no partial requests waiting on Nagle
            return
        transport.write(head)
        for piece in body():
            transport.write(piece)
            if connection.drain is not None and not connection.drain.done():
                await connection.drain
            if connection.closed:
                raise UpstreamConnectionError("upstream closed the connection mid-upload")

    def _idle_one(self) -> _Connection | None:
        """An idle connection still fit for use (the stale ones are closed on the way)."""
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                connection.reused = True
                return connection
            connection.close()
        return None

    async def _acquire(self, fresh: bool, connect_timeout: float | None = None) -> _Connection:
        while True:
            if not fresh:
                idle = self._idle_one()
                if idle is not None:
                    return idle
            if self._open < self.max_connections:
                break
            if self._idle:  # a fresh connection is wanted: make room
                self._idle.pop(0).close()
                continue
            await self._wait_for_a_slot()
        self._open += 1
        try:
            connection = await asyncio.wait_for(
                self._connect(), connect_timeout or self.connect_timeout
            )
            connection.counted = True
            return connection
        except BaseException as exc:
            self._open -= 1
            self._wake_one()
            if isinstance(exc, TimeoutError):
                raise UpstreamTimeout("connecting to the upstream timed out") from exc
            if isinstance(exc, OSError):
                raise UpstreamConnectionError(f"cannot connect: {exc.strerror or exc}") from exc
            raise

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if self.proxy is None or self.ssl is None:
            host, port = (
                (self.proxy.host, self.proxy.port) if self.proxy else (self.host, self.port)
            )
            _, connection = await loop.create_connection(
                lambda: _Connection(self),
                host,
                port,
                ssl=self.ssl,
                server_hostname=self.host if self.ssl else None,
            )
            return connection
        tunnel = await open_tunnel(self.proxy, self.authority)
        connection = _Connection(self)
        try:
            tls = await loop.start_tls(tunnel, connection, self.ssl, server_hostname=self.host)
        except BaseException:
            tunnel.close()
            raise
        if tls is None:
            raise UpstreamConnectionError("TLS through the proxy failed")
        connection.connection_made(tls)
        return connection

    async def _wait_for_a_slot(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, self.read_timeout)
        except TimeoutError:
            raise UpstreamTimeout(
                f"all {self.max_connections} connections to the upstream stayed busy"
            ) from None
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # pass on the slot this waiter was given
            raise

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def release(self, connection: _Connection) -> None:
        """A connection closed: its slot is free."""
        if connection.counted:
            connection.counted = False
            self._open -= 1
            self._wake_one()

    def put_back(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        connection.parser = httptools.HttpResponseParser(connection)
        self._idle.append(connection)
        if self._waiters:
            self._wake_one()

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

"""A forward HTTP proxy on loopback, as corporate networks have: CONNECT tunnels for https
and absolute-form requests for http, relayed byte for byte. It records each request line
and its headers, and can refuse tunnels (`refuse=407`)."""

from __future__ import annotations

import asyncio
import contextlib


class LoopbackProxy:
    def __init__(self, refuse: int | None = None) -> None:
        self.refuse = refuse
        self.request_lines: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> LoopbackProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        line, *fields = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        self.request_lines.append(line)
        self.headers.append(
            {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
        )
        method, target, _ = line.split(" ")
        if method == "CONNECT" and self.refuse:
            writer.write(b"HTTP/1.1 %d Refused\r\ncontent-length: 0\r\n\r\n" % self.refuse)
            writer.close()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            first = b""
        else:  # absolute form: http://host:port/path; origin servers accept it as it is
            authority = target.split("/")[2]
            host, _, port = authority.rpartition(":")
            first = head
        try:
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            writer.close()
            return
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        up_writer.write(first)
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.close()

"""The HTTP proxy an upstream is reached through, from `HTTPS_PROXY`, `HTTP_PROXY` and
`NO_PROXY` (as the OpenAI SDK and curl read them), and the CONNECT tunnel for https.

An http upstream behind a proxy gets absolute-form requests (`POST http://host/v1/... HTTP/1.1`)
sent to the proxy; an https upstream gets a `CONNECT host:443` tunnel, with TLS to the
upstream inside it. Proxies are reached over plain TCP (`http://` proxy URLs, the usual).
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment  # type: ignore[attr-defined]


class ProxyError(ConnectionError):
    """The proxy refused or broke the tunnel."""


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: bytes | None  # a `proxy-authorization` header line, without CRLF

    @classmethod
    def from_url(cls, url: str) -> Proxy:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"unsupported proxy URL {url!r}: use http://host:port")
        authorization = None
        if parts.username is not None:
            secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            token = base64.b64encode(secret.encode()).decode()
            authorization = f"proxy-authorization: Basic {token}".encode()
        return cls(parts.hostname, parts.port or 80, authorization)


def proxy_for(scheme: str, host: str, port: int) -> Proxy | None:
    """The proxy the environment names for this upstream, unless `NO_PROXY` exempts it."""
    proxies = getproxies_environment()
    url = proxies.get(scheme)
    if not url or proxy_bypass_environment(host, proxies):
        return None
    if proxy_bypass_environment(f"{host}:{port}", proxies):
        return None
    return Proxy.from_url(url)


async def open_tunnel(proxy: Proxy, authority: bytes) -> asyncio.Transport:
    """A TCP connection through `proxy` to `authority` (host:port), ready for TLS."""
    loop = asyncio.get_running_loop()
    transport, handshake = await loop.create_connection(_ConnectHandshake, proxy.host, proxy.port)
    lines = [b"CONNECT " + authority + b" HTTP/1.1", b"host: " + authority]
    if proxy.authorization is not None:
        lines.append(proxy.authorization)
    transport.write(b"\r\n".join(lines) + b"\r\n\r\n")
    try:
        status = await handshake.status
    except BaseException:
        transport.close()
        raise
    if not 200 <= status < 300:
        transport.close()
        raise ProxyError(f"the proxy refused the tunnel with status {status}")
    return transport


class _ConnectHandshake(asyncio.Protocol):
    """Reads the proxy's answer to CONNECT; the TLS layer takes the transport over after."""

    def __init__(self) -> None:
        self.status: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._head = b""

    def data_received(self, data: bytes) -> None:
        self._head += data
        if b"\r\n\r\n" in self._head and not self.status.done():
            try:
                self.status.set_result(int(self._head.split(b" ", 2)[1]))
            except (IndexError, ValueError):
                self.status.set_exception(ProxyError("the proxy answered CONNECT with garbage"))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.status.done():
            self.status.set_exception(ProxyError("the proxy closed the CONNECT tunnel"))

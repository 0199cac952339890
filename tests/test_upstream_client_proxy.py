"""The upstream client behind an HTTP proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, as the OpenAI
SDK reads them) and over HTTPS, against a loopback proxy and a loopback upstream whose
self-signed certificate the test trusts."""

from __future__ import annotations

import base64
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aiport.backends.http_client import Pool, UpstreamConnectionError
from tests.support.faulty_upstream import FaultyUpstream, module_upstream
from tests.support.http_proxy import LoopbackProxy

CHAT = [("content-type", "application/json")]
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl CLI."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def https_upstream(certificate: tuple[Path, Path]) -> Iterator[FaultyUpstream]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = FaultyUpstream(ssl=context).start()
    yield server
    server.stop()


http_upstream = module_upstream("http_upstream")


@pytest.fixture
def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variables but the ones a test sets."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.fixture
async def proxy() -> AsyncIterator[LoopbackProxy]:
    server = await LoopbackProxy().start()
    yield server
    server.close()


async def status_of(pool: Pool) -> int:
    response = await pool.request("POST", "/chat/completions", CHAT, b'{"model": "p"}')
    try:
        await response.read()
        return response.status
    finally:
        response.close()


async def test_https_upstream_with_a_trusted_certificate(
    environment: pytest.MonkeyPatch, https_upstream: FaultyUpstream, trusting: ssl.SSLContext
) -> None:
    pool = Pool(https_upstream.url, connect_timeout=2, read_timeout=2, ssl_context=trusting)
    assert await status_of(pool) == 200
    pool.close()
    untrusting = Pool(https_upstream.url, connect_timeout=2, read_timeout=2)
    with pytest.raises(UpstreamConnectionError):
        await status_of(untrusting)


async def test_http_upstream_through_the_proxy_in_absolute_form(
    environment: pytest.MonkeyPatch, http_upstream: FaultyUpstream, proxy: LoopbackProxy
) -> None:
    environment.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://me:p%40ss@"))
    pool = Pool(http_upstream.url, connect_timeout=2, read_timeout=2)
    assert await status_of(pool) == 200
    assert await status_of(pool) == 200  # kept alive through the proxy
    target = f"http://127.0.0.1:{http_upstream.port}/v1/chat/completions"
    assert proxy.request_lines == [f"POST {target} HTTP/1.1"]
    assert (
        proxy.headers[0]["proxy-authorization"] == "Basic " + base64.b64encode(b"me:p@ss").decode()
    )
    pool.close()


async def test_https_upstream_through_a_connect_tunnel(
    environment: pytest.MonkeyPatch,
    https_upstream: FaultyUpstream,
    proxy: LoopbackProxy,
    trusting: ssl.SSLContext,
) -> None:
    environment.setenv("https_proxy", proxy.url)
    environment.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # not for https upstreams
    pool = Pool(https_upstream.url, connect_timeout=2, read_timeout=2, ssl_context=trusting)
    assert await status_of(pool) == 200
    assert await status_of(pool) == 200
    authority = f"127.0.0.1:{https_upstream.port}"
    assert proxy.request_lines == [f"CONNECT {authority} HTTP/1.1"]
    assert proxy.headers[0]["host"] == authority
    pool.close()


async def test_no_proxy_exempts_an_upstream(
    environment: pytest.MonkeyPatch, http_upstream: FaultyUpstream, proxy: LoopbackProxy
) -> None:
    environment.setenv("HTTP_PROXY", proxy.url)
    environment.setenv("NO_PROXY", "example.com,127.0.0.1")
    pool = Pool(http_upstream.url, connect_timeout=2, read_timeout=2)
    assert await status_of(pool) == 200
    assert proxy.request_lines == []
    pool.close()


async def test_a_refused_tunnel_is_a_connection_error(
    environment: pytest.MonkeyPatch, https_upstream: FaultyUpstream, trusting: ssl.SSLContext
) -> None:
    refusing = await LoopbackProxy(refuse=407).start()
    environment.setenv("HTTPS_PROXY", refusing.url)
    pool = Pool(https_upstream.url, connect_timeout=2, read_timeout=2, ssl_context=trusting)
    with pytest.raises(UpstreamConnectionError, match="407"):
        await status_of(pool)
    refusing.close()

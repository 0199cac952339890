"""GET /metrics: Prometheus' text format, for the master key or `AIPORT_METRICS_TOKEN`.

With `--metrics-port P` the same page is also served without a key on 127.0.0.1:P only
(for a Prometheus on the same host or a sidecar), from a listener of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from aiport.api.context import services
from aiport.api.middleware import public
from aiport.errors import AuthenticationFailed, NotFound
from aiport.metrics import Metrics

METRICS_HOST = "127.0.0.1"


@public
async def metrics(request: web.Request) -> web.Response:
    observability = services(request).observability
    if observability is None or observability.metrics is None:
        raise NotFound("Metrics are turned off (AIPORT_METRICS=false).", code="unknown_url")
    if not _allowed(request.headers.get("Authorization"), observability.digests):
        raise AuthenticationFailed("/metrics needs the master key or AIPORT_METRICS_TOKEN.")
    return await _page(observability.metrics)


async def _page(metrics: Metrics) -> web.Response:
    metrics.refresh()
    # Rendering (and with workers, reading every worker's files) runs off the event loop.
    body = await asyncio.to_thread(metrics.exposition)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _allowed(authorization: str | None, digests: tuple[bytes, ...]) -> bool:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    presented = token_digest(token.strip())
    # Every digest is compared, so the time taken does not tell which one matched.
    return sum(hmac.compare_digest(presented, d) for d in digests) > 0


async def start_loopback_listener(metrics: Metrics, port: int, reuse_port: bool) -> web.AppRunner:
    """Serve /metrics without a key on 127.0.0.1:`port` (never another interface)."""

    async def page(request: web.Request) -> web.Response:
        return await _page(metrics)

    app = web.Application()
    app.router.add_get("/metrics", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, METRICS_HOST, port, reuse_port=reuse_port).start()
    return runner

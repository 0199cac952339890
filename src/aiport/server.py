"""Running the server: one process, or N worker processes sharing the port (SO_REUSEPORT).

A process binds its port first (a port in use stops it with one line, before anything has
started), then starts its services behind the open listener (see `aiport.lifecycle`) and
says "serving on" only then. On
SIGTERM or SIGINT it drains once: `/health/ready` turns 503, new requests are refused, the
requests in flight get `shutdown_grace` seconds, the rest are cut with an error in their
own protocol, the listener and services close (usage rows flushed), and it exits 0. A
repeated signal only logs: nothing can interrupt the final flush.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable

from aiohttp import web

from aiport.api.context import SERVICES
from aiport.api.malformed import OpenAIErrorServer
from aiport.api.metrics import METRICS_HOST
from aiport.app import create_app
from aiport.lifecycle import Lifecycle
from aiport.settings import Settings
from aiport.workers import FIRST_WORKER_ENV, WORKER_ENV, supervise

log = logging.getLogger(__name__)

MAX_HEADER_VALUE = 16 * 1024  # bytes in one header value
CLOSE_TIMEOUT = 5.0  # seconds for connections to close once drained
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run(settings: Settings, master_key: str, announce: Callable[[str], None]) -> int:
    """Serve until stopped; the exit code (0 after a clean shutdown). `announce` is given
    "serving on <url>" once the port listens (the CLI prints it)."""
    if settings.workers > 1 and not os.environ.get(WORKER_ENV):
        for sock in _bind(settings):  # a port in use is said once, not by every worker
            sock.close()
        return supervise(settings, master_key)
    _use_uvloop()
    return asyncio.run(serve(settings, master_key, announce))


class CannotListen(OSError):
    """The port cannot be bound (in use, no permission, no such address)."""


async def serve(settings: Settings, master_key: str, announce: Callable[[str], None]) -> int:
    sockets = _bind(settings)
    app = create_app(settings, master_key)
    lifecycle = app[SERVICES].lifecycle
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, lifecycle.request_stop, signal.Signals(signum).name)
    _stop_with_supervisor(loop, lifecycle)
    runner = _Runner(
        app,
        access_log=None,
        handler_cancellation=True,
        shutdown_timeout=CLOSE_TIMEOUT,
        # aiohttp's 8190 would refuse a long (bad) API key before authentication can.
        max_field_size=MAX_HEADER_VALUE,
    )
    await runner.setup()  # starts the services in the background
    try:
        for sock in sockets:
            await web.SockSite(runner, sock).start()
        _announce(settings, sockets[0].getsockname()[1], announce)
        await lifecycle.wait_for_stop()
        await lifecycle.drain(settings.shutdown_grace)
    finally:
        await runner.cleanup()  # closes the listener, then the services (usage flushed)
    _ignore_stop_signals(loop)
    log.info("stopped")
    return lifecycle.exit_code


def _bind(settings: Settings) -> list[socket.socket]:
    """The listening sockets of `host`:`port`; a `--metrics-port` that cannot be had is
    said here too (its listener opens later, with the services)."""
    reuse = settings.workers > 1
    sockets = _listen(settings.host, settings.port, reuse)
    if settings.metrics and settings.metrics_port is not None:
        try:
            for sock in _listen(METRICS_HOST, settings.metrics_port, reuse):
                sock.close()
        except CannotListen:
            for sock in sockets:
                sock.close()
            raise
    return sockets


def _listen(host: str, port: int, reuse_port: bool) -> list[socket.socket]:
    """Listening sockets for every address `host` names (as asyncio's `create_server`)."""
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        raise CannotListen(f"cannot listen on {_url_host(host)}:{port}: {_reason(exc)}") from None
    sockets: list[socket.socket] = []
    try:
        for family, _, _, _, address in dict.fromkeys(addresses):
            sockets.append(
                socket.create_server(address, family=family, backlog=128, reuse_port=reuse_port)
            )
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise CannotListen(f"cannot listen on {_url_host(host)}:{port}: {_reason(exc)}") from None
    return sockets


def _reason(exc: OSError) -> str:
    if isinstance(exc.errno, int) and exc.errno > 0:
        return os.strerror(exc.errno).lower()
    return (exc.strerror or str(exc)).lower()


def _announce(settings: Settings, port: int, announce: Callable[[str], None]) -> None:
    """Say where it serves, once listening; with workers, only the first one says it."""
    if os.environ.get(WORKER_ENV) and os.environ.get(FIRST_WORKER_ENV) != "1":
        return
    workers = f" ({settings.workers} workers)" if settings.workers > 1 else ""
    announce(f"serving on http://{_url_host(settings.host)}:{port}{workers}")


def _url_host(host: str) -> str:
    """The host as a URL spells it: an IPv6 literal in brackets (RFC 3986)."""
    return f"[{host}]" if ":" in host else host


class _Runner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        return OpenAIErrorServer.adopt(await super()._make_server())


def _stop_with_supervisor(loop: asyncio.AbstractEventLoop, lifecycle: Lifecycle) -> None:
    """A worker reads a pipe its supervisor holds open: end of file means the supervisor is
    gone (even by SIGKILL), and the worker drains instead of serving on orphaned."""
    fd = os.environ.get(WORKER_ENV)
    if not fd or not fd.isdigit():
        return

    def supervisor_gone() -> None:
        loop.remove_reader(int(fd))
        lifecycle.request_stop("the supervising process is gone")

    loop.add_reader(int(fd), supervisor_gone)


def _ignore_stop_signals(loop: asyncio.AbstractEventLoop) -> None:
    # Everything is flushed; closing the loop would restore the default (fatal) action.
    for signum in STOP_SIGNALS:
        loop.remove_signal_handler(signum)
        signal.signal(signum, signal.SIG_IGN)


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

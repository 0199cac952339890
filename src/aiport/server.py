"""Running the server: one process, or N processes sharing the port (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

from aiohttp import web

from aiport.app import create_app
from aiport.settings import Settings

log = logging.getLogger(__name__)

WORKER_ENV = "AIPORT_WORKER"
MAX_HEADER_VALUE = 16 * 1024  # bytes in one header value


def run(settings: Settings, master_key: str) -> None:
    if settings.workers > 1 and not os.environ.get(WORKER_ENV):
        _supervise(settings, master_key)
        return
    _use_uvloop()
    logging.getLogger("aiohttp.server").addFilter(_redact_malformed_requests)
    web.run_app(
        create_app(settings, master_key),
        host=settings.host,
        port=settings.port,
        reuse_port=settings.workers > 1,
        access_log=None,
        handler_cancellation=True,
        print=None,
        shutdown_timeout=10.0,
        # aiohttp's 8190 would refuse a long (bad) API key before authentication can.
        max_field_size=MAX_HEADER_VALUE,
    )


def _redact_malformed_requests(record: logging.LogRecord) -> bool:
    """aiohttp logs a request it cannot parse with the offending header line, which may
    hold an API key: log what went wrong, never the bytes (and as a warning: the client
    erred, not the server)."""
    from aiohttp.http_exceptions import HttpProcessingError

    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, HttpProcessingError):
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.msg = "refused a malformed HTTP request from %s: %s (%d)"
        record.args = (remote, type(exc).__name__, exc.code)
        record.exc_info = record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _supervise(settings: Settings, master_key: str) -> None:
    """Start `workers` copies of this command; stop them all when told to stop."""
    if not settings.redis_url:
        log.warning(
            "%d workers without AIPORT_REDIS_URL: each enforces rate limits and budgets on"
            " its own, so a key may get up to %d times its limits; set AIPORT_REDIS_URL to"
            " share them",
            settings.workers,
            settings.workers,
        )
    env = {**os.environ, WORKER_ENV: "1", "AIPORT_MASTER_KEY": master_key}
    argv = [sys.executable, "-m", "aiport", *sys.argv[1:]]
    children = [subprocess.Popen(argv, env=env) for _ in range(settings.workers)]
    log.info("started %d workers on %s:%d", len(children), settings.host, settings.port)

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.wait()

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


def run(settings: Settings, master_key: str) -> None:
    if settings.workers > 1 and not os.environ.get(WORKER_ENV):
        _supervise(settings, master_key)
        return
    _use_uvloop()
    web.run_app(
        create_app(settings, master_key),
        host=settings.host,
        port=settings.port,
        reuse_port=settings.workers > 1,
        access_log=None,
        handler_cancellation=True,
        print=None,
        shutdown_timeout=10.0,
    )


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _supervise(settings: Settings, master_key: str) -> None:
    """Start `workers` copies of this command; stop them all when told to stop."""
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

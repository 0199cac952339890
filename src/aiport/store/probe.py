"""Is the database (and Redis) answering, and how fast: for the console's health page.

A probe never raises and never reports an error's text (a driver's message may name a host
or a user): only `up`/`down`, the error's type, and the round trip in milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from aiport.store.database import Database

PROBE_TIMEOUT = 2.0


async def _timed(check: Awaitable[Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT)
    except Exception as exc:  # down, for whatever reason: say which kind
        return {"state": "down", "error": type(exc).__name__}
    return {"state": "up", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


async def probe_database(db: Database) -> dict[str, Any]:
    return {"kind": db.dialect, **await _timed(db.fetchval("SELECT 1"))}


async def probe_redis(redis: Any | None) -> dict[str, Any]:
    if redis is None:
        return {"state": "not configured", "note": "limits are kept per process"}
    return {"kind": "redis", **await _timed(redis.ping())}

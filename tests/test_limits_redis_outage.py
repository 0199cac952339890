"""Redis going away: the configured fallback applies, with one warning, and recovery is
automatic. The outage is real: the limiter reaches Redis through a relay the test cuts."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from aiport.errors import Overloaded
from aiport.limits import FallbackLimiter, LocalLimiter, RedisLimiter, open_redis
from aiport.store.keys import KeyRecord
from tests.support.tcp_relay import TcpProxy, host_port, with_port

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMITED = KeyRecord(id="key_" + "c" * 24, name="t", prefix="p", key_hash="h", rpm=100, tpm=10_000)
UNLIMITED = KeyRecord(id="key_" + "d" * 24, name="u", prefix="p", key_hash="h2")


@pytest.fixture
async def relayed(redis_url: str, namespace: str) -> Any:
    proxy = TcpProxy(*host_port(redis_url, 6379))
    port = await proxy.start()
    client = open_redis(with_port(redis_url, port))
    yield proxy, RedisLimiter(client, namespace=namespace)
    await proxy.cut()
    await client.aclose()


async def wait_for_backend(limiter: FallbackLimiter, backend: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (await limiter.admit(LIMITED, estimated_tokens=1)).backend == backend:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"limiter did not switch to {backend} within {within}s")


async def test_local_fallback_then_recovery(
    relayed: tuple[TcpProxy, RedisLimiter], caplog: pytest.LogCaptureFixture
) -> None:
    proxy, redis_limiter = relayed
    limiter = FallbackLimiter(redis_limiter, LocalLimiter(), fallback="local", retry_interval=0.2)
    caplog.set_level(logging.WARNING, logger="aiport.limits")
    try:
        before = await limiter.admit(LIMITED, estimated_tokens=100)
        assert before.backend == "redis"
        await proxy.cut()
        during = [await limiter.admit(LIMITED, estimated_tokens=100) for _ in range(5)]
        assert {a.backend for a in during} == {"local"}
        assert during[0].headers["x-ratelimit-limit-requests"] == "100"
        # Settling an admission made before the outage must not fail the request.
        assert await limiter.settle(before, 50) == -50
        for a in during:
            await limiter.settle(a, 10)
        assert limiter.redis_down
        warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
        assert len(warnings) == 1
        await proxy.restore()
        await wait_for_backend(limiter, "redis", within=2.0)
        assert not limiter.redis_down
        assert any("reachable again" in r.getMessage() for r in caplog.records)
    finally:
        await limiter.close()


async def test_reject_fallback_refuses_limited_keys_only(
    relayed: tuple[TcpProxy, RedisLimiter],
) -> None:
    proxy, redis_limiter = relayed
    limiter = FallbackLimiter(redis_limiter, LocalLimiter(), fallback="reject", retry_interval=0.2)
    try:
        assert (await limiter.admit(LIMITED)).backend == "redis"
        await proxy.cut()
        for _ in range(3):
            with pytest.raises(Overloaded) as caught:
                await limiter.admit(LIMITED)
            assert caught.value.status == 503 and caught.value.headers["retry-after"] == "1"
        assert (await limiter.admit(UNLIMITED)).backend == "none"
        await proxy.restore()
        deadline = time.monotonic() + 2.0
        while limiter.redis_down and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert (await limiter.admit(LIMITED)).backend == "redis"
    finally:
        await limiter.close()


async def test_fallback_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="fallback"):
        FallbackLimiter(None, LocalLimiter(), fallback="ignore")  # type: ignore[arg-type]

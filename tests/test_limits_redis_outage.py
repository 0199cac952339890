"""Redis going away: the configured fallback applies, with one warning, recovery is
automatic, and budgets hold across outages. The outage is real: the limiter reaches Redis
through a relay the test cuts."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiport.errors import Overloaded, QuotaExceeded
from aiport.limits import FallbackLimiter, LocalLimiter, RedisLimiter, make_limiter, open_redis
from aiport.store.database import Database
from aiport.store.keys import KeyRecord, KeySpend, KeyStore
from aiport.store.usage import UsageRecord, UsageWriter
from tests.support.tcp_relay import TcpProxy, host_port, with_port

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMITED = KeyRecord(id="key_" + "c" * 24, name="t", prefix="p", key_hash="h", rpm=100, tpm=10_000)
UNLIMITED = KeyRecord(id="key_" + "d" * 24, name="u", prefix="p", key_hash="h2")


@pytest.fixture
async def relay(redis_url: str) -> AsyncIterator[tuple[TcpProxy, Any]]:
    """A Redis client that reaches Redis through a relay the test can cut."""
    proxy = TcpProxy(*host_port(redis_url, 6379))
    port = await proxy.start()
    client = open_redis(with_port(redis_url, port))
    yield proxy, client
    await proxy.cut()
    await client.aclose()


@pytest.fixture
async def relayed(relay: tuple[TcpProxy, Any], namespace: str) -> Any:
    proxy, client = relay
    return proxy, RedisLimiter(client, namespace=namespace)


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


BUDGET, RESERVE, USE = 1000, 50, 40  # tokens: a key's budget; what a request reserves, uses


async def test_a_budget_holds_across_two_redis_outages(
    relay: tuple[TcpProxy, Any], db: Database, namespace: str
) -> None:
    """Spend during an outage reaches Redis when it is back, and the next outage reads the
    spend from the database again: the budget is used up, never overspent."""
    proxy, client = relay
    store = KeyStore(db)
    writer = UsageWriter(db, flush_interval=0.05)
    writer.start()

    async def spend(key_id: str) -> KeySpend:  # as the server reads it (Accounts.spend)
        pending = writer.pending_spend(key_id)
        stored = await store.spend(key_id)
        return KeySpend(stored.tokens + pending.tokens, stored.cost_usd + pending.cost_usd)

    limiter = make_limiter(client, spend_loader=spend, namespace=namespace, retry_interval=0.1)
    assert isinstance(limiter, FallbackLimiter)
    key_id = "key_" + uuid.uuid4().hex[:24]
    key = KeyRecord(id=key_id, name="b", prefix="p", key_hash="h", max_tokens_total=BUDGET)
    used = 0

    async def request() -> str | None:
        """One request as the server makes it; the limiter that admitted it, or None."""
        nonlocal used
        try:
            admission = await limiter.admit(key, estimated_tokens=RESERVE)
        except QuotaExceeded:
            return None
        writer.record(
            UsageRecord(uuid.uuid4().hex, "/v1/chat/completions", 200, key.id, prompt_tokens=USE)
        )
        await limiter.settle(admission, USE)
        used += USE
        return admission.backend

    async def back_to_redis() -> None:
        await proxy.restore()
        deadline = time.monotonic() + 5
        while limiter.redis_down:
            assert time.monotonic() < deadline, "Redis never came back"
            await asyncio.sleep(0.05)

    try:
        assert [await request() for _ in range(5)] == ["redis"] * 5
        await proxy.cut()
        assert [await request() for _ in range(5)] == ["local"] * 5
        await back_to_redis()
        assert [await request() for _ in range(5)] == ["redis"] * 5
        await proxy.cut()  # the second outage: spend is read again, not remembered
        while (backend := await request()) is not None:
            assert backend == "local"
        await back_to_redis()
        assert await request() is None  # Redis has the second outage's spend too
        assert BUDGET - RESERVE < used <= BUDGET
        assert (await spend(key.id)).tokens == used
    finally:
        await limiter.close()
        await writer.close()


async def test_an_unexpected_error_while_probing_does_not_leave_limits_local(
    relayed: tuple[TcpProxy, RedisLimiter], caplog: pytest.LogCaptureFixture
) -> None:
    """A Redis that answers with an error (a replica gone read-only, a script flushed) is
    not an outage, but the probe must keep going: it used to die, and limits stayed
    per-instance for the rest of the process's life."""
    from redis.exceptions import ResponseError

    proxy, redis_limiter = relayed
    limiter = FallbackLimiter(redis_limiter, LocalLimiter(), fallback="local", retry_interval=0.1)
    real_ping = redis_limiter.redis.ping
    answers: list[BaseException | None] = [ResponseError("READONLY You can't write")]

    async def ping() -> Any:
        if answers:
            error = answers.pop()
            if error is not None:
                raise error
        return await real_ping()

    redis_limiter.redis.ping = ping  # type: ignore[method-assign]
    caplog.set_level(logging.WARNING, logger="aiport.limits")
    try:
        await proxy.cut()
        assert (await limiter.admit(LIMITED, estimated_tokens=1)).backend == "local"
        await proxy.restore()
        await wait_for_backend(limiter, "redis", within=3.0)
        assert not answers
        assert any("READONLY" in r.getMessage() for r in caplog.records)
    finally:
        await limiter.close()

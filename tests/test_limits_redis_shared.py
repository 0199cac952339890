"""Two instances sharing one Redis enforce one limit and one budget, atomically."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from aiport.errors import QuotaExceeded, RateLimited
from aiport.limits import Admission, RedisLimiter, open_redis
from aiport.store.database import Database
from aiport.store.keys import KeyRecord, KeyStore
from aiport.store.usage import UsageRecord, UsageWriter

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def two_instances(redis_url: str, namespace: str) -> Any:
    """Two limiters with their own Redis clients, as two aiport processes would have."""
    clients = [open_redis(redis_url), open_redis(redis_url)]
    yield [RedisLimiter(c, namespace=namespace) for c in clients]
    for c in clients:
        await c.aclose()


def key(**limits: object) -> KeyRecord:
    return KeyRecord(
        id="key_" + "b" * 24, name="t", prefix="sk-aiport-BBBB", key_hash="h", **limits
    )  # type: ignore[arg-type]


async def attempt(limiter: RedisLimiter, k: KeyRecord, **kw: Any) -> Admission | Exception:
    try:
        return await limiter.admit(k, **kw)
    except (RateLimited, QuotaExceeded) as exc:
        return exc


async def test_rpm_10_admits_exactly_10_of_30_concurrent_across_instances(
    two_instances: list[RedisLimiter],
) -> None:
    k = key(rpm=10)
    results = await asyncio.gather(*(attempt(two_instances[i % 2], k) for i in range(30)))
    admitted = [r for r in results if isinstance(r, Admission)]
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert len(admitted) == 10 and len(refused) == 20
    assert all(a.backend == "redis" for a in admitted)
    assert sorted(a.headers["x-ratelimit-remaining-requests"] for a in admitted) == sorted(
        str(n) for n in range(10)
    )
    for err in refused:
        assert err.type == "requests"
        assert 1 <= int(err.headers["retry-after"]) <= 6  # one slot back every 6 s
        assert 0 < int(err.headers["retry-after-ms"]) <= 6000


async def test_tpm_is_shared_and_settles_across_instances(
    two_instances: list[RedisLimiter],
) -> None:
    a, b = two_instances
    k = key(tpm=1000)
    first = await a.admit(k, estimated_tokens=700)
    with pytest.raises(RateLimited) as caught:
        await b.admit(k, estimated_tokens=700)
    assert caught.value.type == "tokens"
    assert 23_000 < int(caught.value.headers["retry-after-ms"]) <= 24_000  # 400 tokens
    assert await a.settle(first, 100) == -600
    second = await b.admit(k, estimated_tokens=700)
    assert 190 <= int(second.headers["x-ratelimit-remaining-tokens"]) <= 200
    with pytest.raises(RateLimited) as too_big:
        await b.admit(k, estimated_tokens=1001)
    assert too_big.value.headers["x-should-retry"] == "false"


async def test_token_budget_is_never_overspent_under_concurrency(
    db: Database, redis_url: str, namespace: str
) -> None:
    store = KeyStore(db)
    record, _ = await store.create("budgeted", max_tokens_total=5000)
    # Earlier spend sits in the usage rows; Redis starts from it.
    writer = UsageWriter(db)
    writer.record(
        UsageRecord(
            "req_old",
            "/v1/chat/completions",
            200,
            key_id=record.id,
            prompt_tokens=600,
            completion_tokens=400,
        )
    )
    await writer.close()
    clients = [open_redis(redis_url), open_redis(redis_url)]
    limiters = [RedisLimiter(c, namespace=namespace, spend_loader=store.spend) for c in clients]
    spent: list[int] = []

    async def worker(n: int) -> None:
        rng = random.Random(n)
        limiter = limiters[n % 2]
        while True:
            estimate = rng.randint(50, 300)
            try:
                admission = await limiter.admit(record, estimated_tokens=estimate)
            except QuotaExceeded:
                return
            await asyncio.sleep(rng.random() / 100)
            actual = rng.randint(estimate // 2, estimate)  # estimates are upper bounds
            spent.append(actual)
            await limiter.settle(admission, actual)

    try:
        await asyncio.gather(*(worker(n) for n in range(40)))
        total = 1000 + sum(spent)
        assert total <= 5000, f"overspent: {total}"
        assert total >= 4000  # and it really ran the budget down (typically to ~4950)
        assert len(spent) > 20
        with pytest.raises(QuotaExceeded):
            # Nothing fits any more once the estimate exceeds what is left.
            await limiters[0].admit(record, estimated_tokens=5000 - total + 1)
    finally:
        for c in clients:
            await c.aclose()


async def test_usd_budget_admits_exactly_what_fits_across_instances(
    two_instances: list[RedisLimiter],
) -> None:
    k = key(max_budget_usd=0.01)
    results = await asyncio.gather(
        *(attempt(two_instances[i % 2], k, estimated_cost_usd=0.001) for i in range(30))
    )
    assert sum(isinstance(r, Admission) for r in results) == 10
    refusals = [r for r in results if isinstance(r, QuotaExceeded)]
    assert len(refusals) == 20
    assert all(r.headers["x-should-retry"] == "false" for r in refusals)


async def test_a_shared_budget_counts_requests_that_cost_less_than_a_millionth_of_a_dollar(
    two_instances: list[RedisLimiter],
) -> None:
    """Each cost was rounded to micro-USD: a 20-token embedding ($0.0000004) counted $0."""
    k = key(max_budget_usd=0.000002)
    for i in range(5):
        admitted = await two_instances[i % 2].admit(k, estimated_cost_usd=0.0000004)
        await two_instances[i % 2].settle(admitted, 20, actual_cost_usd=0.0000004)
    with pytest.raises(QuotaExceeded):
        await two_instances[0].admit(k, estimated_cost_usd=0.0000004)


async def test_lost_budget_totals_are_reseeded_from_the_database(
    db: Database, redis: Any, namespace: str
) -> None:
    store = KeyStore(db)
    record, _ = await store.create("reseeded", max_tokens_total=1000)
    limiter = RedisLimiter(redis, namespace=namespace, spend_loader=store.spend)
    admission = await limiter.admit(record, estimated_tokens=300)
    await limiter.settle(admission, 300)
    writer = UsageWriter(db)
    writer.record(UsageRecord("req_1", "/v1/embeddings", 200, key_id=record.id, prompt_tokens=300))
    await writer.close()
    await redis.delete(*limiter._keys(record))  # as after a Redis restart
    await limiter.admit(record, estimated_tokens=700)  # 300 (from DB) + 700 fits
    with pytest.raises(QuotaExceeded, match="used 1000 of its 1000"):
        await limiter.admit(record, estimated_tokens=1)


async def test_a_budget_removed_then_set_again_starts_from_the_database(
    db: Database, redis: Any, namespace: str
) -> None:
    """Without a budget (but with a rate limit) each settlement moved the key's total by
    what it used minus a reservation never added: set again, the budget started at -$0.008
    when $0.01 was spent."""
    store = KeyStore(db)
    record, _ = await store.create("on and off", rpm=1000, max_budget_usd=0.01)
    limiter = RedisLimiter(redis, namespace=namespace, spend_loader=store.spend)
    writer = UsageWriter(db)

    async def serve(key: KeyRecord, reserved: float, used: float) -> None:
        admission = await limiter.admit(key, estimated_cost_usd=reserved)
        await limiter.settle(admission, 0, used)
        row = UsageRecord(f"req_{random.getrandbits(64):x}", "/v1/chat/completions", 200)
        row.key_id, row.cost_usd = key.id, used
        writer.record(row)

    await serve(record, 0.001, 0.001)
    unlimited = await store.update(record.id, {"max_budget_usd": None})
    assert unlimited is not None
    for _ in range(3):
        await serve(unlimited, 0.006, 0.003)
    again = await store.update(record.id, {"max_budget_usd": 0.01})
    assert again is not None
    await writer.close()
    with pytest.raises(QuotaExceeded, match=r"spent \$0\.0100 of its \$0\.0100"):
        await limiter.admit(again, estimated_cost_usd=0.001)


async def test_make_limiter_picks_the_shared_limiter_when_redis_is_configured(
    redis: Any, namespace: str
) -> None:
    from aiport.limits import FallbackLimiter, LocalLimiter, make_limiter

    assert isinstance(make_limiter(None), LocalLimiter)
    shared = make_limiter(redis, namespace=namespace, fallback="reject")
    assert isinstance(shared, FallbackLimiter) and shared.fallback == "reject"
    admission = await shared.admit(key(rpm=5))
    assert admission.backend == "redis"
    assert admission.headers["x-ratelimit-remaining-requests"] == "4"
    await shared.close()

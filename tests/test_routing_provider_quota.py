"""A deployment's provider rpm/tpm counted in Redis: two instances (two `ProviderQuota`s
on one Redis) share one limit instead of each taking all of it."""

from __future__ import annotations

import redis.asyncio as aioredis

from aiport.routing.quota import ProviderQuota
from tests.support.accounts_e2e import redis_db_url, service_url

REDIS_DB = 15  # this module's own Redis database


async def test_two_instances_share_a_providers_rpm_in_redis() -> None:
    url = redis_db_url(service_url("AIPORT_TEST_REDIS_URL"), REDIS_DB)
    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    try:
        instances = [ProviderQuota("p/model", rpm=5, tpm=None) for _ in range(2)]
        for quota in instances:
            quota.share(client)
        granted = [await instances[i % 2].reserve(10) for i in range(8)]
        assert granted == [True] * 5 + [False] * 3  # five in all, not five each
    finally:
        await client.aclose()


async def test_tpm_counts_the_estimate_then_the_real_tokens() -> None:
    url = redis_db_url(service_url("AIPORT_TEST_REDIS_URL"), REDIS_DB)
    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    try:
        quota = ProviderQuota("p/tokens", rpm=None, tpm=1000)
        quota.share(client)
        assert await quota.reserve(900)
        assert not await quota.reserve(200)  # 900 + 200 would pass the minute's 1000
        await quota.settle(900, 100)  # it used 100 in the end
        assert await quota.reserve(200)
    finally:
        await client.aclose()

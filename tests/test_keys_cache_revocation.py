"""The key cache: no database on the hot path, and revocation reaching every instance."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from aiport.errors import AuthenticationFailed
from aiport.keycache import KeyCache
from aiport.limits import open_redis
from aiport.store.database import Database, open_database
from aiport.store.keys import KeyRecord, KeyStore

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


class CountingStore(KeyStore):
    """A real store that counts look-ups, to show which resolves reach the database."""

    lookups = 0

    async def lookup_by_hash(self, key_hash: str) -> KeyRecord | None:
        self.lookups += 1
        return await super().lookup_by_hash(key_hash)


async def wait_until_refused(cache: KeyCache, key: str, within: float) -> None:
    """Until `cache` refuses `key`; fails after `within` seconds. Tests choose `within`
    shorter than any other way the cache could learn of the change (its poll interval, the
    entry's freshness), so that a refusal shows the mechanism they test, at any speed."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        try:
            await cache.authenticate(key)
        except AuthenticationFailed:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"key still accepted after {within}s")


BAD_KEYS = [
    "sk-aiport-x'; DROP TABLE api_keys; --",
    "sk-aiport-" + "A" * 10_240,
    "sk-aiport-AAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00AAAAAAAAAAAAA",
    "sk-aiport-ÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅ",
    "sk-aiport-🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑",
    "' OR 1=1 --",
    "\x00",
    "",
]


async def test_bad_keys_are_invalid_without_touching_the_database(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    store = CountingStore(db)
    cache = KeyCache(store)
    caplog.set_level(logging.DEBUG)
    for bad in BAD_KEYS:
        assert await cache.resolve(bad) is None
        with pytest.raises(AuthenticationFailed) as caught:
            await cache.authenticate(bad)
        assert caught.value.status == 401
        assert bad not in caught.value.message or not bad
    assert store.lookups == 0
    # A well-formed but unknown key costs one query, then sits in the negative cache.
    unknown = "sk-aiport-" + "Q" * 43
    assert await cache.resolve(unknown) is None
    assert await cache.resolve(unknown) is None
    assert store.lookups == 1
    assert all(bad not in caplog.text for bad in BAD_KEYS if len(bad) > 3)


async def test_found_keys_are_served_from_cache(db: Database) -> None:
    store = CountingStore(db)
    record, key = await store.create("cached")
    cache = KeyCache(store)
    results = await asyncio.gather(*(cache.resolve(key) for _ in range(50)))
    assert all(r == record for r in results)
    assert store.lookups == 1  # concurrent misses shared one query
    assert await cache.authenticate(key) == record
    assert store.lookups == 1


async def test_expired_and_revoked_keys_get_clean_401s(db: Database) -> None:
    store = KeyStore(db)
    record, key = await store.create("short-lived", expires_at=time.time() + 0.5)
    cache = KeyCache(store)
    assert (await cache.authenticate(key)).id == record.id
    await asyncio.sleep(0.6)
    with pytest.raises(AuthenticationFailed, match="expired"):
        await cache.authenticate(key)
    other, other_key = await store.create("revoked")
    await cache.revoke(other.id)
    with pytest.raises(AuthenticationFailed, match="revoked"):
        await cache.authenticate(other_key)


async def test_revocation_reaches_another_instance_through_redis(
    db_url: str, db: Database, redis_url: str, namespace: str
) -> None:
    # Two instances: their own database connections, Redis clients and caches.
    other_db = open_database(db_url)
    await other_db.connect()
    redis_a, redis_b = open_redis(redis_url), open_redis(redis_url)
    channel = f"{namespace}:revoked"
    # A slow poll, so that only the Redis message can explain a fast refusal.
    a = KeyCache(KeyStore(db), redis=redis_a, channel=channel, poll_interval=30)
    b = KeyCache(KeyStore(other_db), redis=redis_b, channel=channel, poll_interval=30)
    await a.start()
    await b.start()
    try:
        record, key = await a.store.create("shared")
        assert (await b.authenticate(key)).id == record.id
        await a.revoke(record.id)
        await wait_until_refused(b, key, within=20)  # < the 30 s poll: Redis told it
    finally:
        await a.close()
        await b.close()
        await redis_a.aclose()
        await redis_b.aclose()
        await other_db.close()


async def test_revocation_reaches_another_instance_without_redis(db_url: str, db: Database) -> None:
    other_db = open_database(db_url)
    await other_db.connect()
    a = KeyCache(KeyStore(db), poll_interval=0.5)
    b = KeyCache(KeyStore(other_db), poll_interval=0.5)
    await a.start()
    await b.start()
    try:
        record, key = await a.store.create("polled")
        assert (await b.authenticate(key)).id == record.id
        # Revoked by a third party (the CLI): neither cache hears of it directly.
        await KeyStore(db).revoke(record.id)
        await wait_until_refused(b, key, within=20)  # < the 30 s freshness: the poll saw it
    finally:
        await a.close()
        await b.close()
        await other_db.close()


async def test_a_lookup_racing_a_revocation_is_not_cached(db: Database) -> None:
    gate = asyncio.Event()

    class SlowStore(KeyStore):
        async def lookup_by_hash(self, key_hash: str) -> KeyRecord | None:
            found = await super().lookup_by_hash(key_hash)
            await gate.wait()
            return found

    store = SlowStore(db)
    record, key = await store.create("racy")
    cache = KeyCache(store)
    pending = asyncio.create_task(cache.resolve(key))
    await asyncio.sleep(0.05)
    await cache.revoke(record.id)  # lands while the look-up is in flight
    gate.set()
    assert (await pending) is not None  # that caller saw the old answer ...
    with pytest.raises(AuthenticationFailed, match="revoked"):
        await cache.authenticate(key)  # ... but nobody after it does


async def test_stale_entry_served_when_database_is_unreachable(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from aiport.store.migrations import upgrade

    own = open_database(db_url)
    await own.connect()
    await upgrade(own)
    store = KeyStore(own)
    _, key = await store.create("resilient")
    clock: list[float] = [0.0]
    cache = KeyCache(store, positive_ttl=1, clock=lambda: clock[0])
    assert await cache.resolve(key) is not None
    await own.close()
    clock[0] = 5.0  # the entry is stale; the database is gone
    with caplog.at_level(logging.WARNING):
        assert await cache.resolve(key) is not None  # at once; refreshed in the background
        for _ in range(100):
            if "serving cached keys" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert "key refresh failed" in caplog.text
    assert key not in caplog.text


async def test_cache_is_bounded(db: Database) -> None:
    cache = KeyCache(KeyStore(db), max_entries=10, max_unknown=10)
    for i in range(25):
        await cache.resolve("sk-aiport-" + f"{i:043d}")
    assert len(cache._unknown) == 10 and not cache._entries


async def test_revocation_channel_comes_back_after_a_redis_outage(
    db: Database, redis_url: str, namespace: str
) -> None:
    from tests.support.tcp_relay import TcpProxy, host_port, with_port

    proxy = TcpProxy(*host_port(redis_url, 6379))
    relayed = open_redis(with_port(redis_url, await proxy.start()))
    direct = open_redis(redis_url)
    channel = f"{namespace}:revoked"
    listener = KeyCache(KeyStore(db), redis=relayed, channel=channel, poll_interval=30)
    revoker = KeyCache(KeyStore(db), redis=direct, channel=channel)
    await listener.start()
    try:
        record, key = await revoker.store.create("outlived")
        assert (await listener.authenticate(key)).id == record.id
        await proxy.cut()
        await asyncio.sleep(0.3)
        await proxy.restore()
        deadline = time.monotonic() + 5
        while (await direct.pubsub_numsub(channel))[0][1] != 1:
            assert time.monotonic() < deadline, "listener never re-subscribed"
            await asyncio.sleep(0.05)
        await revoker.revoke(record.id)
        await wait_until_refused(listener, key, within=20)  # < the 30 s poll: Redis told it
    finally:
        await listener.close()
        await proxy.cut()
        await relayed.aclose()
        await direct.aclose()

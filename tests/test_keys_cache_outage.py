"""The key cache when the database stalls, and under a flood of made-up keys: known keys
keep working (expiry still honoured) with one background refresh at a time, and unknown
keys are remembered apart, never evicting known ones. The stall is real: PostgreSQL is
reached through a relay that stops carrying bytes."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest

from aiport.errors import AuthenticationFailed
from aiport.keycache import KeyCache
from aiport.store.database import Database, open_database
from aiport.store.keys import KeyRecord, KeyStore
from aiport.store.migrations import upgrade
from tests.support.store_fixtures import drop_schema, pg_schema_url
from tests.support.tcp_relay import TcpProxy, host_port, with_port

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")

HANG_GUARD = 10.0  # seconds: only there to turn a hang into a failure


class CountingStore(KeyStore):
    """A real store that counts look-ups, and how many were under way at once."""

    lookups = 0
    running = 0
    most_at_once = 0

    async def lookup_by_hash(self, key_hash: str) -> KeyRecord | None:
        self.lookups += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            return await super().lookup_by_hash(key_hash)
        finally:
            self.running -= 1


@pytest.fixture
async def relayed_db(pg_url: str) -> AsyncIterator[tuple[TcpProxy, Database]]:
    """A migrated PostgreSQL schema of its own, reached through a relay."""
    url, schema = await pg_schema_url(pg_url)
    proxy = TcpProxy(*host_port(pg_url, 5432))
    port = await proxy.start()
    db = open_database(with_port(url, port))
    await db.connect()
    await upgrade(db)
    yield proxy, db
    await proxy.cut()
    await db.close()
    await drop_schema(pg_url, schema)


async def test_known_keys_are_served_while_the_database_stalls(
    relayed_db: tuple[TcpProxy, Database],
) -> None:
    proxy, db = relayed_db
    store = CountingStore(db)
    record, key = await store.create("steady")
    expiring, soon = await store.create("expiring", expires_at=time.time() + 1.0)
    cache = KeyCache(store, positive_ttl=0.05, retry_interval=60)
    try:
        assert await cache.authenticate(key) == record
        assert await cache.authenticate(soon) == expiring
        proxy.stall()
        await asyncio.sleep(0.1)  # both entries are past their freshness now
        before = store.lookups
        for _ in range(20):
            assert await asyncio.wait_for(cache.authenticate(key), HANG_GUARD) == record
        burst = [cache.authenticate(k) for k in (key, soon) * 25]
        results = await asyncio.wait_for(asyncio.gather(*burst), HANG_GUARD)
        assert results == [record, expiring] * 25
        # One background refresh, still waiting for the stalled database; no other look-up.
        assert store.lookups - before == 1 and store.running == 1 and store.most_at_once == 1
        # Expiry needs no database.
        await asyncio.sleep(max(0.0, (expiring.expires_at or 0) - time.time()) + 0.05)
        with pytest.raises(AuthenticationFailed, match="expired"):
            await asyncio.wait_for(cache.authenticate(soon), HANG_GUARD)
        assert await asyncio.wait_for(cache.authenticate(key), HANG_GUARD) == record
    finally:
        await proxy.cut()  # the stalled refresh fails now, instead of at its timeout
        await cache.close()


async def test_unknown_keys_are_remembered_apart_and_never_evict_known_ones(
    db: Database,
) -> None:
    store = CountingStore(db)
    cache = KeyCache(store, max_entries=10, max_unknown=20)
    known = [(await store.create(f"known {i}"))[1] for i in range(3)]
    for key in known:
        assert await cache.resolve(key) is not None
    made_up = ["sk-aiport-" + secrets.token_urlsafe(32) for _ in range(100)]
    for key in made_up:
        assert await cache.resolve(key) is None
    assert store.lookups == 3 + 100
    for key in known + made_up[-20:]:  # the known keys, and the latest unknown ones
        await cache.resolve(key)
    assert store.lookups == 103
    assert await cache.resolve(made_up[0]) is None  # the oldest unknown one was let go
    assert store.lookups == 104

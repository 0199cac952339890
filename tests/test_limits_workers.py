"""The workers of one `aiport serve --workers N` without Redis share the supervisor's
limiter over a Unix socket: one limit for all of them, and 503 when it is gone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aiport.errors import Overloaded, RateLimited
from aiport.limits.parent import LimiterService, SocketLimiter
from aiport.store.database import open_database, sqlite_url
from aiport.store.keys import KeyRecord
from aiport.store.migrations import upgrade

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEY = KeyRecord(id="key_" + "f" * 24, name="w", prefix="p", key_hash="h", rpm=10, tpm=1000)


async def test_two_workers_share_one_limit_and_refuse_when_the_supervisor_is_gone(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "aiport.db")
    db = open_database(url)
    await db.connect()
    await upgrade(db)
    await db.close()
    service = LimiterService(url).start()
    workers = [SocketLimiter(service.path), SocketLimiter(service.path)]
    try:

        async def admit(worker: SocketLimiter) -> bool:
            try:
                admission = await worker.admit(KEY, estimated_tokens=10)
            except RateLimited:
                return False
            await worker.settle(admission, 5)
            return True

        admitted = await asyncio.gather(*(admit(workers[i % 2]) for i in range(30)))
        assert sum(admitted) == 10
        service.stop()
        with pytest.raises(Overloaded):
            await workers[0].admit(KEY, estimated_tokens=1)
    finally:
        service.stop()
        for worker in workers:
            await worker.close()

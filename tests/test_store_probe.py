"""The health page's database and Redis probes: up with a round trip, or down with only the
error's type (never its text), in bounded time."""

from __future__ import annotations

from typing import Any

import pytest

from aiport.limits import open_redis
from aiport.store.database import Database
from aiport.store.probe import probe_database, probe_redis
from tests.support.server import free_port

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_database_that_answers_is_up(db: Database) -> None:
    report = await probe_database(db)
    assert report["state"] == "up" and report["kind"] == db.dialect
    assert report["latency_ms"] >= 0


async def test_a_closed_database_is_down(db: Database) -> None:
    await db.close()
    report = await probe_database(db)
    assert report["state"] == "down" and set(report) == {"kind", "state", "error"}
    await db.connect()  # the fixture closes it again


async def test_redis_up_down_and_absent(redis: Any) -> None:
    assert (await probe_redis(redis))["state"] == "up"
    assert (await probe_redis(None))["state"] == "not configured"
    gone = open_redis(f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    try:
        report = await probe_redis(gone)
    finally:
        await gone.aclose()
    assert report["state"] == "down" and "hunter2" not in str(report)

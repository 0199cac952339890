"""Schema migrations: idempotent, and safe when two instances start at the same time."""

from __future__ import annotations

import asyncio

import pytest

from aiport.store.database import open_database
from aiport.store.migrations import LATEST_VERSION, current_version, upgrade

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_upgrade_creates_the_schema_once(db_url: str) -> None:
    db = open_database(db_url)
    await db.connect()
    try:
        assert await current_version(db) == 0
        assert await upgrade(db) == list(range(1, LATEST_VERSION + 1))
        assert await upgrade(db) == []
        assert await current_version(db) == LATEST_VERSION
        assert await db.fetchval("SELECT COUNT(*) FROM api_keys") == 0
        assert await db.fetchval("SELECT version FROM key_changes") == 0
    finally:
        await db.close()


async def test_two_instances_upgrading_at_once_both_succeed(db_url: str) -> None:
    first, second = open_database(db_url), open_database(db_url)
    try:
        # Both open the file at once: on SQLite the switch to WAL waits for the other.
        await asyncio.gather(first.connect(), second.connect())
        results = await asyncio.gather(upgrade(first), upgrade(second))
        assert sorted(results, key=len) == [[], list(range(1, LATEST_VERSION + 1))]
        rows = await first.fetch("SELECT version FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == list(range(1, LATEST_VERSION + 1))
    finally:
        await asyncio.gather(first.close(), second.close())


async def test_placeholders_bind_values_never_splice_them(db: object) -> None:
    from aiport.store.database import Database

    assert isinstance(db, Database)
    hostile = "x'); DROP TABLE api_keys; --"
    assert await db.fetchval("SELECT $1 || $2", hostile, "$1") == hostile + "$1"
    assert await db.fetchval("SELECT COUNT(*) FROM api_keys") == 0


async def test_unknown_database_url_is_refused() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        open_database("mysql://localhost/db")

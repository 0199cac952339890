"""Schema migrations: idempotent, and safe when two instances start at the same time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aiport.store.database import open_database, sqlite_url
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


async def test_workers_opening_a_new_sqlite_file_at_once_all_get_it(tmp_path: Path) -> None:
    """The workers of `serve --workers 4` open one new file together: switching it to WAL
    found it locked without waiting (about one round in twenty failed before)."""
    for round_ in range(100):
        url = sqlite_url(tmp_path / f"round-{round_}.db")
        dbs = [open_database(url) for _ in range(4)]
        try:
            await asyncio.gather(*(db.connect() for db in dbs))
            assert {await db.fetchval("PRAGMA journal_mode") for db in dbs} == {"wal"}
        finally:
            await asyncio.gather(*(db.close() for db in dbs))


async def test_placeholders_bind_values_never_splice_them(db: object) -> None:
    from aiport.store.database import Database

    assert isinstance(db, Database)
    hostile = "x'); DROP TABLE api_keys; --"
    assert await db.fetchval("SELECT $1 || $2", hostile, "$1") == hostile + "$1"
    assert await db.fetchval("SELECT COUNT(*) FROM api_keys") == 0


async def test_unknown_database_url_is_refused() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        open_database("mysql://localhost/db")

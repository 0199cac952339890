"""Fixtures for the storage, key, limit and usage tests (load with `pytest_plugins`).

PostgreSQL and Redis come from `AIPORT_TEST_DATABASE_URL` / `AIPORT_TEST_REDIS_URL`, which
`eval "$(scripts/test-services.sh)"` sets; a test needing them fails (does not skip) when
they are missing. Each test gets its own PostgreSQL schema, SQLite file and Redis key
namespace, so tests never see each other's rows or counters.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiport.limits import open_redis
from aiport.store.database import Database, open_database, sqlite_url
from aiport.store.migrations import upgrade

SERVICES_HINT = 'run `eval "$(scripts/test-services.sh)"` first (it starts PostgreSQL and Redis)'


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: {SERVICES_HINT}", pytrace=False)
    return value


@pytest.fixture(scope="session")
def pg_url() -> str:
    return _env("AIPORT_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _env("AIPORT_TEST_REDIS_URL")


@pytest.fixture
def namespace() -> str:
    """A Redis key prefix / channel suffix of this test's own."""
    return f"aiport-test-{uuid.uuid4().hex[:12]}"


async def pg_schema_url(pg_url: str) -> tuple[str, str]:
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}search_path={schema}", schema


async def drop_schema(pg_url: str, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    """An empty database of each kind: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "aiport.db")
        return
    base = request.getfixturevalue("pg_url")
    url, schema = await pg_schema_url(base)
    yield url
    await drop_schema(base, schema)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A connected, migrated database (one per test, both dialects)."""
    database = open_database(db_url)
    await database.connect()
    await upgrade(database)
    yield database
    await database.close()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Any]:
    client = open_redis(redis_url)
    yield client
    await client.aclose()

"""Usage rows: one per request, through a database outage, a restart and replays."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from typing import Any

import pytest

from aiport.store.database import Database, SqliteDatabase, open_database
from aiport.store.migrations import upgrade
from aiport.store.usage import UsageRecord, UsageWriter, usage_report
from tests.support.tcp_relay import TcpProxy, host_port, with_port

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


class Outage:
    """A real outage of the test's database: a held write lock (SQLite) or a cut
    connection (PostgreSQL, reached through a relay)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.proxy: TcpProxy | None = None
        self.lock: sqlite3.Connection | None = None

    async def open(self) -> Database:
        if self.db_url.startswith("sqlite"):
            db: Database = SqliteDatabase(self.db_url, busy_timeout_ms=50)
        else:
            self.proxy = TcpProxy(*host_port(self.db_url, 5432))
            db = open_database(with_port(self.db_url, await self.proxy.start()))
        await db.connect()
        await upgrade(db)
        return db

    async def begin(self) -> None:
        if self.proxy is not None:
            await self.proxy.cut()
            return
        path = SqliteDatabase(self.db_url).path

        def lock() -> sqlite3.Connection:
            conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN EXCLUSIVE")
            return conn

        self.lock = await asyncio.to_thread(lock)

    async def end(self) -> None:
        if self.proxy is not None:
            await self.proxy.restore()
        elif self.lock is not None:
            self.lock.execute("ROLLBACK")
            self.lock.close()
            self.lock = None

    async def close(self) -> None:
        if self.proxy is not None:
            await self.proxy.cut()


def record(n: int, key_id: str | None = "key_" + "e" * 24) -> UsageRecord:
    return UsageRecord(
        request_id=f"req_{n:06d}",
        endpoint="/v1/chat/completions",
        status=200 if n % 10 else 500,
        key_id=key_id,
        model_requested="gpt-4o",
        model_used="smollm2-135m",
        backend="local",
        prompt_tokens=10,
        completion_tokens=n % 7,
        latency_ms=12.5,
        ttft_ms=3.0,
        cost_usd=0.0001,
    )


async def produce(writer: UsageWriter, numbers: range | list[int]) -> None:
    """Many concurrent request handlers, each recording its row when it finishes."""

    async def one(n: int) -> None:
        await asyncio.sleep(random.random() * 0.05)
        writer.record(record(n))

    await asyncio.gather(*(one(n) for n in numbers))


async def test_thousand_requests_outage_and_restart_give_exactly_one_row_each(
    db_url: str,
) -> None:
    outage = Outage(db_url)
    db = await outage.open()
    writer = UsageWriter(db, flush_interval=0.05, batch_size=50, max_backoff=0.2)
    writer.start()
    await produce(writer, range(0, 400))
    await asyncio.sleep(0.2)
    await outage.begin()
    await produce(writer, range(400, 700))
    await asyncio.sleep(0.4)  # flushes fail meanwhile; rows wait in memory
    assert writer.pending >= 300
    await outage.end()
    await writer.close()  # shutdown flushes what is left
    assert writer.pending == 0 and writer.dropped == 0
    await db.close()
    await outage.close()

    # The restarted instance; some requests are recorded again (a replayed batch).
    db = open_database(db_url)
    await db.connect()
    try:
        writer = UsageWriter(db, flush_interval=0.05, batch_size=50)
        writer.start()
        await produce(writer, [*range(700, 1000), *range(0, 100), *range(650, 700)])
        await writer.close()
        assert await db.fetchval("SELECT COUNT(*) FROM usage_records") == 1000
        assert await db.fetchval("SELECT COUNT(DISTINCT request_id) FROM usage_records") == 1000
    finally:
        await db.close()


async def test_close_gives_up_after_its_timeout_and_says_so(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    outage = Outage(db_url)
    db = await outage.open()
    writer = UsageWriter(db, flush_interval=0.05, max_backoff=0.1)
    await outage.begin()
    try:
        for n in range(5):
            writer.record(record(n))
        # The outage lasts: a close that kept retrying would never return.
        await asyncio.wait_for(writer.close(timeout=0.5), timeout=60)
        assert writer.pending == 5
        assert "closed with 5 rows unwritten" in caplog.text
    finally:
        await outage.end()
        await db.close()
        await outage.close()


async def test_a_row_the_database_refuses_does_not_block_the_others(db: Database) -> None:
    writer = UsageWriter(db)
    for n in range(10):
        writer.record(record(n))
    poison = record(99)
    poison.prompt_tokens = 2**70  # too big for BIGINT: refused by both databases
    writer.record(poison)
    writer.record(UsageRecord("req_nul\x00", "/v1/embeddings", 200, model_requested="a\x00b"))
    await writer.close()
    assert writer.dropped == 1
    assert await db.fetchval("SELECT COUNT(*) FROM usage_records") == 11
    assert (
        await db.fetchval(
            "SELECT model_requested FROM usage_records WHERE request_id = $1", "req_nul"
        )
        == "ab"
    )


async def test_report_totals_per_key_and_model(db: Database) -> None:
    writer = UsageWriter(db)
    a, b = "key_" + "1" * 24, "key_" + "2" * 24
    rows: list[dict[str, Any]] = [
        {
            "key_id": a,
            "model_requested": "gpt-4o",
            "status": 200,
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "cost_usd": 0.25,
            "created_at": 1000.0,
        },
        {"key_id": a, "model_requested": "gpt-4o", "status": 429, "created_at": 2000.0},
        {
            "key_id": a,
            "model_requested": "tts-1",
            "status": 200,
            "characters": 42,
            "cost_usd": 0.5,
            "created_at": 2000.0,
        },
        {
            "key_id": b,
            "model_requested": "gpt-4o",
            "status": 200,
            "prompt_tokens": 1,
            "created_at": 3000.0,
        },
    ]
    for i, fields in enumerate(rows):
        writer.record(UsageRecord(request_id=f"r{i}", endpoint="/x", **fields))
    await writer.close()
    report = {(r["key_id"], r["model"]): r for r in await usage_report(db)}
    assert set(report) == {(a, "gpt-4o"), (a, "tts-1"), (b, "gpt-4o")}
    first = report[(a, "gpt-4o")]
    assert (first["requests"], first["errors"], first["total_tokens"]) == (2, 1, 15)
    assert first["cost_usd"] == pytest.approx(0.25)
    assert report[(a, "tts-1")]["characters"] == 42
    only_a = await usage_report(db, key_id=a, since=1500.0)
    assert [(r["model"], r["requests"]) for r in only_a] == [("gpt-4o", 1), ("tts-1", 1)]
    assert await usage_report(db, key_id="' OR 1=1 --") == []

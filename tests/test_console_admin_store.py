"""What the console's pages read and change, at the store: editing a key's limits, a key's
last use, and usage over time per bucket, key and model (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest

from aiport.errors import InvalidRequest
from aiport.store.database import Database
from aiport.store.keys import KeyStore
from aiport.store.usage import UsageRecord, UsageWriter
from aiport.store.usage_series import MAX_BUCKETS, bucket_width, usage_series

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_update_changes_only_the_fields_given_and_clears_with_none(db: Database) -> None:
    store = KeyStore(db)
    record, _ = await store.create("svc", rpm=10, tpm=1000, max_budget_usd=5)
    version = await store.keys_version()

    updated = await store.update(record.id, {"rpm": 20, "max_budget_usd": None, "models": ["a"]})

    assert updated is not None
    assert (updated.rpm, updated.tpm, updated.max_budget_usd) == (20, 1000, None)
    assert updated.models == ("a",) and updated.name == "svc"
    assert await store.keys_version() == version + 1  # other instances' caches reload it
    assert await store.get(record.id) == updated


async def test_update_validates_like_create_and_refuses_other_fields(db: Database) -> None:
    store = KeyStore(db)
    record, _ = await store.create("svc")
    for changes, param in [
        ({"rpm": 0}, "rpm"),
        ({"name": ""}, "name"),
        ({"expires_at": time.time() - 10}, "expires_at"),
        ({"key_hash": "x"}, "key_hash"),
        ({"is_admin": True}, "is_admin"),
    ]:
        with pytest.raises(InvalidRequest) as caught:
            await store.update(record.id, changes)
        assert caught.value.param == param
    assert await store.get(record.id) == record
    assert await store.update("key_000000000000000000000000", {"rpm": 5}) is None
    assert await store.update("'; DROP TABLE api_keys; --", {"rpm": 5}) is None


async def _write(db: Database, rows: list[UsageRecord]) -> None:
    writer = UsageWriter(db)
    for row in rows:
        writer.record(row)
    assert await writer.flush()


async def test_last_use_is_the_newest_usage_row(db: Database) -> None:
    store = KeyStore(db)
    used, _ = await store.create("used")
    idle, _ = await store.create("idle")
    await _write(
        db,
        [
            UsageRecord("r1", "/v1/embeddings", 200, key_id=used.id, created_at=1000.0),
            UsageRecord("r2", "/v1/embeddings", 200, key_id=used.id, created_at=2000.0),
        ],
    )
    spend = await store.spend_by_key()
    assert spend[used.id].last_used_at == 2000.0
    assert idle.id not in spend


async def test_usage_series_sums_per_bucket_key_and_model(db: Database) -> None:
    store = KeyStore(db)
    key, _ = await store.create("svc")
    t0 = 1_800_000_000.0  # a multiple of 3600
    await _write(
        db,
        [
            UsageRecord(
                "a",
                "/v1/chat/completions",
                200,
                key_id=key.id,
                model_requested="gpt-4o",
                prompt_tokens=10,
                completion_tokens=5,
                cost_usd=0.25,
                latency_ms=100,
                created_at=t0 + 10,
            ),
            UsageRecord(
                "b",
                "/v1/chat/completions",
                429,
                key_id=key.id,
                model_requested="gpt-4o",
                latency_ms=300,
                created_at=t0 + 20,
            ),
            UsageRecord(
                "c",
                "/v1/embeddings",
                200,
                key_id="master",
                model_requested="emb",
                prompt_tokens=7,
                created_at=t0 + 3600 + 5,
            ),
            UsageRecord("d", "/admin/keys", 200, key_id="master", created_at=t0 + 30),
            UsageRecord("e", "/me", 200, key_id=key.id, created_at=t0 + 40),
            UsageRecord("old", "/v1/embeddings", 200, key_id=key.id, created_at=t0 - 1),
        ],
    )

    series = await usage_series(db, since=t0, until=t0 + 7200, bucket=3600)

    assert series["bucket_seconds"] == 3600
    rows = [(r["t"], r["key_id"], r["model"], r["requests"], r["errors"]) for r in series["data"]]
    assert rows == [(t0, key.id, "gpt-4o", 2, 1), (t0 + 3600, "master", "emb", 1, 0)]
    first = series["data"][0]
    assert first["key_name"] == "svc" and first["key_prefix"] == key.prefix
    assert (first["prompt_tokens"], first["completion_tokens"], first["total_tokens"]) == (
        10,
        5,
        15,
    )
    assert first["cost_usd"] == 0.25
    assert (first["latency_ms_avg"], first["latency_ms_max"]) == (200.0, 300.0)

    mine = await usage_series(db, since=t0, until=t0 + 7200, bucket=3600, key_id=key.id)
    assert {r["key_id"] for r in mine["data"]} == {key.id}
    everything = await usage_series(db, since=t0, until=t0 + 7200, bucket=60, include_admin=True)
    assert sum(r["requests"] for r in everything["data"]) == 5


async def test_bucket_width_is_round_and_bounded() -> None:
    assert bucket_width(0, 3600) == 60
    assert bucket_width(0, 86400) == 1800
    assert bucket_width(0, 30 * 86400) == 43200
    assert bucket_width(0, 86400, 300) == 300
    with pytest.raises(InvalidRequest):
        bucket_width(0, 86400 * 365, 60)  # more than MAX_BUCKETS
    with pytest.raises(InvalidRequest):
        bucket_width(0, 3600, 0)
    assert 86400 * 365 / bucket_width(0, 86400 * 365) <= MAX_BUCKETS

"""Usage analytics: grouped sums and percentiles, the same before and after the hourly
roll-up, on SQLite and PostgreSQL; rows written late to a rolled-up hour still count."""

from __future__ import annotations

import asyncio
import json
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from aiport import cli_admin
from aiport.errors import InvalidRequest
from aiport.store import usage_rollup
from aiport.store.database import Database
from aiport.store.usage import UsageRecord, UsageWriter
from aiport.store.usage_analytics import parse_by, percentile, usage_analytics

DATA = Path(__file__).parent / "data"

pytest_plugins = ["tests.support.store_fixtures"]

DAY = 86400
# A fixed Monday noon (UTC), far enough in the past that its hours are finished.
T0 = 1_764_590_400.0
NOW = T0 + 3 * DAY


def rec(n: int, at: float, **fields: Any) -> UsageRecord:
    defaults: dict[str, Any] = {
        "endpoint": "/v1/chat/completions",
        "status": 200,
        "key_id": "key_a",
        "model_requested": "gpt-4o",
        "model_used": "gpt-4o",
        "backend": "openai",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "latency_ms": 100.0,
        "cost_usd": 0.001,
    }
    return UsageRecord(request_id=f"req_{n:06d}", created_at=at, **(defaults | fields))


async def write(db: Database, records: list[UsageRecord]) -> None:
    writer = UsageWriter(db)
    for r in records:
        writer.record(r)
    assert await writer.flush()


def mix() -> list[UsageRecord]:
    records = []
    # Day 0, two hours, key_a on gpt-4o: latencies 1..100 ms, every tenth an error.
    for i in range(100):
        records.append(
            rec(
                i,
                T0 + (i % 2) * 3600 + i,
                latency_ms=float(i + 1),
                ttft_ms=float(i + 1) / 2 if i < 50 else None,
                status=500 if i % 10 == 0 else 200,
            )
        )
    # Day 1: key_b on a local engine (free) and an unpriced upstream model.
    for i in range(20):
        records.append(
            rec(
                100 + i,
                T0 + DAY + i,
                key_id="key_b",
                model_requested="gpt-4o-mini" if i < 15 else "mystery",
                backend="chat" if i < 15 else "vllm",
                cost_usd=0.0,
                unpriced=i >= 15,
                latency_ms=2000.0,
            )
        )
    return records


async def test_grouped_sums_are_exact_and_the_same_after_the_roll_up(db: Database) -> None:
    await write(db, mix())
    await db.execute(
        "INSERT INTO api_keys (id, name, prefix, key_hash, created_at, updated_at)"
        " VALUES ('key_a', 'team a', 'sk-aip-aaaa', 'h', 0, 0)"
    )
    before = await usage_analytics(db, ("key", "model", "day"), until=NOW)
    assert await usage_rollup.compact(db, now=NOW) == 3  # two hours of day 0, one of day 1
    assert await usage_rollup.clean_hours(db, None, NOW) == [T0, T0 + 3600, T0 + DAY]
    after = await usage_analytics(db, ("key", "model", "day"), until=NOW)
    assert after == before
    a, b_mini, b_mystery = after
    assert a["key_id"] == "key_a" and a["key_name"] == "team a" and a["model"] == "gpt-4o"
    assert a["time"] == T0 - T0 % DAY
    assert (a["requests"], a["errors"]) == (100, 10)
    assert (a["prompt_tokens"], a["completion_tokens"], a["total_tokens"]) == (1000, 500, 1500)
    assert a["cost_usd"] == pytest.approx(0.1)
    assert a["latency_ms_avg"] == pytest.approx(50.5)
    # Estimated within their buckets (35–50, 75–100, 75–100 ms).
    assert 35 < a["latency_ms_p50"] <= 50
    assert 75 < a["latency_ms_p95"] <= 100 and 75 < a["latency_ms_p99"] <= 100
    assert a["ttft_ms_avg"] == pytest.approx(12.75)
    assert 10 < a["ttft_ms_p50"] <= 20
    assert b_mini["key_name"] is None and b_mini["time"] == a["time"] + DAY
    assert (b_mini["requests"], b_mini["cost_usd"], b_mini["unpriced_requests"]) == (15, 0, 0)
    assert b_mini["ttft_ms_p50"] is None and b_mini["ttft_ms_avg"] is None
    assert (b_mystery["model"], b_mystery["unpriced_requests"]) == ("mystery", 5)
    assert 1500 < b_mystery["latency_ms_p50"] <= 2000


async def test_ranges_filters_and_groupings(db: Database) -> None:
    await write(db, mix())
    await usage_rollup.compact(db, now=NOW)
    # A range cutting an hour in half reads that hour from the rows: exact at any edge.
    half = await usage_analytics(db, (), since=T0 + 3600, until=T0 + 3600 + 50)
    assert [r["requests"] for r in half] == [25]  # odd i < 100 with i < 50
    by_provider = await usage_analytics(db, ("provider",), until=NOW)
    assert [(r["provider"], r["requests"]) for r in by_provider] == [
        ("chat", 15),
        ("openai", 100),
        ("vllm", 5),
    ]
    hours = await usage_analytics(db, ("hour",), until=T0 + DAY - 1, key_id="key_a")
    assert [(r["time"], r["requests"]) for r in hours] == [(T0, 50), (T0 + 3600, 50)]
    assert await usage_analytics(db, ("model",), model="nope", until=NOW) == []
    only_b = await usage_analytics(db, ("endpoint",), key_id="key_b", provider="vllm", until=NOW)
    assert [(r["endpoint"], r["requests"]) for r in only_b] == [("/v1/chat/completions", 5)]
    assert await usage_analytics(db, ("key",), key_id="' OR 1=1 --", until=NOW) == []


async def test_a_row_written_late_to_a_rolled_up_hour_counts_at_once(db: Database) -> None:
    await write(db, mix())
    await usage_rollup.compact(db, now=NOW)
    await write(db, [rec(999, T0 + 10, latency_ms=5.0)])  # e.g. held back by an outage
    assert T0 not in await usage_rollup.clean_hours(db, None, NOW)
    day0 = await usage_analytics(db, ("day",), until=T0 + DAY - 1)
    assert day0[0]["requests"] == 101
    assert await usage_rollup.compact(db, now=NOW) == 1
    assert await usage_analytics(db, ("day",), until=T0 + DAY - 1) == day0


async def test_the_current_hour_is_never_rolled_up(db: Database) -> None:
    await write(db, [rec(1, NOW - 10)])
    assert await usage_rollup.compact(db, now=NOW) == 0
    rows = await usage_analytics(db, ("model",), since=NOW - 3600, until=NOW)
    assert rows[0]["requests"] == 1


def test_groupings_are_checked() -> None:
    assert parse_by(None) == ("key", "model")
    assert parse_by("model, day,model") == ("model", "day")
    with pytest.raises(InvalidRequest) as bad:
        parse_by("model,prompt")
    assert bad.value.param == "by"
    with pytest.raises(InvalidRequest):
        parse_by("hour,day")


def test_percentiles_interpolate_within_a_bucket() -> None:
    bounds = usage_rollup.LATENCY_BOUNDS_MS
    cumulative = [0] * len(bounds)
    i100 = bounds.index(100)
    for i in range(i100, len(bounds)):
        cumulative[i] = 10  # ten values in (75, 100]
    assert percentile(cumulative, 10, 0.5) == pytest.approx(87.5)
    assert percentile(cumulative, 10, 1.0) == 100
    assert percentile(cumulative, 0, 0.5) is None
    assert percentile([0] * len(bounds), 3, 0.5) == bounds[-1]  # all beyond the last bound


async def test_the_cli_prints_and_dumps_json(
    db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await write(db, mix())
    args = Namespace(
        by="model,day", since=None, until=None, key=None, model=None, provider=None, json=True
    )
    args.until = "2025-12-04T12:00:00Z"  # NOW

    assert await asyncio.to_thread(cli_admin.run_usage, args, db_url) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["requests"]) for r in rows] == [
        ("gpt-4o", 100),
        ("gpt-4o-mini", 15),
        ("mystery", 5),
    ]
    args.json = False
    assert await asyncio.to_thread(cli_admin.run_usage, args, db_url) == 0
    # byte for byte, as `aiport usage --by model,day` has always printed it
    assert capsys.readouterr().out == (DATA / "usage_table.txt").read_text()
    args.by = "colour"
    assert await asyncio.to_thread(cli_admin.run_usage, args, db_url) == 1
    assert "cannot group usage by 'colour'" in capsys.readouterr().err

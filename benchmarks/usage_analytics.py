"""Usage analytics on a million usage rows in PostgreSQL: how long `aiport usage` takes.

Generates `--rows` usage rows (default 1,000,000) spread over the last 7 days — 40 keys
(apps) calling 3 routes each out of 12 models, 4 providers and 3 endpoints, a tenth of them
errors, latencies and times to first token drawn from log-normal distributions — into a
schema of its own in the PostgreSQL at `--database-url` (default: `AIPORT_TEST_DATABASE_URL`,
which `scripts/test-services.sh` sets), then rolls them up as a running server does in the
background once an hour is over, then times, best of `--repeat`:

- the query behind `aiport usage --since 7d --by model,day` and a few other groupings;
- the whole command as a user runs it (a new process: start-up, connect, query, print);
- as a baseline from the same run, a bare `SELECT COUNT(*)` over the same rows.

    eval "$(scripts/test-services.sh)"
    .venv/bin/python benchmarks/usage_analytics.py [--rows 1000000] [--keep]

The schema is dropped afterwards unless `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg

from aiport.store import usage_rollup as rollup
from aiport.store.database import open_database
from aiport.store.migrations import upgrade
from aiport.store.usage_analytics import usage_analytics

ROOT = Path(__file__).resolve().parent.parent
MODELS = [f"model-{i}" for i in range(12)]
PROVIDERS = ["openai", "vllm", "azure", "chat"]
ENDPOINTS = ["/v1/chat/completions", "/v1/embeddings", "/chat/completions"]
GROUPINGS = ["model,day", "key,model", "provider,hour", "key,day", ""]


def _rows(count: int, now: float, keys: list[str], seed: int) -> list[tuple[object, ...]]:
    rng = random.Random(7)
    # A key is an app: it calls a few (endpoint, model, provider) routes, not every one.
    habits = {
        k: [(rng.choice(ENDPOINTS), rng.choice(MODELS), rng.choice(PROVIDERS)) for _ in range(3)]
        for k in keys
    }
    rng.seed(seed)
    rows = []
    for n in range(count):
        key = rng.choice(keys)
        endpoint, model, provider = rng.choice(habits[key])
        status = 200 if rng.random() > 0.1 else rng.choice((429, 500, 400))
        prompt, completion = rng.randint(5, 3000), rng.randint(0, 800)
        latency = rng.lognormvariate(6, 0.8)
        ttft = latency * rng.random() if rng.random() < 0.5 else None
        rows.append(
            (
                f"req_bench{n:012x}",
                key,
                now - rng.random() * 7 * 86400,
                endpoint,
                model,
                model,
                provider,
                status,
                None if status == 200 else "server_error",
                prompt,
                completion,
                latency,
                ttft,
                (prompt * 2.5 + completion * 10) / 1e6,
                int(rng.random() < 0.01),
            )
        )
    return rows


COLUMNS = (
    "request_id",
    "key_id",
    "created_at",
    "endpoint",
    "model_requested",
    "model_used",
    "backend",
    "status",
    "error_type",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "ttft_ms",
    "cost_usd",
    "unpriced",
)


async def _fill(url: str, rows: int) -> None:
    db = open_database(url)
    await db.connect()
    await upgrade(db)
    await db.close()
    conn = await asyncpg.connect(url.split("?")[0], server_settings=_settings(url))
    try:
        now = time.time()
        keys = [f"key_{i:04d}" for i in range(40)]
        await conn.executemany(
            "INSERT INTO api_keys (id, name, prefix, key_hash, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $5)",
            [(k, f"team-{k[-2:]}", "sk-aip-" + k[-4:], uuid.uuid4().hex, now) for k in keys],
        )
        step = 100_000
        for start in range(0, rows, step):
            batch = _rows(min(step, rows - start), now, keys, seed=start)
            batch = [(f"{r[0]}_{start}", *r[1:]) for r in batch]
            await conn.copy_records_to_table("usage_records", records=batch, columns=COLUMNS)
        # As the usage writer would have: every hour with rows is pending a roll-up.
        await conn.execute(rollup.create_statements("postgresql")[-1])
        await conn.execute("ANALYZE usage_records")
    finally:
        await conn.close()


async def _roll_up(url: str) -> None:
    """What a running server does in the background once an hour is over."""
    db = open_database(url)
    await db.connect()
    try:
        while await rollup.compact(db, limit=1000):
            pass
    finally:
        await db.close()


def _settings(url: str) -> dict[str, str]:
    query = url.split("?", 1)[1] if "?" in url else ""
    return dict(part.split("=", 1) for part in query.split("&") if part)


async def _time_queries(url: str, repeat: int) -> dict[str, float]:
    db = open_database(url)
    await db.connect()
    since = time.time() - 7 * 86400
    timings: dict[str, float] = {}
    try:
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            await db.fetchval("SELECT COUNT(*) FROM usage_records WHERE created_at >= $1", since)
            best = min(best, time.perf_counter() - started)
        timings["baseline: SELECT COUNT(*)"] = best
        for by in GROUPINGS:
            best = float("inf")
            for _ in range(repeat):
                started = time.perf_counter()
                await usage_analytics(db, by.split(",") if by else [], since=since)
                best = min(best, time.perf_counter() - started)
            timings[f"query --by {by or '(total)'}"] = best
    finally:
        await db.close()
    return timings


def _time_command(url: str, repeat: int) -> tuple[float, float]:
    """Best wall-clock seconds of the command, and its CPU seconds (user + system)."""
    env = {**os.environ, "AIPORT_DATABASE_URL": url}
    command = [sys.executable, "-m", "aiport", "usage", "--since", "7d", "--by", "model,day"]
    best, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        out = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
        best = min(best, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        cpu = min(cpu, used)
        if out.returncode != 0:
            raise SystemExit(out.stderr)
    return best, cpu


async def _schema(base: str, drop: str | None = None) -> str:
    conn = await asyncpg.connect(base)
    try:
        if drop:
            await conn.execute(f"DROP SCHEMA {drop} CASCADE")
            return drop
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        await conn.execute(f"CREATE SCHEMA {schema}")
        return schema
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("AIPORT_TEST_DATABASE_URL"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the generated schema")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit('set --database-url or run: eval "$(scripts/test-services.sh)"')
    base = args.database_url
    schema = asyncio.run(_schema(base))
    url = f"{base}{'&' if '?' in base else '?'}search_path={schema}"
    try:
        started = time.perf_counter()
        asyncio.run(_fill(url, args.rows))
        print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s ({schema})")
        started = time.perf_counter()
        asyncio.run(_roll_up(url))
        print(f"rolled up 7 days of hours in {time.perf_counter() - started:.1f} s (background)")
        for name, seconds in asyncio.run(_time_queries(url, args.repeat)).items():
            print(f"{name:40} {seconds * 1000:8.0f} ms")
        seconds, cpu = _time_command(url, args.repeat)
        command = "aiport usage --since 7d --by model,day"
        print(f"{command:40} {seconds * 1000:8.0f} ms (whole command; {cpu * 1000:.0f} ms CPU)")
    finally:
        if not args.keep:
            asyncio.run(_schema(base, drop=schema))


if __name__ == "__main__":
    main()

"""Hourly roll-ups of the usage rows, so that a week of a million requests sums in
milliseconds instead of seconds.

`usage_hourly` holds, per UTC hour and (key, requested model, served model, provider,
endpoint), the sums of the usage rows and histograms of their latency and time to first
token (cumulative counts at the bounds in `LATENCY_BOUNDS_MS`, as Prometheus does).
`usage_hours` says per hour whether its roll-up is current: the usage writer adds to an
hour's `pending` count in the same transaction as the rows it writes (so a row is never
written without its hour being marked), and `compact()` rebuilds the roll-ups of finished
hours that are pending from their rows, then subtracts what it saw (so rows written
meanwhile leave the hour pending for the next run). An hour is *clean* when its row exists
with `pending = 0`: its roll-up is exact. Readers take clean hours from the roll-up and
everything else (the current hour, hours with rows written late) from the rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from aiport.store.database import Database, Session

log = logging.getLogger(__name__)

HOUR = 3600
SETTLE_SECONDS = 60  # an hour is rolled up once it has been over for this long
_PG_LOCK_ID = 0x6169706F7275  # one compactor at a time across instances
# Bucket bounds in ms: finer where LLM latencies usually fall; percentiles are interpolated
# within a bucket, so they are as precise as these steps (about ±20% between 100 ms and 10 s).
LATENCY_BOUNDS_MS = (
    1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 400, 500, 700, 1000, 1500, 2000,
    3000, 4000, 5000, 7500, 10000, 15000, 20000, 30000, 60000, 120000, 300000,
)  # fmt: skip
DIMENSION_COLUMNS = ("key_id", "model_requested", "model_used", "backend", "endpoint")
SUM_COLUMNS = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "audio_seconds",
    "images",
    "characters",
    "cost_usd",
    "unpriced",
    "latency_n",
    "latency_sum",
    "ttft_n",
    "ttft_sum",
)
LATENCY_BUCKETS = tuple(f"l{i}" for i in range(len(LATENCY_BOUNDS_MS)))
TTFT_BUCKETS = tuple(f"t{i}" for i in range(len(LATENCY_BOUNDS_MS)))
ALL_SUMS = SUM_COLUMNS + LATENCY_BUCKETS + TTFT_BUCKETS


def row_sums_sql() -> str:
    """The sums of `ALL_SUMS` over usage rows `u`, as a SELECT list."""
    parts = [
        "COUNT(*) AS requests",
        "SUM(CASE WHEN u.status >= 400 THEN 1 ELSE 0 END) AS errors",
        *(
            f"SUM(u.{c}) AS {c}"
            for c in (
                "prompt_tokens",
                "completion_tokens",
                "audio_seconds",
                "images",
                "characters",
                "cost_usd",
                "unpriced",
            )
        ),
        "COUNT(u.latency_ms) AS latency_n",
        "SUM(u.latency_ms) AS latency_sum",
        "COUNT(u.ttft_ms) AS ttft_n",
        "SUM(u.ttft_ms) AS ttft_sum",
    ]
    for column, names in (("latency_ms", LATENCY_BUCKETS), ("ttft_ms", TTFT_BUCKETS)):
        for name, bound in zip(names, LATENCY_BOUNDS_MS, strict=True):
            parts.append(f"SUM(CASE WHEN u.{column} <= {bound} THEN 1 ELSE 0 END) AS {name}")
    return ", ".join(parts)


def rollup_sums_sql() -> str:
    """The sums of `ALL_SUMS` over roll-up rows `r`, as a SELECT list."""
    return ", ".join(f"SUM(r.{c}) AS {c}" for c in ALL_SUMS)


def hour_of_sql(dialect: str, column: str = "u.created_at") -> str:
    """The UTC hour (Unix seconds) a time column falls in, as an integer."""
    # CAST truncates on SQLite (the floor for these positive times); PostgreSQL's rounds.
    if dialect == "sqlite":
        return f"(CAST({column} / {HOUR} AS INTEGER) * {HOUR})"
    return f"(CAST(FLOOR({column} / {HOUR}) AS BIGINT) * {HOUR})"


def create_statements(dialect: str) -> tuple[str, ...]:
    """The roll-up tables, and every hour that already has rows marked pending."""
    integers = [f"{c} BIGINT NOT NULL DEFAULT 0" for c in LATENCY_BUCKETS + TTFT_BUCKETS]
    return (
        f"""
        CREATE TABLE usage_hourly (
            hour BIGINT NOT NULL,
            key_id TEXT,
            model_requested TEXT,
            model_used TEXT,
            backend TEXT,
            endpoint TEXT NOT NULL,
            requests BIGINT NOT NULL DEFAULT 0,
            errors BIGINT NOT NULL DEFAULT 0,
            prompt_tokens BIGINT NOT NULL DEFAULT 0,
            completion_tokens BIGINT NOT NULL DEFAULT 0,
            audio_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
            images BIGINT NOT NULL DEFAULT 0,
            characters BIGINT NOT NULL DEFAULT 0,
            cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
            unpriced BIGINT NOT NULL DEFAULT 0,
            latency_n BIGINT NOT NULL DEFAULT 0,
            latency_sum DOUBLE PRECISION,
            ttft_n BIGINT NOT NULL DEFAULT 0,
            ttft_sum DOUBLE PRECISION,
            {", ".join(integers)}
        )
        """,
        "CREATE INDEX usage_hourly_hour ON usage_hourly (hour)",
        "CREATE TABLE usage_hours (hour BIGINT PRIMARY KEY, pending BIGINT NOT NULL)",
        f"INSERT INTO usage_hours (hour, pending) SELECT DISTINCT {hour_of_sql(dialect)}, 1"
        " FROM usage_records u",
    )


def hours_of(times: Iterable[float]) -> list[int]:
    """The distinct hours of `times`, ascending (the order rows are locked in)."""
    return sorted({int(t // HOUR) * HOUR for t in times})


async def mark_pending(session: Session, hours: list[int]) -> None:
    """Note that rows of `hours` are being written (call inside the same transaction)."""
    for hour in hours:
        await session.execute(
            "INSERT INTO usage_hours (hour, pending) VALUES ($1, 1)"
            " ON CONFLICT (hour) DO UPDATE SET pending = usage_hours.pending + 1",
            hour,
        )


async def clean_hours(db: Database, since: float | None, until: float) -> list[int]:
    """The hours inside `[since, until)` whose roll-up is exact, ascending."""
    args: list[float] = [float(until)]
    sql = f"SELECT hour FROM usage_hours WHERE pending = 0 AND hour + {HOUR} <= $1"
    if since is not None:
        args.append(float(since))
        sql += " AND hour >= $2"
    return [int(r["hour"]) for r in await db.fetch(sql + " ORDER BY hour", *args)]


async def compact(db: Database, now: float | None = None, limit: int = 48) -> int:
    """Rebuild the roll-ups of up to `limit` finished pending hours; the number rebuilt.
    Another instance compacting at the same time makes this one skip (PostgreSQL)."""
    now = time.time() if now is None else now
    rows = await db.fetch(
        f"SELECT hour, pending FROM usage_hours WHERE pending > 0 AND hour + {HOUR} <= $1"
        " ORDER BY hour LIMIT $2",
        now - SETTLE_SECONDS,
        limit,
    )
    done = 0
    for row in rows:
        if not await _rebuild(db, int(row["hour"]), int(row["pending"])):
            break
        done += 1
    if done:
        log.debug("rolled up %d hours of usage", done)
    return done


async def _rebuild(db: Database, hour: int, seen: int) -> bool:
    dims = ", ".join(f"u.{c}" for c in DIMENSION_COLUMNS)
    columns = ", ".join(("hour", *DIMENSION_COLUMNS, *ALL_SUMS))
    async with db.transaction(exclusive=True) as s:
        if db.dialect == "postgresql" and not await s.fetchval(
            "SELECT pg_try_advisory_xact_lock($1)", _PG_LOCK_ID
        ):
            return False
        await s.execute("DELETE FROM usage_hourly WHERE hour = $1", hour)
        await s.execute(
            f"INSERT INTO usage_hourly ({columns})"
            f" SELECT CAST($1 AS BIGINT), {dims}, {row_sums_sql()} FROM usage_records u"
            f" WHERE u.created_at >= $2 AND u.created_at < $3 GROUP BY {dims}",
            hour,
            float(hour),
            float(hour + HOUR),
        )
        await s.execute("UPDATE usage_hours SET pending = pending - $1 WHERE hour = $2", seen, hour)
    return True


class Compactor:
    """Runs `compact()` every `interval` seconds in the background, logging failures (a
    database that is down only delays roll-ups: readers use the rows meanwhile)."""

    def __init__(self, db: Database, interval: float = 60.0) -> None:
        self.db = db
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="usage-rollup")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                while await compact(self.db) > 0:
                    pass
            except Exception as exc:
                log.warning("could not roll up usage: %s: %s", type(exc).__name__, exc)

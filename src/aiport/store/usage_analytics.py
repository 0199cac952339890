"""Usage analytics: usage grouped by key, model, provider, endpoint and time bucket.

`usage_analytics(db, by=("model", "day"), since=…)` returns one row per group with the
request and error counts, tokens and other units, cost (with the count of requests served
without a price, whose cost is not in `cost_usd`), and latency and time-to-first-token
averages and percentiles. `GET /admin/usage`, `aiport usage` and the console read it.

Finished hours come from the hourly roll-ups (`usage_rollup`), everything else (the
current hour, the partial hours at the range's ends, hours with rows written late) from the
rows themselves; both give the same sums, so the answer is exact whatever was rolled up.
Percentiles are estimated from the roll-ups' latency buckets, interpolating within a
bucket as Prometheus' `histogram_quantile` does. Time buckets are UTC, aligned to their
width (an hour bucket starts on the hour); a bucket without requests has no row.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from aiport.errors import InvalidRequest
from aiport.store import usage_rollup as rollup
from aiport.store.database import Database

# Dimension → the usage row's column and the name it has in a result row.
_COLUMNS = {
    "key": ("key_id", "key_id"),
    "model": ("model_requested", "model"),
    "served_model": ("model_used", "served_model"),
    "provider": ("backend", "provider"),
    "endpoint": ("endpoint", "endpoint"),
}
BUCKETS = {"hour": 3600, "day": 86400}
DIMENSIONS = (*_COLUMNS, *BUCKETS)
DEFAULT_BY = ("key", "model")
LATENCY_PERCENTILES = (50, 95, 99)
TTFT_PERCENTILES = (50, 95)
_INTS = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "images",
    "characters",
)


def parse_by(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """The grouping from `key,model,day`-style text (default: key and model); a 400 for
    an unknown dimension or for two time buckets. An empty sequence: one total row."""
    if text is None or text == "":
        return DEFAULT_BY
    names = text.split(",") if isinstance(text, str) else list(text)
    by = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in by if n not in DIMENSIONS]
    if unknown:
        raise InvalidRequest(
            f"cannot group usage by {unknown[0][:40]!r}; choose from {', '.join(DIMENSIONS)}",
            param="by",
        )
    if sum(n in BUCKETS for n in by) > 1:
        raise InvalidRequest("group by one time bucket at most (hour or day)", param="by")
    return by


async def usage_analytics(
    db: Database,
    by: Sequence[str] = DEFAULT_BY,
    *,
    since: float | None = None,
    until: float | None = None,
    key_id: str | None = None,
    model: str | None = None,
    provider: str | None = None,
) -> list[dict[str, Any]]:
    """One row per group of `by` (see `DIMENSIONS`) over `[since, until)` (until: now),
    ordered by the groups in `by`'s order. A row has the group's columns (`key_id`,
    `key_name`, `key_prefix` for `key`; `time`, the bucket's start in Unix seconds, for
    `hour`/`day`), the sums, `total_tokens`, `unpriced_requests`, `latency_ms_avg`,
    `latency_ms_p50/p95/p99`, `ttft_ms_avg` and `ttft_ms_p50/p95` (None without values)."""
    by = tuple(by)
    until = time.time() if until is None else float(until)
    filters = {"key_id": key_id, "model_requested": model, "backend": provider}
    clean = _intervals(await rollup.clean_hours(db, since, until))
    gaps = _gaps(clean, since, until)
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    if clean:
        sql, args = _query(db, by, clean, filters, from_rollup=True)
        _add(groups, await db.fetch(sql, *args), len(by))
    if gaps:
        sql, args = _query(db, by, gaps, filters, from_rollup=False)
        _add(groups, await db.fetch(sql, *args), len(by))
    names = await _key_names(db) if "key" in by else {}
    ordered = sorted(groups.items(), key=lambda item: [(v is None, v) for v in item[0]])
    return [_result(by, key, sums, names) for key, sums in ordered]


Interval = tuple[float | None, float | None]


def _intervals(hours: list[int]) -> list[Interval]:
    """Consecutive clean hours merged into `[start, end)` intervals."""
    merged: list[Interval] = []
    for hour in hours:
        if merged and merged[-1][1] == hour:
            merged[-1] = (merged[-1][0], hour + rollup.HOUR)
        else:
            merged.append((hour, hour + rollup.HOUR))
    return merged


def _gaps(clean: list[Interval], since: float | None, until: float) -> list[Interval]:
    """`[since, until)` without the clean intervals."""
    gaps: list[Interval] = []
    start: float | None = since
    for begin, end in clean:
        if start is None or (begin is not None and begin > start):
            gaps.append((start, begin))
        start = end
    if start is None or start < until:
        gaps.append((start, until))
    return gaps


def _query(
    db: Database,
    by: tuple[str, ...],
    spans: list[Interval],
    filters: dict[str, str | None],
    *,
    from_rollup: bool,
) -> tuple[str, list[Any]]:
    alias, time_column = ("r", "r.hour") if from_rollup else ("u", "u.created_at")
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    hour = "r.hour" if from_rollup else rollup.hour_of_sql(db.dialect)
    selects = []
    for i, name in enumerate(by):
        if name in BUCKETS:
            width = BUCKETS[name]
            expr = f"({hour} / {width}) * {width}" if width > rollup.HOUR else hour
        else:
            expr = f"{alias}.{_COLUMNS[name][0]}"
        selects.append(f"{expr} AS g{i}")
    ranges = []
    for start, end in spans:
        parts = []
        if start is not None:
            parts.append(f"{time_column} >= {arg(float(start))}")
        if end is not None:
            parts.append(f"{time_column} < {arg(float(end))}")
        ranges.append("(" + " AND ".join(parts or ["1 = 1"]) + ")")
    where = ["(" + " OR ".join(ranges) + ")"]
    where += [f"{alias}.{c} = {arg(v)}" for c, v in filters.items() if v is not None]
    sums = rollup.rollup_sums_sql() if from_rollup else rollup.row_sums_sql()
    table = "usage_hourly r" if from_rollup else "usage_records u"
    sql = f"SELECT {''.join(s + ', ' for s in selects)}{sums} FROM {table}"
    sql += " WHERE " + " AND ".join(where)
    if by:
        sql += " GROUP BY " + ", ".join(f"g{i}" for i in range(len(by)))
    return sql, args


def _add(groups: dict[tuple[Any, ...], dict[str, Any]], rows: list[dict[str, Any]], n: int) -> None:
    for row in rows:
        if not row["requests"]:
            continue  # an aggregate without groups answers one row even for no rows
        key = tuple(
            int(row[f"g{i}"]) if isinstance(row[f"g{i}"], float) else row[f"g{i}"] for i in range(n)
        )
        sums = groups.setdefault(key, dict.fromkeys(rollup.ALL_SUMS, 0))
        for column in rollup.ALL_SUMS:
            value = row[column]
            if value is not None:
                sums[column] += value


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, float) else value


async def _key_names(db: Database) -> dict[str, tuple[str | None, str | None]]:
    rows = await db.fetch("SELECT id, name, prefix FROM api_keys")
    return {r["id"]: (r["name"], r["prefix"]) for r in rows}


def _result(
    by: tuple[str, ...],
    key: tuple[Any, ...],
    sums: dict[str, Any],
    names: dict[str, tuple[str | None, str | None]],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in zip(by, key, strict=True):
        if name in BUCKETS:
            out["time"] = int(value)
            continue
        out[_COLUMNS[name][1]] = value
        if name == "key":
            out["key_name"], out["key_prefix"] = names.get(value, (None, None))
    for name in _INTS:
        out[name] = int(sums[name])
    out["total_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    out["audio_seconds"] = float(sums["audio_seconds"])
    out["cost_usd"] = round(float(sums["cost_usd"]), 9)
    out["unpriced_requests"] = int(sums["unpriced"])
    for prefix, column, buckets, points in (
        ("latency", "latency_ms", rollup.LATENCY_BUCKETS, LATENCY_PERCENTILES),
        ("ttft", "ttft_ms", rollup.TTFT_BUCKETS, TTFT_PERCENTILES),
    ):
        count = int(sums[f"{prefix}_n"])
        out[f"{column}_avg"] = round(float(sums[f"{prefix}_sum"]) / count, 3) if count else None
        cumulative = [int(sums[b]) for b in buckets]
        for p in points:
            out[f"{column}_p{p}"] = percentile(cumulative, count, p / 100)
    return out


def percentile(cumulative: list[int], count: int, q: float) -> float | None:
    """The `q` quantile from cumulative bucket counts at `LATENCY_BOUNDS_MS` (`count`
    values in all), interpolated linearly within its bucket; the last bound for values
    beyond it. None without values."""
    if count == 0:
        return None
    rank = q * count
    bounds = rollup.LATENCY_BOUNDS_MS
    below, lower = 0, 0.0
    for seen, upper in zip(cumulative, bounds, strict=True):
        if seen >= rank and seen > below:
            return round(lower + (upper - lower) * (rank - below) / (seen - below), 3)
        below, lower = seen, float(upper)
    return float(bounds[-1])

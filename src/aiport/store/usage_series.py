"""Usage over time: the usage rows summed per time bucket, key and requested model.

This is what the console's usage charts draw. Buckets are aligned to multiples of their
width in Unix time, so two calls agree on where a bucket starts; a bucket with no request
has no row (the charts show it as zero). Changes made through the admin API (and `/me`
requests, which earlier versions recorded) are left out unless `include_admin`
asks for them; read-only admin and console requests are no usage rows at all.
"""

from __future__ import annotations

import math
import time
from typing import Any

from aiport.errors import InvalidRequest
from aiport.store.database import Database

MAX_BUCKETS = 500
_NICE_WIDTHS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)


def bucket_width(since: float, until: float, wanted: float | None = None) -> int:
    """The bucket width in seconds: `wanted` if it gives at most `MAX_BUCKETS` buckets,
    else (or when not given) the first round width that gives at most ~60."""
    span = max(round(until - since), 1)  # `until` is read a moment after `since`
    if wanted is not None:
        if not math.isfinite(wanted) or wanted < 1:
            raise InvalidRequest("`bucket` must be a number of seconds ≥ 1.", param="bucket")
        if span / wanted > MAX_BUCKETS:
            raise InvalidRequest(
                f"`bucket` is too small for this range (at most {MAX_BUCKETS} buckets).",
                param="bucket",
            )
        return int(wanted)
    for width in _NICE_WIDTHS:
        if span / width <= 60:
            return width
    return math.ceil(span / 60 / 86400) * 86400


async def usage_series(
    db: Database,
    since: float,
    until: float | None = None,
    bucket: float | None = None,
    key_id: str | None = None,
    include_admin: bool = False,
) -> dict[str, Any]:
    """Rows of `{t, key_id, key_name, key_prefix, model, requests, errors, prompt_tokens,
    completion_tokens, total_tokens, cost_usd, latency_ms_avg, latency_ms_max}` ordered by
    time, with the `bucket_seconds`, `since` and `until` they cover."""
    until = time.time() if until is None else until
    if until <= since:
        raise InvalidRequest("`until` must be after `since`.", param="until")
    width = bucket_width(since, until, bucket)
    # FLOOR is missing from SQLite builds without math functions; CAST truncates, which
    # is the floor for the positive times stored here. PostgreSQL's CAST would round.
    start = (
        "CAST(u.created_at / $1 AS INTEGER)"
        if db.dialect == "sqlite"
        else "FLOOR(u.created_at / $1)"
    )
    args: list[Any] = [float(width), float(since), float(until)]
    where = "u.created_at >= $2 AND u.created_at < $3"
    if not include_admin:
        where += (
            " AND u.endpoint NOT LIKE '/admin/%' AND u.endpoint <> '/me'"
            " AND u.endpoint NOT LIKE '/me/%'"
        )
    if key_id is not None:
        args.append(key_id)
        where += f" AND u.key_id = ${len(args)}"
    rows = await db.fetch(
        f"SELECT {start} AS n, u.key_id, k.name AS key_name, k.prefix AS key_prefix,"
        " u.model_requested AS model, COUNT(*) AS requests,"
        " SUM(CASE WHEN u.status >= 400 THEN 1 ELSE 0 END) AS errors,"
        " SUM(u.prompt_tokens) AS prompt_tokens, SUM(u.completion_tokens) AS completion_tokens,"
        " SUM(u.cost_usd) AS cost_usd, AVG(u.latency_ms) AS latency_ms_avg,"
        " MAX(u.latency_ms) AS latency_ms_max"
        f" FROM usage_records u LEFT JOIN api_keys k ON k.id = u.key_id WHERE {where}"
        " GROUP BY n, u.key_id, k.name, k.prefix, u.model_requested"
        " ORDER BY n, u.key_id, u.model_requested",
        *args,
    )
    data = []
    for row in rows:
        prompt, completion = int(row["prompt_tokens"] or 0), int(row["completion_tokens"] or 0)
        data.append(
            {
                "t": int(row.pop("n")) * width,
                **row,
                "requests": int(row["requests"]),
                "errors": int(row["errors"] or 0),
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "cost_usd": round(float(row["cost_usd"] or 0), 9),
                "latency_ms_avg": _rounded(row["latency_ms_avg"]),
                "latency_ms_max": _rounded(row["latency_ms_max"]),
            }
        )
    return {
        "object": "usage.series",
        "bucket_seconds": width,
        "since": since,
        "until": until,
        "data": data,
    }


def _rounded(value: Any) -> float | None:
    return round(float(value), 1) if value is not None else None

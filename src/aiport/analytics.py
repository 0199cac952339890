"""What `GET /admin/usage` and `aiport usage` share: reading the grouping and the range
from their parameters, running `usage_analytics`, and printing it as a table.

Parameters (query string or CLI flags): `by` (comma-separated: key, model, served_model,
provider, endpoint and one of hour/day; default key,model), `since` and `until` (ISO times
or durations before now such as `7d`; default: all time until now), and the filters `key`,
`model` and `provider`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from argparse import Namespace
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiport.errors import APIError, InvalidRequest
from aiport.keyservice import parse_time
from aiport.store.database import Database, open_database
from aiport.store.migrations import upgrade
from aiport.store.usage_analytics import DIMENSIONS, parse_by, usage_analytics

FILTERS = ("key", "model", "provider")


async def grouped_usage(db: Database, params: Mapping[str, str | None]) -> dict[str, Any]:
    """The `/admin/usage` answer for `params`: `{object, by, since, until, data}`."""
    by = parse_by(params.get("by"))
    since_text, until_text = params.get("since"), params.get("until")
    since = parse_time(since_text, "since") if since_text else None
    until = parse_time(until_text, "until") if until_text else time.time()
    for name in FILTERS:
        value = params.get(name)
        if value is not None and len(value) > 200:
            raise InvalidRequest(f"`{name}` is too long.", param=name)
    rows = await usage_analytics(
        db,
        by,
        since=since,
        until=until,
        key_id=params.get("key"),
        model=params.get("model"),
        provider=params.get("provider"),
    )
    return {"object": "list", "by": list(by), "since": since, "until": until, "data": rows}


def add_cli_command(commands: Any) -> None:
    """`aiport usage [--by key,model] [--since 7d] [--until …] [--key ID] [--model M]
    [--provider P] [--json]`."""
    usage = commands.add_parser("usage", help="usage grouped by key, model, provider, time")
    usage.add_argument("--by", help=f"comma-separated, from: {', '.join(DIMENSIONS)}")
    usage.add_argument("--since", help="ISO date/time or a duration such as 1h or 7d")
    usage.add_argument("--until", help="ISO date/time or a duration (default: now)")
    usage.add_argument("--key", help="only this key id")
    usage.add_argument("--model", help="only this requested model")
    usage.add_argument("--provider", help="only this provider (or local engine)")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(handler=run_usage)


def run_usage(args: Namespace, database_url: str, redis_url: str | None = None) -> int:
    async def main() -> None:
        db = open_database(database_url)
        await db.connect()
        try:
            await upgrade(db)
            params = {name: getattr(args, name) for name in ("by", "since", "until", *FILTERS)}
            report = await grouped_usage(db, params)
        finally:
            await db.close()
        if args.json:
            print(json.dumps(report["data"], indent=2, ensure_ascii=False))
        else:
            print_table(report["by"], report["data"])

    try:
        asyncio.run(main())
    except APIError as exc:
        print(f"aiport: {exc.message}", file=sys.stderr)
        return 1
    return 0


_HEADS = {
    "key": ("KEY", "key_id"),
    "model": ("MODEL", "model"),
    "served_model": ("SERVED", "served_model"),
    "provider": ("PROVIDER", "provider"),
    "endpoint": ("ENDPOINT", "endpoint"),
}
_TOTALS = ("REQUESTS", "ERRORS", "PROMPT", "COMPLETION", "USD", "P50 MS", "P95 MS", "TTFT P50")


def print_table(by: Sequence[str], rows: list[dict[str, Any]]) -> None:
    table = [tuple(_heading(name) for name in by) + _TOTALS]
    for r in rows:
        usd = f"{r['cost_usd']:.6f}"
        if r["unpriced_requests"]:
            usd += f" +{r['unpriced_requests']} unpriced"
        totals = (r["requests"], r["errors"], r["prompt_tokens"], r["completion_tokens"])
        table.append(
            (
                *(_cell(name, r) for name in by),
                *map(str, totals),
                usd,
                _ms(r["latency_ms_p50"]),
                _ms(r["latency_ms_p95"]),
                _ms(r["ttft_ms_p50"]),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    unpriced = sum(r["unpriced_requests"] for r in rows)
    if unpriced:
        print(
            f"{unpriced} served without a price (not in USD): give their models a price"
            " under `prices:` in aiport.yaml"
        )


def _heading(name: str) -> str:
    return _HEADS[name][0] if name in _HEADS else name.upper() + " (UTC)"


def _cell(name: str, row: dict[str, Any]) -> str:
    if name in ("hour", "day"):
        when = datetime.fromtimestamp(row["time"], UTC)
        return when.strftime("%Y-%m-%d" if name == "day" else "%Y-%m-%d %H:00")
    value = row[_HEADS[name][1]]
    if name == "key" and row.get("key_prefix"):
        return f"{value} ({row['key_prefix']}…)"
    return str(value) if value is not None else "-"


def _ms(value: float | None) -> str:
    return f"{value:.0f}" if value is not None else "-"

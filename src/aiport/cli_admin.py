"""The `aiport keys|usage|db` commands: argument parsing and printing around `KeyService`
and `analytics` (which only compute).

`add_cli_commands()` registers `keys create|list|revoke`, `usage` and `db upgrade`, whose
handlers take `(args, database_url, redis_url=None)` and return an exit status. A new key
is printed once, as the last line of `keys create`, and never again.
"""

from __future__ import annotations

import asyncio
import json
import sys
from argparse import Namespace
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiport import analytics
from aiport.errors import APIError, InvalidRequest
from aiport.keyservice import KeyService
from aiport.store.database import default_database_url, open_database
from aiport.store.keys import KeyStore
from aiport.store.migrations import upgrade
from aiport.store.usage_analytics import DIMENSIONS


def database_url_for(database_url: str | None, data_dir: str | Path = ".aiport") -> str:
    """`AIPORT_DATABASE_URL` when set, else the SQLite file in the data directory."""
    return database_url or default_database_url(data_dir)


def add_cli_commands(commands: Any) -> None:
    """Register `keys …`, `usage` and `db upgrade` on an argparse subparsers object."""
    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    sub = keys.add_subparsers(title="keys commands", dest="keys_command", required=True)

    create = sub.add_parser("create", help="create a key (printed once, as the last line)")
    create.add_argument("--name", required=True)
    create.add_argument("--models", help="comma-separated model names (default: all)")
    create.add_argument("--rpm", type=int, help="requests per minute")
    create.add_argument("--tpm", type=int, help="tokens per minute")
    create.add_argument("--max-tokens-total", type=int, help="lifetime token budget")
    create.add_argument("--max-budget", type=float, help="lifetime budget in USD")
    create.add_argument("--expires", help="ISO date/time (UTC if no zone) or e.g. 30d")
    create.set_defaults(handler=run_keys_create)

    listing = sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_keys_list)

    revoke = sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    revoke.set_defaults(handler=run_keys_revoke)

    db = commands.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(title="db commands", dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply schema migrations").set_defaults(
        handler=run_db_upgrade
    )

    # aiport usage [--by key,model] [--since 7d] [--until …] [--key ID] [--model M]
    # [--provider P] [--json]
    usage = commands.add_parser("usage", help="usage grouped by key, model, provider, time")
    usage.add_argument("--by", help=f"comma-separated, from: {', '.join(DIMENSIONS)}")
    usage.add_argument("--since", help="ISO date/time or a duration such as 1h or 7d")
    usage.add_argument("--until", help="ISO date/time or a duration (default: now)")
    usage.add_argument("--key", help="only this key id")
    usage.add_argument("--model", help="only this requested model")
    usage.add_argument("--provider", help="only this provider (or local engine)")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(handler=run_usage)


def run_keys_create(args: Namespace, database_url: str, redis_url: str | None = None) -> int:
    async def go(store: KeyStore) -> None:
        models = None
        if args.models is not None:
            models = [m.strip() for m in args.models.split(",") if m.strip()]
        record, key = await KeyService(store).create(
            args.name,
            models=models,
            rpm=args.rpm,
            tpm=args.tpm,
            max_tokens_total=args.max_tokens_total,
            max_budget=args.max_budget,
            expires=args.expires,
        )
        info = record.public()
        print(f"created key {record.id} ({record.prefix}…) named {record.name!r}")
        print(f"  models:  {', '.join(record.models) if record.models else 'all'}")
        print(f"  limits:  {_limits(info)}")
        print(f"  expires: {_when(record.expires_at)}")
        print("Store this key now; it is not shown again:")
        print(key)

    return _run(database_url, go)


def run_keys_list(args: Namespace, database_url: str, redis_url: str | None = None) -> int:
    async def go(store: KeyStore) -> None:
        rows = await KeyService(store).list_keys()
        if args.json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        table = [("ID", "NAME", "PREFIX", "STATUS", "MODELS", "LIMITS", "TOKENS", "SPEND USD")]
        for r in rows:
            table.append(
                (
                    r["id"],
                    r["name"],
                    r["prefix"],
                    r["status"],
                    ",".join(r["models"]) if r["models"] else "all",
                    _limits(r),
                    _of(r["tokens_used"], r["max_tokens_total"]),
                    _of(f"{r['spend_usd']:.4f}", r["max_budget_usd"]),
                )
            )
        _print_table(table)

    return _run(database_url, go)


def run_keys_revoke(args: Namespace, database_url: str, redis_url: str | None = None) -> int:
    async def go(store: KeyStore) -> None:
        from aiport.keycache import KeyCache
        from aiport.limits import open_redis

        # Through a KeyCache so that running servers hear of it over Redis at once; without
        # Redis they notice the version bump in the database within a second.
        redis = open_redis(redis_url) if redis_url else None
        try:
            info = await KeyService(store, KeyCache(store, redis=redis)).revoke(args.id)
        finally:
            if redis is not None:
                await redis.aclose()
        print(f"revoked key {info['id']} ({info['prefix']}…)")

    return _run(database_url, go)


def run_usage(args: Namespace, database_url: str, redis_url: str | None = None) -> int:
    try:
        analytics.time_range(vars(args))  # flags that contradict each other: a usage error
    except InvalidRequest as exc:
        print(f"aiport: {exc.message}", file=sys.stderr)
        return 2

    async def go(store: KeyStore) -> None:
        names = ("by", "since", "until", *analytics.FILTERS)
        params = {name: getattr(args, name) for name in names}
        report = await analytics.grouped_usage(store.db, params)
        if args.json:
            print(json.dumps(report["data"], indent=2, ensure_ascii=False))
        else:
            _print_usage(report["by"], report["data"])

    return _run(database_url, go)


def run_db_upgrade(args: Namespace, database_url: str, redis_url: str | None = None) -> int:
    async def go(store: KeyStore) -> None:
        pass  # _run has upgraded already; say what it did

    return _run(database_url, go, report_upgrade=True)


def _run(
    database_url: str,
    action: Callable[[KeyStore], Awaitable[None]],
    *,
    report_upgrade: bool = False,
) -> int:
    async def main() -> None:
        db = open_database(database_url)
        await db.connect()
        try:
            applied = await upgrade(db)
            if report_upgrade:
                print(f"applied migrations {applied}" if applied else "schema is up to date")
            await action(KeyStore(db))
        finally:
            await db.close()

    try:
        asyncio.run(main())
    except APIError as exc:
        print(f"aiport: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _limits(info: dict[str, Any]) -> str:
    parts = [
        f"{label} {info[name]}"
        for name, label in (("rpm", "rpm"), ("tpm", "tpm"))
        if info.get(name) is not None
    ]
    return ", ".join(parts) or "none"


def _of(used: object, cap: object) -> str:
    return f"{used}/{cap}" if cap is not None else str(used)


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else "never"


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


_HEADS = {
    "key": ("KEY", "key_id"),
    "model": ("MODEL", "model"),
    "served_model": ("SERVED", "served_model"),
    "provider": ("PROVIDER", "provider"),
    "endpoint": ("ENDPOINT", "endpoint"),
}
_TOTALS = ("REQUESTS", "ERRORS", "PROMPT", "COMPLETION", "USD", "P50 MS", "P95 MS", "TTFT P50")


def _print_usage(by: Sequence[str], rows: list[dict[str, Any]]) -> None:
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
    _print_table(table)
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

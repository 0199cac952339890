"""The admin API under /admin/: keys and usage, for the master key only.

A per-caller key is refused with 403 whatever it asks, so no key can widen its own scope.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from aiport import analytics
from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.middleware import unmetered
from aiport.api.responses import json_response, response_headers
from aiport.errors import InvalidRequest, PermissionDenied
from aiport.keyservice import parse_time
from aiport.protocol.admin import KeyCreateRequest, KeyUpdateRequest
from aiport.store.probe import probe_database, probe_redis
from aiport.store.usage_analytics import usage_analytics
from aiport.store.usage_series import usage_series as read_usage_series


def _require_admin(request: web.Request) -> None:
    caller = context(request).caller
    if caller is None or not caller.is_admin:
        raise PermissionDenied("The admin API needs the master key.")


@unmetered
async def list_keys(request: web.Request) -> web.Response:
    _require_admin(request)
    keys = await services(request).accounts.keys.list_keys()
    return json_response(request, {"object": "list", "data": keys})


async def create_key(request: web.Request) -> web.Response:
    _require_admin(request)
    body = validate(KeyCreateRequest, await read_json(request, 64 * 1024))
    record, key = await services(request).accounts.keys.create(
        body.name,
        models=body.models,
        rpm=body.rpm,
        tpm=body.tpm,
        max_tokens_total=body.max_tokens_total,
        max_budget=body.max_budget,
        expires=body.expires,
    )
    # The one time the key is shown; it is stored hashed.
    return web.json_response(
        {**record.public(), "key": key}, status=201, headers=response_headers(request)
    )


async def revoke_key(request: web.Request) -> web.Response:
    _require_admin(request)
    revoked = await services(request).accounts.keys.revoke(request.match_info["id"])
    return json_response(request, revoked)


async def update_key(request: web.Request) -> web.Response:
    """`PATCH /admin/keys/{id}`: change a key's name, models, limits or expiry."""
    _require_admin(request)
    body = validate(KeyUpdateRequest, await read_json(request, 64 * 1024))
    updated = await services(request).accounts.keys.update(request.match_info["id"], body.changes())
    return json_response(request, updated)


@unmetered
async def usage(request: web.Request) -> web.Response:
    """`GET /admin/usage?by=&since=&until=&key=&model=&provider=` (see `aiport.analytics`)."""
    _require_admin(request)
    report = await analytics.grouped_usage(services(request).accounts.db, request.query)
    return json_response(request, report)


@unmetered
async def usage_series(request: web.Request) -> web.Response:
    """`GET /admin/usage/series?since=24h&until=&bucket=SECONDS&key=&admin=1`: usage over
    time (`admin=1` counts admin-API requests too)."""
    _require_admin(request)
    return json_response(request, await series_for(request, request.query.get("key")))


async def series_for(request: web.Request, key_id: str | None) -> dict[str, Any]:
    """The usage series the query asks for (`since` defaults to 24h ago), for one key or
    all (`key_id` None), and its `totals`: `/admin/usage`'s sums by key and model for the
    same range, every request counted, exactly what `aiport usage` prints for it."""
    query = request.query
    since = parse_time(query.get("since") or "24h", "since")
    until = parse_time(query["until"], "until") if query.get("until") else time.time()
    bucket = query.get("bucket")
    try:
        width = float(bucket) if bucket else None
    except ValueError:
        raise InvalidRequest("`bucket` must be a number of seconds.", param="bucket") from None
    db = services(request).accounts.db
    series = await read_usage_series(
        db,
        since,
        until=until,
        bucket=width,
        key_id=key_id,
        include_admin=query.get("admin") in ("1", "true"),
    )
    series["totals"] = await usage_analytics(db, since=since, until=until, key_id=key_id)
    return series


@unmetered
async def storage(request: web.Request) -> web.Response:
    """`GET /admin/storage`: is the database (and Redis) answering; usage rows waiting."""
    _require_admin(request)
    accounts = services(request).accounts
    database = await probe_database(accounts.db)
    database |= {
        "usage_rows_pending": accounts.writer.pending,
        "usage_rows_dropped": accounts.writer.dropped,
    }
    return json_response(
        request,
        {"object": "storage", "database": database, "redis": await probe_redis(accounts.redis)},
    )

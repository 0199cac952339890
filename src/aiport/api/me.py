"""What any key may learn about itself: `GET /me` (who am I, my limits and spend) and
`GET /me/usage` (my usage over time). The console signs in with `/me`.

A per-caller key sees its own record only; the master key is told it is the master key
(and finds everyone's usage under `/admin/usage/series`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aiport.api.admin import series_for
from aiport.api.context import context, services
from aiport.api.middleware import unmetered
from aiport.api.responses import json_response
from aiport.auth import Caller


@unmetered
async def me(request: web.Request) -> web.Response:
    caller = _caller(request)
    if caller.is_admin:
        return json_response(request, {"object": "caller", "id": caller.key_id, "admin": True})
    store = services(request).accounts.store
    record = await store.get(caller.key_id)
    info: dict[str, Any] = record.public() if record is not None else {"id": caller.key_id}
    spend = await store.spend(caller.key_id)
    info |= {
        "object": "caller",
        "admin": False,
        "tokens_used": spend.tokens,
        "spend_usd": round(spend.cost_usd, 9),
    }
    return json_response(request, info)


@unmetered
async def my_usage(request: web.Request) -> web.Response:
    caller = _caller(request)
    key_id = None if caller.is_admin else caller.key_id
    return json_response(request, await series_for(request, key_id))


def _caller(request: web.Request) -> Caller:
    caller = context(request).caller
    assert caller is not None  # the gateway authenticated this request
    return caller

"""The admin API under /admin/: keys and usage, for the master key only.

A per-caller key is refused with 403 whatever it asks, so no key can widen its own scope.
"""

from __future__ import annotations

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.responses import json_response, response_headers
from aiport.errors import PermissionDenied
from aiport.protocol.admin import KeyCreateRequest


def _require_admin(request: web.Request) -> None:
    caller = context(request).caller
    if caller is None or not caller.is_admin:
        raise PermissionDenied("The admin API needs the master key.")


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


async def usage(request: web.Request) -> web.Response:
    _require_admin(request)
    totals = await services(request).accounts.keys.usage(
        key_id=request.query.get("key"),
        since=request.query.get("since"),
    )
    return json_response(request, {"object": "list", "data": totals})

"""POST /moderations."""

from __future__ import annotations

import orjson
from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import cached, cached_response, keep, route, serve
from aiport.api.responses import json_response
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.moderations import ModerationRequest


async def create_moderation(request: web.Request) -> web.Response:
    ctx = context(request)
    body = await read_json(request, services(request).settings.max_json_bytes)
    moderation = validate(ModerationRequest, body)
    estimate = Estimate(prompt_tokens=estimate_prompt_tokens({"input": body.get("input")}))
    group = await route(request, moderation.model, estimate, kind="moderation")
    lookup = await cached(request, group, "moderations", body)
    if lookup is not None and lookup.answer is not None:
        return cached_response(request, lookup)
    served = await serve(request, group, moderation, body, lambda b, c: b.moderate(c))
    result = served.result
    ctx.usage, ctx.usage_reported = result.usage, True
    keep(request, lookup, group, served, result.raw or orjson.dumps(result.data))
    return json_response(request, result)

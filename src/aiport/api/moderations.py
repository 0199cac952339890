"""POST /moderations."""

from __future__ import annotations

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import services
from aiport.api.dispatch import answer, cached, cached_response, route, serve
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.moderations import ModerationRequest


async def create_moderation(request: web.Request) -> web.Response:
    body = await read_json(request, services(request).settings.max_json_bytes)
    moderation = validate(ModerationRequest, body)
    estimate = Estimate(prompt_tokens=estimate_prompt_tokens({"input": body.get("input")}))
    group = await route(request, moderation.model, estimate, kind="moderation")
    lookup = await cached(request, group, "moderations", body)
    if lookup is not None and lookup.answer is not None:
        return cached_response(request, lookup)
    served = await serve(request, group, moderation, body, lambda b, c: b.moderate(c))
    return answer(request, lookup, group, served, settle=False)

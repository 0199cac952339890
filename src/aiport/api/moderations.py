"""POST /moderations."""

from __future__ import annotations

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import build_call, route
from aiport.api.responses import json_response
from aiport.metering import Estimate, estimate_prompt_tokens
from aiport.protocol.moderations import ModerationRequest


async def create_moderation(request: web.Request) -> web.Response:
    ctx = context(request)
    body = await read_json(request, services(request).settings.max_json_bytes)
    moderation = validate(ModerationRequest, body)
    estimate = Estimate(prompt_tokens=estimate_prompt_tokens({"input": body.get("input")}))
    target = await route(request, moderation.model, estimate, kind="moderation")
    call = build_call(request, target, moderation, body, moderation.model)
    result = await target.backend.moderate(call)
    ctx.usage, ctx.usage_reported = result.usage, True
    return json_response(request, result)
